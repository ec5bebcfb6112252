"""Skill matching benchmark: answers must come from the keyword index, not from every post.

Builds one group with 10,000 open skill posts (2,000 members, five posts each, skills drawn
from a vocabulary of 600: 60 topics, Chinese and English, each plain or with one of nine
modifiers such as 入门 or 进阶), times what ``/我会``, ``/我想学`` and ``/匹配`` do in the
database and in Python (CPU of this process, SQLite in it; median of repeated runs, each in
a transaction rolled back), then grows the group to 100,000 posts (20,000 members, the same
vocabulary) and times them again. The baseline, in the same run, is what the bot did before
the index: read every open post of the group and compare each member with each post
(``rank`` over all posts), at 10,000 posts.

Usage: ``python -m bench.skills_bench [--posts 10000] [--growth 10] [--out FILE]``.
Targets: each answer ≤ 20 ms of CPU at 10,000 posts, and ≤ 1.5× that at 100,000.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.report import report
from domain.skill_match import index_terms, keywords, normalise, rank
from domain.skills import add_post as store_post
from domain.skills import as_post, best_matches, partners
from storage.db import Database
from storage.skills import SkillRepo

GROUP = "cid-skills-bench"
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
TOPICS = [
    "视频剪辑", "短视频", "摄影", "手机摄影", "摄影后期", "吉他", "古典吉他", "钢琴", "尤克里里",
    "唱歌", "国画", "油画", "素描", "书法", "烹饪", "烘焙", "咖啡", "茶艺", "插花", "编织",
    "python", "java", "javascript", "excel", "ppt", "word", "photoshop", "数据分析", "机器学习",
    "英语口语", "日语", "韩语", "法语", "普通话", "演讲", "写作", "公文写作", "新媒体运营",
    "瑜伽", "跑步", "游泳", "羽毛球", "乒乓球", "篮球", "健身", "太极", "围棋", "象棋",
    "理财", "会计", "法律咨询", "心理咨询", "育儿", "急救", "维修电脑", "家电维修", "木工",
    "园艺", "宠物训练", "化妆",
]  # fmt: skip
MODIFIERS = ["", "入门", "进阶", "基础", "实战", "技巧", "零基础", "高级", "速成", "教学"]
VOCABULARY = [f"{t}{m}" for t in TOPICS for m in MODIFIERS]


async def build_names(db: Database) -> dict[str, int]:
    """Index every skill of the vocabulary once; the id of each."""
    ids = {}
    async with db.transaction() as session:
        repo = SkillRepo(session)
        for skill in VOCABULARY:
            norm, words = normalise(skill), keywords(skill)
            ids[skill] = await repo.name_for(
                GROUP, norm, " ".join(sorted(words)), index_terms(norm, words)
            )
    return ids


def add_posts(path: Path, names: dict[str, int], first: int, count: int, seed: int) -> None:
    """Add ``count`` open posts by members ``first // 5 …``, five posts each."""
    rnd = random.Random(seed)
    words = {s: " ".join(sorted(keywords(s))) for s in VOCABULARY}
    stamp = NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    rows = []
    for i in range(first, first + count):
        skill = rnd.choice(VOCABULARY)
        kind = rnd.choice(("offer", "want"))
        rows.append((GROUP, f"u{i // 5:05d}", "", kind, skill, words[skill], stamp, names[skill]))
    con.executemany(
        "INSERT INTO skill_posts (conversation_id, staff_id, nick, kind, skill, keywords,"
        " detail, status, created_at, name_id) VALUES (?, ?, ?, ?, ?, ?, '', 'open', ?, ?)",
        rows,
    )
    con.commit()
    con.execute("ANALYZE")
    con.close()


async def cpu_ms(db: Database, work: Callable[[SkillRepo], Awaitable[Any]], reps: int) -> float:
    """Median CPU milliseconds of ``work`` in a transaction that is rolled back."""
    samples = []
    for _ in range(reps):
        async with db.sessions() as session:
            await session.begin()
            repo = SkillRepo(session)
            start = time.process_time()
            await work(repo)
            samples.append((time.process_time() - start) * 1000)
            await session.rollback()
    return round(statistics.median(samples), 2)


async def measure(db: Database, members: int, seed: int, reps: int) -> dict[str, float]:
    """CPU of each command's matching work, over members picked at random."""
    rnd = random.Random(seed)

    def member() -> str:
        return f"u{rnd.randrange(members):05d}"

    async def offer(repo: SkillRepo, kind: str = "offer") -> None:
        post = await store_post(
            repo,
            conversation_id=GROUP,
            staff_id=member(),
            nick="",
            kind=kind,
            skill=rnd.choice(VOCABULARY),
            detail="",
            now=NOW,
        )
        await best_matches(repo, post)

    async def want(repo: SkillRepo) -> None:
        await offer(repo, "want")

    async def match(repo: SkillRepo) -> None:
        await partners(repo, GROUP, member(), set())

    return {
        "offer_ms": await cpu_ms(db, offer, reps),
        "want_ms": await cpu_ms(db, want, reps),
        "match_ms": await cpu_ms(db, match, reps),
    }


async def baseline(db: Database, members: int, reps: int) -> dict[str, float]:
    """What ``/匹配`` cost before the index: every open post read and compared."""
    rnd = random.Random(1)

    async def match_all(repo: SkillRepo) -> None:
        posts = await repo.open_posts(GROUP)
        rank(f"u{rnd.randrange(members):05d}", [as_post(p) for p in posts], set())

    return {"match_every_post_ms": await cpu_ms(db, match_all, reps)}


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--growth", type=int, default=10)
    parser.add_argument("--reps", type=int, default=25)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "skills.sqlite3"
        db = Database(f"sqlite:///{path}")
        await db.migrate()
        keywords("预热")  # the dictionary loads once, outside the timings
        names = await build_names(db)
        started = time.perf_counter()
        add_posts(path, names, 0, args.posts, seed=1)
        before = await measure(db, args.posts // 5, seed=2, reps=args.reps)
        old = await baseline(db, args.posts // 5, reps=3)
        total = args.posts * args.growth
        add_posts(path, names, args.posts, total - args.posts, seed=3)
        after = await measure(db, total // 5, seed=2, reps=args.reps)
        generate_s = round(time.perf_counter() - started, 1)
        await db.dispose()
    worst_before = max(before.values())
    worst_after = max(after.values())
    result = {
        "posts": args.posts,
        "posts_after_growth": total,
        "vocabulary": len(VOCABULARY),
        "cpu_ms": before,
        "cpu_ms_after_growth": after,
        "baseline_every_post_cpu_ms": old,
        "worst_ms": worst_before,
        "growth_ratio": round(worst_after / worst_before, 2),
        "speedup_vs_every_post": round(old["match_every_post_ms"] / before["match_ms"], 1),
        "generate_s": generate_s,
        "targets": {"worst_ms": "<= 20", "growth_ratio": "<= 1.5"},
    }
    return report(result, args.out)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
