"""Digest benchmark: the cost must follow the week's activity, not all time.

Builds one group with 50,000 members, 100,000 stories, 1,000,000 likes and 1,000 activities
(with sign-ups and hours) spread over a year, times building this week's digest (median
of repeated builds), then adds ten times that history in older weeks and times it again.

Usage: ``python -m bench.digest_bench [--scale 1.0] [--growth 10] [--backend sqlite|postgresql]``.
Targets: the build ≤ 100 ms on SQLite, and ≤ 1.5× that after the growth. On PostgreSQL the
generated history is copied into a fresh database before each timing.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bench.backends import BACKENDS, copy_sqlite_into, database
from bench.report import job_context, report
from bot.clock import ManualClock
from bot.config import load_settings
from handlers.digest import build, render
from storage.db import Database

GROUP = "cid-digest-bench"
SLOT = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
WEEK = 7 * 86400.0


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def add_history(
    path: Path,
    *,
    members: int,
    stories: int,
    likes: int,
    events: int,
    weeks: tuple[float, float],
    seed: int,
    first_story: int,
    first_event: int,
) -> None:
    """Add activity spread over ``weeks`` (weeks before the slot, from, to)."""
    rng = np.random.default_rng(seed)
    end = SLOT.timestamp() - weeks[0] * WEEK
    start = SLOT.timestamp() - weeks[1] * WEEK
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    story_time = rng.uniform(start, end, stories)
    authors = rng.integers(0, members, stories)
    genuine = rng.exponential(3.0, stories)
    con.executemany(
        # Columns named: the tables gain columns (review notices, series) and this must not
        # break each time.
        "INSERT INTO stories (id, conversation_id, author_staff_id, author_nick, title, body,"
        " status, reject_reason, decided_by, created_at, decided_at, likes, genuine_likes)"
        " VALUES (?, ?, ?, '', ?, 'b', 'approved', '', '', ?, ?, ?, ?)",
        (
            (
                first_story + i,
                GROUP,
                f"u{authors[i]}",
                f"t{i}",
                _iso(story_time[i]),
                _iso(story_time[i]),
                0,
                float(genuine[i]),
            )
            for i in range(stories)
        ),
    )
    story = rng.integers(0, stories, likes) + first_story
    liker = rng.integers(0, members, likes)
    like_time = rng.uniform(start, end, likes)
    con.executemany(
        "INSERT OR IGNORE INTO likes (story_id, conversation_id, staff_id, created_at, weight, reasons)"
        " VALUES (?, ?, ?, ?, 1.0, '')",
        (
            (int(s), GROUP, f"u{m}", _iso(t))
            for s, m, t in zip(story, liker, like_time, strict=True)
        ),
    )
    event_time = rng.uniform(start, end + 3 * WEEK, events)
    for i in range(events):
        eid = first_event + i
        starts = float(event_time[i])
        status = "done" if starts < SLOT.timestamp() else "open"
        con.execute(
            "INSERT INTO events (id, conversation_id, title, starts_at, hours, place, seats,"
            " status, created_by, created_at, cancel_reason, reminded_24h, reminded_1h)"
            " VALUES (?, ?, ?, ?, 2.5, 'park', 20, ?, 'admin', ?, '', 0, 0)",
            (eid, GROUP, f"e{eid}", _iso(starts), status, _iso(starts - WEEK)),
        )
        signed = rng.choice(members, 12, replace=False)
        con.executemany(
            "INSERT INTO signups (event_id, conversation_id, staff_id, nick, status, created_at)"
            " VALUES (?, ?, ?, '', 'confirmed', ?)",
            ((eid, GROUP, f"u{m}", _iso(starts - 86400)) for m in signed),
        )
        if status == "done":
            con.executemany(
                "INSERT INTO volunteer_hours (conversation_id, staff_id, event_id, title, hours, at)"
                " VALUES (?, ?, ?, ?, 2.5, ?)",
                ((GROUP, f"u{m}", eid, f"e{eid}", _iso(starts + 3 * 3600)) for m in signed),
            )
    con.commit()
    con.close()


def counts(path: Path) -> dict[str, int]:
    con = sqlite3.connect(path)
    out = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("members", "stories", "likes", "events", "signups", "volunteer_hours")
    }
    con.close()
    return out


TABLES = ["conversations", "members", "stories", "likes", "events", "signups", "volunteer_hours"]


async def time_build(url: str, repeats: int) -> tuple[float, int]:
    settings = load_settings(None, storage={"url": url})
    db = Database(settings.storage.url)
    clock = ManualClock(SLOT)
    samples = []
    size = 0
    for _ in range(repeats):
        async with db.transaction() as session:
            ctx = job_context(settings, clock, session)
            started = time.perf_counter()
            sections = await build(ctx, GROUP, SLOT - timedelta(days=7), SLOT)
            parts = render(ctx, sections, SLOT - timedelta(days=7), SLOT)
            samples.append(time.perf_counter() - started)
            size = sum(len(p.text.encode()) for p in parts)
    await db.dispose()
    return statistics.median(samples), size


async def main_async(
    scale: float, growth: int, repeats: int, backend: str = "sqlite", server: str | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        async with database(backend, Path(tmp), "digest", server) as url:
            if backend != "sqlite":
                db = Database(url)
                await db.migrate()
                await db.dispose()
            return await _run(Path(tmp), url, scale, growth, repeats, backend)


async def _run(
    tmp: Path, url: str, scale: float, growth: int, repeats: int, backend: str
) -> dict[str, Any]:
    n = lambda x: max(1, int(x * scale))  # noqa: E731
    path = Path(tmp) / "digest.sqlite3"
    db = Database(f"sqlite:///{path}")
    await db.migrate()
    await db.dispose()
    con = sqlite3.connect(path)
    con.executemany(
        "INSERT INTO conversations VALUES (?, '2', 'bench', ?, ?)", [(GROUP, _iso(0), _iso(0))]
    )
    con.executemany(
        "INSERT INTO members VALUES (?, ?, ?, ?, ?, 3, 0, 0)",
        (
            (GROUP, f"u{i}", f"member {i}", _iso(SLOT.timestamp() - 400 * 86400), _iso(0))
            for i in range(n(50_000))
        ),
    )
    con.commit()
    con.close()

    def year(g: int) -> None:
        """Year ``g`` before the slot (0: the year up to it, with this week in it)."""
        add_history(
            path,
            members=n(50_000),
            stories=n(100_000),
            likes=n(1_000_000),
            events=n(1_000),
            weeks=(52 * g, 52 * (g + 1)),
            seed=1 + g,
            first_story=1 + g * n(100_000),
            first_event=1 + g * n(1_000),
        )

    started = time.perf_counter()
    year(0)
    generated = time.perf_counter() - started
    before_sizes = counts(path)
    if backend != "sqlite":
        await copy_sqlite_into(path, url, TABLES)
    else:
        url = f"sqlite:///{path}"
    before, digest_bytes = await time_build(url, repeats)
    started = time.perf_counter()
    for g in range(1, growth):
        year(g)
    grown = time.perf_counter() - started
    after_sizes = counts(path)
    if backend != "sqlite":
        await copy_sqlite_into(path, url, TABLES)
    after, _ = await time_build(url, repeats)
    return {
        "backend": backend,
        "before": before_sizes,
        "after_growth": after_sizes,
        "generate_s": round(generated + grown, 1),
        "build_ms": round(before * 1000, 2),
        "build_after_growth_ms": round(after * 1000, 2),
        "growth_ratio": round(after / before, 2),
        "digest_bytes": digest_bytes,
        "targets": {"build_ms": "<= 100", "growth_ratio": "<= 1.5"},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="shrink the data for a quick run")
    parser.add_argument("--growth", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--backend", choices=BACKENDS, default="sqlite")
    parser.add_argument(
        "--postgres", default=None, help="server URL (else $COMMUNITY_BOT_TEST_POSTGRES)"
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    result = asyncio.run(
        main_async(args.scale, args.growth, args.repeats, args.backend, args.postgres)
    )
    return report(result, args.out)


if __name__ == "__main__":
    sys.exit(main())
