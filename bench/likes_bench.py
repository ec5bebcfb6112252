"""Honest-likes benchmark: score a million likes, next to merely reading them.

Generates one group with members, stories and likes (organic likes plus bursts of fresh
accounts, reciprocal rings and like-only accounts) in a fresh SQLite file, then times:

* read: loading the scorer's input (likes joined to stories, member signals) from the database;
* score: turning that into columns and computing every weight (``domain.honest_likes``);
* rescore: the whole job the bot runs (read, score, write the changed weights, recount),
  with the longest the event loop was held meanwhile (``bench.probe.LoopProbe``).

Usage: ``python -m bench.likes_bench [--likes 1000000] [--backend sqlite|postgresql]``.
Target: score ≤ 2 s. On PostgreSQL the generated history is copied into a fresh database.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench.backends import BACKENDS, copy_sqlite_into, database
from bench.probe import LoopProbe
from bench.report import job_context, report
from bot.clock import ManualClock
from bot.config import load_settings
from bot.context import JobContext
from domain.honest_likes import score
from domain.likes import rescore, scoring_columns
from storage.db import Database

GROUP = "cid-bench"
T0 = datetime(2026, 1, 1, tzinfo=UTC).timestamp()


def generate(path: Path, n_likes: int, seed: int = 7) -> dict[str, int]:
    """Fill the database with a year of activity in one group."""
    rng = np.random.default_rng(seed)
    n_members = max(1000, n_likes // 20)
    n_stories = max(200, n_likes // 50)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    iso = lambda ts: datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # noqa: E731
    year = 365 * 86400.0
    first_seen = T0 + rng.uniform(0, year * 0.5, n_members)
    like_only = rng.random(n_members) < 0.02
    con.executemany(
        "INSERT INTO members (conversation_id, staff_id, nick, first_seen_at, last_seen_at,"
        " messages, like_messages, dingtalk_admin) VALUES (?, ?, '', ?, ?, ?, ?, 0)",
        (
            (GROUP, f"u{i}", iso(first_seen[i]), iso(first_seen[i]), 0 if like_only[i] else 5, 0)
            for i in range(n_members)
        ),
    )
    authors = rng.integers(0, n_members, n_stories)
    story_time = T0 + rng.uniform(0, year, n_stories)
    con.executemany(
        "INSERT INTO stories (id, conversation_id, author_staff_id, author_nick, title, body,"
        " status, reject_reason, decided_by, created_at, decided_at, likes, genuine_likes)"
        " VALUES (?, ?, ?, '', 't', 'b', 'approved', '', '', ?, ?, 0, 0)",
        (
            (i + 1, GROUP, f"u{authors[i]}", iso(story_time[i]), iso(story_time[i]))
            for i in range(n_stories)
        ),
    )
    # Organic likes: popular stories get more; liked some hours to weeks after posting.
    story = np.r_[rng.zipf(1.3, n_likes) % n_stories, rng.integers(0, n_stories, n_likes * 2)]
    liker = rng.integers(0, n_members, len(story))
    pairs = np.unique(story.astype(np.int64) * n_members + liker)
    pairs = rng.permutation(pairs)
    story, liker = pairs // n_members, pairs % n_members
    at = story_time[story] + rng.exponential(3 * 86400, len(story))
    rows = [(int(s) + 1, f"u{int(m)}", float(t)) for s, m, t in zip(story, liker, at, strict=True)]
    # Bursts: fresh accounts hammering a few stories within a minute.
    taken = set(zip(story.tolist(), liker.tolist(), strict=True))
    burst_accounts = 0
    for b in range(max(1, n_likes // 20000)):
        target = int(rng.integers(0, n_stories))
        start = story_time[target] + 3600
        for k in range(40):
            staff = f"fresh{b}_{k}"
            burst_accounts += 1
            con.execute(
                "INSERT INTO members VALUES (?, ?, '', ?, ?, 0, 0, 0)",
                (GROUP, staff, iso(start - 60), iso(start - 60)),
            )
            rows.append((target + 1, staff, float(start + rng.uniform(0, 50))))
    # Rings: pairs liking each other's stories over and over.
    by_author: dict[int, list[int]] = {}
    for s, a in enumerate(authors.tolist()):
        by_author.setdefault(a, []).append(s)
    prolific = [a for a, s in by_author.items() if len(s) >= 4][:200]
    for a, b in zip(prolific[::2], prolific[1::2], strict=False):
        for s in by_author[b][:4]:
            if (s, a) not in taken:
                rows.append((s + 1, f"u{a}", float(story_time[s] + 600)))
        for s in by_author[a][:4]:
            if (s, b) not in taken:
                rows.append((s + 1, f"u{b}", float(story_time[s] + 600)))
    # Organic likes fill up to the size asked for (bursts and rings come on top of them).
    extras = rows[len(story) :]
    rows = rows[: max(0, n_likes - len(extras))] + extras
    con.executemany(
        "INSERT OR IGNORE INTO likes (story_id, conversation_id, staff_id, created_at, weight,"
        " reasons) VALUES (?, ?, ?, ?, 1.0, '')",
        ((s, GROUP, m, iso(t)) for s, m, t in rows),
    )
    con.commit()
    count = con.execute("SELECT count(*) FROM likes").fetchone()[0]
    con.close()
    return {"likes": count, "members": n_members + burst_accounts, "stories": n_stories}


async def measure(url: str) -> dict[str, Any]:
    settings = load_settings(None, storage={"url": url})
    db = Database(settings.storage.url)
    clock = ManualClock()

    def ctx_for(session: Any) -> JobContext:
        return job_context(settings, clock, session)

    async with db.transaction() as session:
        started = time.perf_counter()
        likes, members, authors = await ctx_for(session).repos.likes.scoring_input(GROUP)
        read = time.perf_counter() - started

    started = time.perf_counter()
    table, signals = scoring_columns(likes, members, authors)
    scores = score(table, signals, settings.likes, settings.bot.tz)
    scoring = time.perf_counter() - started

    async with LoopProbe() as probe, db.transaction() as session:
        started = time.perf_counter()
        await rescore(ctx_for(session), GROUP)
        job = time.perf_counter() - started
    await db.dispose()
    discounted = int((scores.weight < 1).sum())
    return {
        "read_s": round(read, 3),
        "score_s": round(scoring, 3),
        "score_to_read": round(scoring / read, 2),
        "rescore_job_s": round(job, 3),
        # The longest the loop was held (its thread's CPU between two 1 ms wake-ups) during
        # the whole job, commit included: reading, scoring and writing run in steps.
        "rescore_longest_stall_ms": round(probe.longest_cpu * 1000, 1),
        "rescore_stretches_over_20ms": probe.over_20ms,
        "likes_scored": len(table),
        "discounted": discounted,
        "bursts": len(scores.bursts),
        "rings": len(scores.rings),
        "like_only_members": len(scores.like_only),
        "target": "score_s <= 2.0",
    }


async def main_async(n_likes: int, backend: str, server: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "likes.sqlite3"
        db = Database(f"sqlite:///{path}")
        await db.migrate()
        await db.dispose()
        started = time.perf_counter()
        sizes = generate(path, n_likes)
        async with database(backend, Path(tmp), "likes", server) as url:
            if backend != "sqlite":
                db = Database(url)
                await db.migrate()
                await db.dispose()
                await copy_sqlite_into(path, url, ["members", "stories", "likes"])
            generated = time.perf_counter() - started
            result = await measure(url if backend != "sqlite" else f"sqlite:///{path}")
    return {"backend": backend, **sizes, "generate_s": round(generated, 1), **result}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--likes", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=BACKENDS, default="sqlite")
    parser.add_argument(
        "--postgres", default=None, help="server URL (else $COMMUNITY_BOT_TEST_POSTGRES)"
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    result = asyncio.run(main_async(args.likes, args.backend, args.postgres))
    return report(result, args.out)


if __name__ == "__main__":
    sys.exit(main())
