"""Faults the platform and the machine throw at a running bot, with counts."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

import bot.clock
from bot.sandbox.standin import StandIn
from storage.models import InboxEvent
from tests.conftest import BotFactory, eventually


async def test_a_clock_stepping_back_does_not_park_a_retry(
    standin: StandIn, start_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A retry is stored as a wall-clock time. An NTP correction of an hour backwards must not
    # make a reply throttled "for 2 s" wait an hour. The machine's clock is shared, so the
    # bot's view of it is stepped (bot.clock.utcnow, which the sender and outbox read).
    await start_bot(sender={"backoff_initial": 2.0, "backoff_max": 2.0})
    standin.faults.throttle_every = 1  # the platform refuses the first attempt: 130101
    await standin.say("/nosuch-clock")
    await eventually(lambda: bool(standin.rejected), timeout=10)
    standin.faults.throttle_every = 0
    stepped = time.monotonic()
    real = bot.clock.utcnow

    def an_hour_ago() -> datetime:
        return real() - timedelta(hours=1)

    for module in ("bot.sender", "bot.outbox", "bot.clock"):
        monkeypatch.setattr(f"{module}.utcnow", an_hour_ago)
    [sent] = await standin.wait_sent(where=lambda s: "/nosuch-clock" in s.text, timeout=10)
    assert sent.at - stepped < 5.0
    assert len([s for s in standin.sent if "/nosuch-clock" in s.text]) == 1


@pytest.mark.backends("sqlite")  # SQLite's own limit on a database's size (max_page_count)
async def test_a_full_disk_keeps_the_connection_acks_nothing_unrecorded_and_catches_up(
    standin: StandIn, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The database file cannot grow (SQLite answers SQLITE_FULL, "database or disk is
    full", as on a full disk; https://sqlite.org/pragma.html#pragma_max_page_count): the
    bot stays connected, acks no push it could not record (each comes again, DingTalk
    redelivers unacked pushes: DINGTALK.md "Stream mode" 6), says so in one line, and
    takes everything in once space returns."""
    standin.faults.redeliver_after = 1.0
    app = await start_bot()
    limit = [0]  # pages the file may have; 0: no limit

    def cap(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count = {limit[0] or 1073741823}")
        cursor.close()

    async with app.db.engine.connect() as conn:
        pages = (await conn.exec_driver_sql("PRAGMA page_count")).scalar_one()
    event.listen(app.db.engine.sync_engine, "checkout", cap)
    limit[0] = int(pages)  # full: the file may not grow by a page
    caplog.set_level(logging.INFO, logger="bot.stream")
    tags = [f"/nosuch-full-{i:02d}-{'x' * 400}" for i in range(40)]
    for tag in tags:
        await standin.say(tag, sender=f"f{tags.index(tag) % 5}", wait_ack=False)
    await asyncio.sleep(3.0)  # pushes come and come again, unrecorded
    refused = sum(standin.pushes_by_connection.values()) - len(tags)  # pushed again
    assert refused > 0 and len(standin.live()) == 1  # unacked, still connected
    limit[0] = 0  # space again
    await eventually(
        lambda: all(any(t[:16] in s.text for s in standin.sent) for t in tags), timeout=30
    )
    await app.drain()
    await asyncio.sleep(1.0)  # any redelivery still in flight is a duplicate now
    seen = Counter(t[:16] for s in standin.sent for t in tags if t[:16] in s.text)
    async with app.db.transaction() as session:
        statuses = Counter((await session.execute(select(InboxEvent.status))).scalars().all())
    result = {
        "pushed": len(tags),
        "handled once": statuses["done"],
        "delivered once": sum(seen[t[:16]] == 1 for t in tags),
        "lost": sum(seen[t[:16]] == 0 for t in tags),
        "doubled": sum(seen[t[:16]] > 1 for t in tags),
    }

    def stream_lines() -> list[logging.LogRecord]:
        return [
            r for r in caplog.records if r.name == "bot.stream" and r.levelno >= logging.WARNING
        ]

    await eventually(lambda: len(stream_lines()) >= 2, timeout=15)  # said after 5 s quiet
    lines = stream_lines()
    print(
        f"\ndisk full: {result}; {refused} pushes made again (unacked); stream log lines {len(lines)}"
    )
    assert result == {
        "pushed": 40,
        "handled once": 40,
        "delivered once": 40,
        "lost": 0,
        "doubled": 0,
    }
    assert sum(statuses.values()) == 40  # nothing acked without its row
    # One line when it starts, one when it ends; no traceback per frame.
    assert len(lines) == 2 and not any(r.exc_info for r in lines), [r.message for r in lines]
    assert "database or disk is full" in lines[0].getMessage()
