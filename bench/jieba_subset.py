"""Make ``domain/data/jieba_subset.txt``: the part of jieba's dictionary the bot segments with.

jieba-rs (through rjieba) builds its whole default dictionary, 349,046 words, about 33 MB
resident, as soon as ``rjieba`` is imported. The bot cuts short skill names only, so it
loads a subset (``domain.skill_match``): every word at least ``--min-freq`` times in jieba's
corpus counts (52,000 words at 50), every dictionary word inside one of those, and every
dictionary word inside a skill-like phrase of ``phrases()``. jieba's route through a text
depends only on the dictionary words inside that text, their counts and the dictionary's
total count; the file keeps all three (the total on its first line), so a text whose
dictionary words are all in the subset is cut exactly as by the whole dictionary
(``tests/unit/test_jieba_subset.py`` compares them).

Usage: ``python -m bench.jieba_subset DICT.TXT [--min-freq 50] > domain/data/jieba_subset.txt``
where DICT.TXT is jieba's ``dict.txt`` (jieba 0.42.1 on PyPI, ``jieba/dict.txt``; MIT
licence, Copyright (c) 2013 Sun Junyi; jieba-rs ships the same file as its default).
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterable

from bench.skills_bench import VOCABULARY

# Skills members write that the benchmark's vocabulary does not have.
EXTRA = [
    "修自行车", "包饺子", "太极拳", "广场舞", "智能手机使用", "微信视频通话", "给孩子辅导作业",
    "钢琴陪练", "粤语", "手语", "做川菜", "带娃", "老年人用手机", "剪映", "抖音运营", "直播带货",
    "ps修图", "excel函数", "公众号排版", "心肺复苏", "短视频剪辑", "ppt设计", "视频剪辑",
]  # fmt: skip
PREFIXES = ["", "教", "学", "会", "想学", "零基础学", "帮忙", "周末", "可以教", "小朋友"]
SUFFIXES = ["", "入门", "课", "教学", "经验", "和英语", "技巧分享", "陪练"]


def phrases(seed: int = 1) -> list[str]:
    """Skill-like phrases: the vocabulary, with prefixes and suffixes, and pairs of skills."""
    rnd = random.Random(seed)
    out = set(VOCABULARY) | set(EXTRA)
    for skill in VOCABULARY + EXTRA:
        for prefix in PREFIXES:
            for suffix in SUFFIXES:
                if rnd.random() < 0.15:
                    out.add(prefix + skill + suffix)
    for _ in range(3000):
        a, b = rnd.choice(VOCABULARY), rnd.choice(VOCABULARY)
        out.update((a + b, f"{a}和{b}"))
    return sorted(out)


def subset(freq: dict[str, int], min_freq: int, texts: Iterable[str]) -> set[str]:
    """The words kept: frequent ones and every dictionary word inside them or ``texts``."""
    longest = max(map(len, freq))

    def inside(text: str) -> set[str]:
        return {
            text[i:j]
            for i in range(len(text))
            for j in range(i + 1, min(len(text), i + longest) + 1)
            if text[i:j] in freq
        }

    kept: set[str] = set()
    for word in [w for w, f in freq.items() if f >= min_freq] + list(texts):
        kept |= inside(word)
    return kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dictionary")
    parser.add_argument("--min-freq", type=int, default=50)
    args = parser.parse_args(argv)
    from domain.skill_match import normalise

    freq: dict[str, int] = {}
    with open(args.dictionary, encoding="utf-8") as lines:
        for line in lines:
            word, count, *_ = line.split()
            freq[word] = int(count)
    kept = subset(freq, args.min_freq, (normalise(p) for p in phrases()))
    out = sys.stdout
    out.write(f"# total {sum(freq.values())}\n")
    out.write(
        f"# jieba 0.42.1 dict.txt (MIT, Copyright (c) 2013 Sun Junyi): {len(kept)} of "
        f"{len(freq)} words; made by `python -m bench.jieba_subset dict.txt "
        f"--min-freq {args.min_freq}`\n"
    )
    for word in sorted(kept):
        out.write(f"{word} {freq[word]}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
