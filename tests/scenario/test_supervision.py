"""Supervision: a long-running part that dies is logged with its traceback and restarted."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from bot import scheduler
from bot.sandbox.standin import StandIn
from bot.supervise import Supervisor
from tests.conftest import BotFactory, eventually


def _crashes(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "bot.supervise" and f"task {name} crashed" in r.getMessage()
    ]


async def test_a_crashed_worker_is_restarted_and_the_message_still_answered(
    standin: StandIn, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = await start_bot()
    real = app.dispatcher.process_batch
    calls = 0

    async def explode_once(event_ids: list[int]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("worker bug")
        await real(event_ids)

    app.dispatcher.process_batch = explode_once  # type: ignore[method-assign]
    await standin.say("/nosuch-lost")
    [record] = await _wait_for(lambda: _crashes(caplog, "worker-0"))
    assert record.exc_info is not None and "worker bug" in str(record.exc_info[1])
    # The restarted worker handles new pushes at once, and the inbox sweep the lost one.
    await standin.say("/nosuch-after")
    await standin.wait_sent(where=lambda s: "/nosuch-after" in s.text)
    assert await app.jobs.run_job("inbox-sweep")
    await standin.wait_sent(where=lambda s: "/nosuch-lost" in s.text)
    assert app.supervisor.restarts["worker-0"] == 1


async def test_a_crashed_sender_is_restarted(
    standin: StandIn, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = await start_bot()
    real_flush = app.sender._flush_marks
    flushes = 0

    async def flush_explodes_once() -> None:
        nonlocal flushes
        flushes += 1
        if flushes == 1:
            raise RuntimeError("sender bug")
        await real_flush()

    app.sender._flush_marks = flush_explodes_once  # type: ignore[method-assign]
    await standin.say("/nosuch-1")
    await _wait_for(lambda: _crashes(caplog, "sender"))
    await standin.say("/nosuch-2")
    await standin.wait_sent(where=lambda s: "/nosuch-2" in s.text)
    assert app.supervisor.restarts["sender"] == 1


async def test_a_crashed_stream_task_is_restarted(
    standin: StandIn, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = await start_bot()
    real_backoff = app.edge._backoff
    calls = 0

    def backoff_explodes_once(failures: int) -> float:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("stream bug inside the error handling")
        return real_backoff(failures)

    app.edge._backoff = backoff_explodes_once  # type: ignore[method-assign]
    standin.faults.refuse_opens = 1
    opens = standin.opens
    await standin.drop()
    [record] = await _wait_for(lambda: _crashes(caplog, "stream"))
    assert record.exc_info is not None and "stream bug" in str(record.exc_info[1])
    await eventually(lambda: standin.opens > opens, timeout=10)
    await standin.wait_connected(timeout=10)
    await standin.say("/nosuch-after-crash")
    await standin.wait_sent(where=lambda s: "/nosuch-after-crash" in s.text)
    assert app.supervisor.restarts["stream"] == 1


async def test_a_scheduler_that_stopped_firing_is_restarted(
    standin: StandIn,
    start_bot: BotFactory,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scheduler, "WATCH_SECONDS", 0.05)
    app = await start_bot()
    await eventually(lambda: app.jobs._scheduler is not None)
    app.jobs.shutdown()  # stands for APScheduler's loop dying under us
    await _wait_for(lambda: _crashes(caplog, "scheduler"))
    await eventually(lambda: app.jobs._scheduler is not None and app.jobs._scheduler.running)


async def test_a_task_that_returns_or_raises_is_restarted_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    supervisor = Supervisor(backoff_initial=0.01, backoff_max=0.02)
    runs: list[str] = []

    async def flaky() -> None:
        runs.append("run")
        if len(runs) == 1:
            raise ValueError("first run fails")
        if len(runs) == 2:
            return  # returning is as wrong as raising for a task meant to run forever
        await asyncio.Event().wait()

    supervisor.spawn("flaky", flaky)
    await eventually(lambda: len(runs) == 3)
    await supervisor.stop()
    assert supervisor.restarts["flaky"] == 2
    [crash] = _crashes(caplog, "flaky")
    assert crash.exc_info is not None and isinstance(crash.exc_info[1], ValueError)
    assert any("task flaky returned" in r.getMessage() for r in caplog.records)
    assert not supervisor.failed.is_set()


async def _wait_for(found: Any, timeout: float = 5.0) -> Any:
    await eventually(lambda: bool(found()), timeout=timeout)
    return found()
