"""Stopping the bot waits for a running job before it closes the database."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from bot.context import Context
from bot.sandbox.standin import StandIn
from tests.conftest import BotFactory


async def test_stop_waits_for_a_running_job_before_closing_the_database(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot()
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[int] = []

    async def slow(ctx: Context) -> None:
        started.set()
        await release.wait()
        finished.append(int(await ctx.session.scalar(text("SELECT 1")) or 0))

    app.jobs.run_repeating("slow", slow, interval=3600)
    running = asyncio.create_task(app.jobs.run_job("slow"))
    await started.wait()
    stopping = asyncio.create_task(app.stop())
    await asyncio.sleep(0.2)
    # A database closed under the job would strand its unit of work (with the stock
    # aiosqlite driver, its clean-up then awaits a thread that is gone, for ever).
    assert not stopping.done()
    release.set()
    await asyncio.wait_for(stopping, timeout=10)
    assert finished == [1]
    assert await running
