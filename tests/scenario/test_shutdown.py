"""Stopping: SIGTERM to a real bot process under load (nothing acked is lost, nothing is sent
twice), and a running job is waited for before the database closes."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot import scheduler
from bot.context import JobContext
from bot.sandbox.standin import BOT_TOPIC, StandIn
from storage.db import Database
from storage.models import OutboxMessage
from storage.repositories import OutboxRepo
from tests.conftest import BotFactory, eventually
from tests.processes import start_process, write_config


async def test_sigterm_under_load_finishes_the_work_in_hand_and_loses_nothing(
    standin: StandIn, tmp_path: Path, storage_url: str
) -> None:
    config = write_config(standin, tmp_path, storage_url)
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'listen = "127.0.0.1:0"', 'listen = "127.0.0.1:0"\nshutdown_timeout = 10.0'
        ),
        encoding="utf-8",
    )
    # Unacked pushes come again soon (DingTalk: about a minute), to the next connection.
    standin.faults.redeliver_after = 1.0
    # DingTalk delivers each message at once but answers the send slowly: a sender cut off
    # mid-request would not know its message went out, and would send it again.
    standin.faults.slow_answers = 0.4
    proc = await start_process(config, tmp_path)
    texts = [f"/nosuch-load-{i:02d}" for i in range(40)]
    try:
        await standin.wait_connected(timeout=30)
        first = await asyncio.gather(
            *(standin.say(t, sender=f"m{i % 8}") for i, t in enumerate(texts[:24]))
        )
        assert all(p.ack is not None for p in first)
        await eventually(lambda: len(standin.sent) >= 4, timeout=15)

        async def more() -> None:  # pushes keep coming while the process stops
            for text in texts[24:]:
                await standin.push(BOT_TOPIC, standin.message(text, sender="late"), wait_ack=False)
                await asyncio.sleep(0.02)

        pushing = asyncio.create_task(more())
        stopped_at = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
        assert time.monotonic() - stopped_at < 12  # within shutdown_timeout (+ start-up slack)
        sent_before_restart = Counter(s.text for s in standin.sent)

        standin.faults.slow_answers = 0.0
        proc = await start_process(config, tmp_path)
        await standin.wait_connected(timeout=30)
        await pushing  # the pushes that found no connection went to the new one
        for text in texts:
            await standin.wait_sent(where=lambda s, t=text: t in s.text, timeout=30)
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
    counts = Counter(s.text for s in standin.sent if "/nosuch-load-" in s.text)
    doubled = {t: n for t, n in counts.items() if n > 1}
    assert not doubled, f"sent twice: {doubled} (before the restart: {sent_before_restart})"
    assert len(counts) == len(texts)
    log = (tmp_path / "bot.log").read_text(encoding="utf-8", errors="replace")
    assert "SIGTERM: stopping" in log and "bot stopped" in log
    assert "shutdown timeout" not in log


@pytest.mark.parametrize("started_by", ["run_job", "scheduler"])
async def test_stop_waits_for_a_running_job_before_closing_the_database(
    standin: StandIn, start_bot: BotFactory, started_by: str
) -> None:
    """Run directly, or by APScheduler as in the field (its asyncio executor cancels the
    tasks it awaits when it shuts down, which the stop does first): the job still ends."""
    app = await start_bot()
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[int] = []

    async def slow(ctx: JobContext) -> None:
        started.set()
        await release.wait()
        finished.append(int(await ctx.session.scalar(text("SELECT 1")) or 0))

    app.jobs.run_repeating("slow", slow, interval=3600)  # APScheduler runs it at once too
    running = asyncio.create_task(app.jobs.run_job("slow")) if started_by == "run_job" else None
    await asyncio.wait_for(started.wait(), timeout=10)
    stopping = asyncio.create_task(app.stop())
    await asyncio.sleep(0.2)
    # A database closed under the job would strand its unit of work (with the stock
    # aiosqlite driver, its clean-up then awaits a thread that is gone, for ever).
    assert not stopping.done()
    release.set()
    await asyncio.wait_for(stopping, timeout=10)
    assert finished == [1]
    assert running is None or await running


async def test_a_mark_being_committed_when_the_stop_comes_is_committed(
    standin: StandIn, start_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shutdown cancels the mark loop; a mark it was committing at that moment must
    still be committed, or the next process sends the reply again (CI's stock-aiosqlite lane
    doubled three replies across a SIGTERM and a restart this way)."""
    app = await start_bot()
    committing, release = asyncio.Event(), asyncio.Event()
    real = OutboxRepo.mark_sent

    async def slow_mark(self: OutboxRepo, sent: list[tuple[int, str]], now: object) -> None:
        committing.set()
        await release.wait()  # the stop arrives while this unit of work is open
        await real(self, sent, now)  # type: ignore[arg-type]

    monkeypatch.setattr(OutboxRepo, "mark_sent", slow_mark)
    await standin.say("/nosuch-in-the-window")
    await standin.wait_sent(where=lambda s: "/nosuch-in-the-window" in s.text)
    await asyncio.wait_for(committing.wait(), 10)
    stopping = asyncio.create_task(app.stop())
    await asyncio.sleep(0.2)  # the supervisor has cancelled the sender's loops by now
    release.set()
    await asyncio.wait_for(stopping, 20)

    monkeypatch.setattr(OutboxRepo, "mark_sent", real)
    db = Database(app.settings.storage.url)
    try:
        async with db.transaction() as session:
            rows = (await session.scalars(select(OutboxMessage))).all()
    finally:
        await db.dispose()
    reply = [r for r in rows if "/nosuch-in-the-window" in (r.reply or "")]
    assert [r.status for r in reply] == ["sent"]


async def test_a_job_stopped_at_shutdown_is_one_warning_not_an_error_with_a_traceback(
    standin: StandIn,
    start_bot: BotFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A job still running when the stop's grace is over is cancelled (its unit of work
    rolls back and it runs again after the next start): the operator reads one warning
    naming it, not APScheduler's "raised an exception" with a CancelledError traceback."""
    monkeypatch.setattr(scheduler, "DRAIN_SECONDS", 0.2)
    app = await start_bot()
    started = asyncio.Event()

    async def stuck(ctx: JobContext) -> None:
        await ctx.session.execute(text("SELECT 1"))
        started.set()
        await asyncio.Event().wait()  # never ends by itself

    app.jobs.run_repeating("stuck", stuck, interval=3600)  # runs at once, by APScheduler
    await asyncio.wait_for(started.wait(), timeout=10)
    caplog.clear()
    await asyncio.wait_for(app.stop(), timeout=10)
    await asyncio.sleep(0.05)  # the executor's done-callback, which would log the error
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    [warning] = [r for r in caplog.records if "still running at shutdown" in r.getMessage()]
    assert "stuck" in warning.getMessage()
