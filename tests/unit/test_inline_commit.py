"""A big COMMIT on the inline SQLite driver does not hold the event loop (issue 15)."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

from sqlalchemy import text

from bench.probe import LoopProbe
from storage.db import Database
from storage.inline_sqlite import BIG_PARAM_BYTES


def test_a_big_commit_runs_off_the_loop(tmp_path: Path) -> None:
    async def main() -> float:
        db = Database(f"sqlite:///{tmp_path / 'big.sqlite3'}")
        try:
            async with db.transaction() as session:
                await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)"))
            async with db.transaction() as session:
                # A page cache big enough that SQLite writes the transaction's pages at its
                # COMMIT (as with a re-scoring's thousands of scattered updates): 20 MB,
                # 60 ms of CPU here when committed in the loop's thread.
                await session.execute(text("PRAGMA cache_size=-100000"))
                for _ in range(20):
                    await session.execute(
                        text("INSERT INTO t (b) VALUES (:b)"),
                        [{"b": os.urandom(1000)} for _ in range(1000)],
                    )
                # Started last: the COMMIT runs when the block is left.
                probe = await LoopProbe(period=0).start()
            await probe.stop()
            async with db.transaction() as session:
                n = (await session.execute(text("SELECT count(*) FROM t"))).scalar_one()
            assert n == 20_000
            return probe.longest_cpu
        finally:
            await db.dispose()

    longest = asyncio.run(asyncio.wait_for(main(), timeout=120))
    assert longest < 0.020, f"the loop was held {longest * 1000:.0f} ms"


def test_a_statement_with_a_large_parameter_and_its_commit_run_off_the_loop(
    tmp_path: Path,
) -> None:
    """A file reply carries its workbook in the outbox row (hundreds of KB of base64):
    SQLite copies it into pages in the executing thread, and writes them at the COMMIT.
    Both run in a worker thread; a small statement of the same transaction stays inline."""
    threads: list[tuple[str, str]] = []

    def trace(sql: str) -> None:  # sqlite3 calls it in the thread running the statement
        threads.append((sql.split()[0].upper(), threading.current_thread().name))

    async def main() -> None:
        db = Database(f"sqlite:///{tmp_path / 'large.sqlite3'}")
        try:
            async with db.transaction() as session:
                await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, b TEXT)"))
            async with db.transaction() as session:
                raw = await (await session.connection()).get_raw_connection()
                sqlite = raw.driver_connection._conn  # the driver's sqlite3 connection
                sqlite.set_trace_callback(trace)
                await session.execute(text("INSERT INTO t (b) VALUES (:b)"), {"b": "x" * 10})
                await session.execute(
                    text("INSERT INTO t (b) VALUES (:b)"), {"b": "y" * BIG_PARAM_BYTES}
                )
            sqlite.set_trace_callback(None)
            async with db.transaction() as session:
                sizes = (await session.execute(text("SELECT length(b) FROM t"))).scalars()
                assert sorted(sizes) == [10, BIG_PARAM_BYTES]
        finally:
            await db.dispose()

    asyncio.run(asyncio.wait_for(main(), timeout=60))
    loop_thread = threading.main_thread().name
    inserts = [name for verb, name in threads if verb == "INSERT"]
    commits = [name for verb, name in threads if verb == "COMMIT"]
    assert inserts[0] == loop_thread  # the small one
    assert inserts[1] != loop_thread  # the large one
    assert commits[0] != loop_thread  # the large one's transaction
