"""Honest-likes benchmark: score a million likes, next to merely reading them.

Generates one group with members, stories and likes (organic likes plus bursts of fresh
accounts, reciprocal rings and like-only accounts) in a fresh SQLite file, then times:

* read: loading the scorer's input (likes joined to stories, member signals) from the database
  over a connection of its own, as the re-scoring's worker process does
  (``domain.likes_worker.read_group``);
* score: turning that into columns, computing every weight (``domain.honest_likes``) and
  finding what changed against the weights on record (``domain.likes_worker.score_group``);
* rescore: the whole job the bot runs (``domain.likes.rescore``: the worker process reads and
  scores, the loop writes the changed weights and counts), with the longest the event loop
  was held meanwhile (``bench.probe.LoopProbe``), the worker's peak resident memory, and a
  second run (worker warm, nothing left to change).

Usage: ``python -m bench.likes_bench [--likes 1000000] [--backend sqlite|postgresql]``.
Target: score ≤ 2 s. On PostgreSQL the generated history is copied into a fresh database.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
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
from bot.cli import settle_heap
from bot.clock import ManualClock
from bot.config import load_settings
from bot.context import JobContext
from domain.likes import WORKER, rescore
from domain.likes_worker import read_group_async, score_group
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

    started = time.perf_counter()
    group = await read_group_async(url, GROUP)
    read = time.perf_counter() - started

    started = time.perf_counter()
    scores, outcome = score_group(group, settings.likes, settings.bot.tz)
    scoring = time.perf_counter() - started
    del group

    WORKER.stop()  # a cold start: the job's figure includes starting the worker process
    # As ``community-bot run`` does after start-up: what is alive now (this benchmark's
    # imports and set-up) is out of the garbage collector's sight.
    settle_heap()
    async with LoopProbe() as probe, db.transaction() as session:
        started = time.perf_counter()
        await rescore(ctx_for(session), GROUP)
        job = time.perf_counter() - started
    worker_peak = max((_peak_kb(p.pid) for p in multiprocessing.active_children()), default=0)
    async with LoopProbe() as again, db.transaction() as session:
        started = time.perf_counter()
        await rescore(ctx_for(session), GROUP)
        warm = time.perf_counter() - started
    WORKER.stop()
    await db.dispose()
    discounted = int((scores.weight < 1).sum())
    return {
        "read_s": round(read, 3),
        "score_s": round(scoring, 3),
        "score_to_read": round(scoring / read, 2),
        "rescore_job_s": round(job, 3),
        # The longest the loop was held (its thread's CPU between two 1 ms wake-ups) during
        # the whole job, commit included: the worker reads and scores, the loop writes.
        "rescore_longest_stall_ms": round(probe.longest_cpu * 1000, 1),
        "rescore_stretches_over_20ms": probe.over_20ms,
        "rescore_changed_likes": len(outcome.like_ids),
        "rescore_changed_stories": len(outcome.story_ids),
        "worker_peak_rss_mb": round(worker_peak / 1024, 1),
        "rescore_again_s": round(warm, 3),
        "rescore_again_longest_stall_ms": round(again.longest_cpu * 1000, 1),
        "likes_scored": len(scores.weight),
        "discounted": discounted,
        "bursts": len(scores.bursts),
        "rings": len(scores.rings),
        "like_only_members": len(scores.like_only),
        "target": "score_s <= 2.0",
    }


def _peak_kb(pid: int | None) -> int:
    """A process's peak resident memory so far (Linux: VmHWM in /proc), in kB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


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
