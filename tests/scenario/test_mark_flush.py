"""The sender's flush of sent-marks never holds the event loop for a whole backlog.

On SQLite a transaction runs inline, in one step of the loop, so a flush of 500 marks in
one transaction held the loop 6.5 ms on a quiet machine and 18-27 ms under load (issue 15,
the mix benchmark). The marks are committed in batches of at most ``MARK_BATCH``, with a
whole turn of the loop between two; and nothing of the delivery guarantees changes: every
mark is committed, a batch the database refuses keeps its marks and every later one (in
order, ahead of marks gathered since), and each reply's waiter is released only once its
own mark is committed.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.config import load_settings
from bot.sender import MARK_BATCH, Sender
from storage.db import Database
from storage.models import OutboxMessage
from storage.outbox import OutboxRow, order_key
from storage.repositories import OutboxRepo

BACKLOG = 2 * MARK_BATCH + 10  # three batches: two full, one part


def _row(n: int, now: datetime) -> OutboxRow:
    return {
        "idem_key": f"msg:{n}#0",
        "conversation_id": "cid-group-1",
        "conversation_type": "2",
        "reply": "{}",
        "reply_staff_id": f"m{n % 50}",
        "session_webhook": "",
        "session_expires_at": None,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "lease_until": now + timedelta(seconds=30),
        "last_error": "",
        "route": "",
        "created_at": now,
        "sent_at": None,
    }


async def _sender_with_backlog(url: str) -> tuple[Database, Sender, list[asyncio.Future[None]]]:
    """A sender whose replies were all sent, none marked yet (as after a busy moment)."""
    db = Database(url)
    await db.migrate()
    now = datetime.now(UTC)
    async with db.transaction() as session:
        rows = await OutboxRepo(session).add_many([_row(n, now) for n in range(BACKLOG)])
    settings = load_settings(
        None, dingtalk={"client_id": "id", "client_secret": "secret"}, storage={"url": url}
    )
    sender = Sender(settings, db, api=None)  # type: ignore[arg-type]  # sends nothing here
    loop = asyncio.get_running_loop()
    waiters = []
    for row in rows:  # what Sender._deliver_in_order leaves for each reply it sent
        waiters.append(loop.create_future())
        sender._marked[row.id] = waiters[-1]
        sender._keys[row.id] = order_key(row)
        sender._to_mark.append((row.id, "webhook"))
    return db, sender, waiters


async def _statuses(db: Database) -> dict[int, str]:
    async with db.transaction() as session:
        return dict((await session.execute(select(OutboxMessage.id, OutboxMessage.status))).all())


async def test_a_backlog_of_marks_is_committed_in_batches_with_a_turn_of_the_loop_between(
    storage_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, sender, waiters = await _sender_with_backlog(storage_url)
    loop = asyncio.get_running_loop()
    ran: list[str] = []
    seen: list[tuple[int, list[str]]] = []  # per transaction: its marks, what had run before
    real_mark_sent = OutboxRepo.mark_sent

    async def mark_sent(self: OutboxRepo, sent: list[tuple[int, str]], now: datetime) -> None:
        seen.append((len(sent), list(ran)))
        # Something the loop must run soon (a ping, an ack, a timer) becomes due now.
        loop.call_later(0, ran.append, f"after {len(seen)}")
        await real_mark_sent(self, sent, now)

    monkeypatch.setattr(OutboxRepo, "mark_sent", mark_sent)
    try:
        assert await sender._flush_marks()
    finally:
        statuses = await _statuses(db)
        await db.dispose()
    # Three transactions of at most MARK_BATCH marks; before each of the later ones, what
    # came due during the one before has run (one UPDATE of all 138 held the loop at once).
    assert seen == [
        (MARK_BATCH, []),
        (MARK_BATCH, ["after 1"]),
        (BACKLOG - 2 * MARK_BATCH, ["after 1", "after 2"]),
    ]
    assert set(statuses.values()) == {"sent"} and len(statuses) == BACKLOG
    assert all(w.done() for w in waiters)
    assert not sender._to_mark and not sender._marked and not sender._keys


async def test_a_batch_the_database_refuses_keeps_its_marks_and_the_rest(
    storage_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, sender, waiters = await _sender_with_backlog(storage_url)
    backlog = list(sender._to_mark)
    real_mark_sent = OutboxRepo.mark_sent
    calls = 0

    async def away_on_the_second(self: OutboxRepo, sent: Any, now: datetime) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # the database restarts under the second batch
            orig = sqlite3.OperationalError("database is locked")
            raise OperationalError("UPDATE outbox", {}, orig)
        await real_mark_sent(self, sent, now)

    monkeypatch.setattr(OutboxRepo, "mark_sent", away_on_the_second)
    try:
        flushing = asyncio.ensure_future(sender._flush_marks())
        await asyncio.sleep(0)  # the first batch commits; then a mark comes in meanwhile
        sender._to_mark.append((10**9, "webhook"))
        assert not await flushing
        statuses = await _statuses(db)
        # The first batch is committed and its replies' waiters released; nothing else is.
        first = {oid for oid, _ in backlog[:MARK_BATCH]}
        assert {oid for oid, status in statuses.items() if status == "sent"} == first
        assert [w.done() for w in waiters] == [n < MARK_BATCH for n in range(BACKLOG)]
        # Every mark not committed is kept, in order, ahead of the one that came meanwhile.
        assert sender._to_mark == [*backlog[MARK_BATCH:], (10**9, "webhook")]
        # The database is back: the next flush commits them all.
        sender._to_mark.pop()
        assert await sender._flush_marks()
        assert set((await _statuses(db)).values()) == {"sent"}
        assert all(w.done() for w in waiters)
    finally:
        await db.dispose()
