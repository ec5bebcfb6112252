"""Another process holding SQLite's write lock delays the bot's writes, never its event loop."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from bot.sandbox.standin import StandIn
from tests.conftest import BotFactory
from tests.scenario.test_stories import say

HOLD = """
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.execute("COMMIT")
"""


@pytest.mark.backends("sqlite")
async def test_a_held_write_lock_does_not_freeze_the_loop(
    standin: StandIn, start_bot: BotFactory, tmp_path: Path
) -> None:
    await start_bot()
    other = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        HOLD,
        str(tmp_path / "bot.sqlite3"),
        "2.0",
        stdout=asyncio.subprocess.PIPE,
    )
    assert other.stdout is not None
    assert await other.stdout.readline() == b"locked\n"
    loop = asyncio.get_running_loop()
    worst = 0.0

    async def probe() -> None:
        nonlocal worst
        while True:
            started = loop.time()
            await asyncio.sleep(0.005)
            worst = max(worst, loop.time() - started - 0.005)

    watching = asyncio.create_task(probe())
    try:
        # Recording the push needs the write lock: it waits for the other process...
        sent = await asyncio.wait_for(say(standin, "/帮助"), timeout=20)
    finally:
        watching.cancel()
    await other.wait()
    assert "帮助" in sent.text or "/" in sent.text
    # ...while pings, acks and everything else go on: no stall near the 2 s the lock was held
    # (SQLite's own busy handler sleeps in the calling thread, which was the loop's).
    assert worst < 0.5, worst
