"""A recorded message is handled once per batch even when it was queued twice.

The inbox sweep (every few seconds, or at another process's NOTIFY) queues the messages it
finds recorded but not handled. A message its recorder has just committed, but not yet put
on the queue, is found too; the recorder's own put then queued it a second time, both landed
in one batch, the message was handled twice in one transaction, its replies' idempotency keys
collided (IntegrityError) and the whole batch failed and was redone one by one. That was the
PostgreSQL flake of ``test_an_admin_change_applies_to_the_rest_of_the_same_batch``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.sandbox.standin import StandIn
from storage.db import Database
from storage.models import InboxEvent
from storage.repositories import InboxRepo
from tests.conftest import BotFactory


async def test_a_message_queued_twice_is_handled_once_in_its_batch(
    standin: StandIn, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = await start_bot()
    gate = asyncio.Event()
    real: Callable[[list[int]], Awaitable[None]] = app.inbox.process

    async def held(batch: list[int]) -> None:
        await gate.wait()  # the worker is busy: what is recorded meanwhile stays queued
        await real(batch)

    app.inbox.process = held
    await standin.say("/nosuch-first", sender="ann")
    second = await standin.say("/nosuch-second", sender="bob")
    async with app.db.transaction() as session:
        event_id = await session.scalar(
            select(InboxEvent.id).where(InboxEvent.key.contains(second.data["msgId"]))
        )
    assert event_id is not None
    # The sweep found it between its recorder's commit and the recorder's put.
    app.inbox.put(event_id)
    caplog.set_level(logging.WARNING, logger="bot.dispatch")
    gate.set()
    await standin.wait_sent(where=lambda s: "/nosuch-second" in s.text, timeout=10)
    await asyncio.sleep(0.3)  # a second copy of the reply, if any, shows by now
    assert len([s for s in standin.sent if "/nosuch-second" in s.text]) == 1
    assert not [r for r in caplog.records if "failed" in r.getMessage()], caplog.text


async def test_claiming_an_event_asked_for_twice_takes_it_once(storage_url: str) -> None:
    db = Database(storage_url)
    try:
        await db.migrate()
        now = datetime.now(UTC)
        async with db.transaction() as session:
            row = {"key": "k1", "topic": "t", "conversation_id": "", "staff_id": "", "payload": {}}
            [event_id] = await InboxRepo(session).record_many([row], now)
        assert event_id is not None
        async with db.transaction() as session:
            claimed = await InboxRepo(session).claim_many([event_id, event_id], now)
        assert [c[0] for c in claimed] == [event_id]
    finally:
        await db.dispose()
