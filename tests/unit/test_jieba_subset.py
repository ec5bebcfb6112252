"""The bot's jieba dictionary subset cuts skills exactly as rjieba's whole dictionary does.

``domain.skill_match`` loads 56,654 of the 349,046 words of jieba's dictionary (33 MB
resident saved, issue 15); keywords stored for skill names and keywords of new posts must
still be the same words, or the keyword index would miss matches.
"""

from __future__ import annotations

import rjieba  # the whole default dictionary, in this test process only

from bench.jieba_subset import phrases
from bench.skills_bench import VOCABULARY
from domain.skill_match import DICTIONARY, TOKENIZER, keywords, normalise

FULL = rjieba.Jieba()


def _same(texts: list[str]) -> list[str]:
    return [t for t in texts if TOKENIZER.cut_for_search(t) != FULL.cut_for_search(t)]


def test_the_skill_vocabulary_is_cut_as_with_the_whole_dictionary() -> None:
    texts = [normalise(s) for s in VOCABULARY]
    assert len(texts) >= 600
    assert not _same(texts)
    for skill in VOCABULARY:
        words = set()
        for token in FULL.cut_for_search(normalise(skill)):
            token = token.strip()
            if token and any(c.isalnum() for c in token) and (len(token) >= 2 or token.isascii()):
                words.add(token)
        assert keywords(skill) == words, skill


def test_skill_like_phrases_are_cut_as_with_the_whole_dictionary() -> None:
    # Prefixed and suffixed skills (教…, 零基础学…入门) and pairs of skills written together:
    # words across the seams must be found as with the whole dictionary.
    texts = [normalise(p) for p in phrases()]
    assert len(texts) > 10_000
    assert not _same(texts)


def test_every_word_of_the_subset_is_cut_as_with_the_whole_dictionary() -> None:
    # 56,654 words, every word of jieba's corpus counted 50 times or more among them: what
    # members write is mostly made of these.
    words = [
        line.split()[0]
        for line in DICTIONARY.read_text(encoding="utf-8").splitlines()
        if not line.startswith("#")
    ]
    assert len(words) > 50_000
    assert not _same(words)
