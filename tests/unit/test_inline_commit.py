"""A big COMMIT on the inline SQLite driver does not hold the event loop (issue 15)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from sqlalchemy import text

from bench.probe import LoopProbe
from storage.db import Database


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
