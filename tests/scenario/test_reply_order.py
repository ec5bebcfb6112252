"""The outbox keeps a member's replies in order whichever process sends them: a row goes only
once every older pending row of its order key (conversation, member) has gone. The same claim
logic on every backend; real processes on PostgreSQL are in test_processes.py."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.models import OutboxMessage
from storage.outbox import OutboxRow
from storage.repositories import OutboxRepo

LEASE = timedelta(seconds=30)


def _row(key: str, member: str, now: datetime, *, leased: bool = True) -> OutboxRow:
    """A reply as a unit of work writes it: leased to its own process when ``leased``."""
    return {
        "idem_key": key,
        "conversation_id": "cid-group-1",
        "conversation_type": "2",
        "reply": "{}",
        "reply_staff_id": member,
        "session_webhook": "",
        "session_expires_at": None,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "lease_until": now + LEASE if leased else None,
        "last_error": "",
        "route": "",
        "created_at": now,
        "sent_at": None,
    }


async def _claim(db: Database, now: datetime) -> list[int]:
    """What a sender takes: the due rows it may send, then the lease on them."""
    async with db.transaction() as session:
        repo = OutboxRepo(session)
        due = [r.id for r in await repo.due(now, 100)]
        return sorted(await repo.lease(due, now, now + LEASE))


async def test_a_reply_waits_for_the_older_replies_of_its_member(storage_url: str) -> None:
    now = datetime.now(UTC)
    db = Database(storage_url)
    try:
        await db.migrate()
        async with db.transaction() as session:
            # Process A answered ann's first command: its row is A's, in flight.
            [first] = await OutboxRepo(session).add_many([_row("a1", "ann", now)])
        async with db.transaction() as session:
            # Process B answers ann's second command and bob's: ann's reply must not go to
            # B's sender (it would overtake A's); bob's may.
            second, bobs = await OutboxRepo(session).add_many(
                [_row("a2", "ann", now), _row("b1", "bob", now)]
            )
        assert first.lease_until is not None
        assert second.lease_until is None, "written behind ann's older reply, unleased"
        assert bobs.lease_until is not None
        # Nobody may take ann's second reply while her first is held.
        assert await _claim(db, now) == []
        # A's first attempt is throttled: it waits (unleased, due later); the second still
        # waits behind it, even though its own time has come.
        async with db.transaction() as session:
            await OutboxRepo(session).mark_retry(
                first.id,
                1,
                now + timedelta(seconds=5),
                "throttled",
                failed=False,
                held=first.lease_until,
            )
        assert await _claim(db, now) == []
        # Its time comes: whoever claims takes both, the older first.
        later = now + timedelta(seconds=6)
        assert await _claim(db, later) == [first.id, second.id]
        async with db.transaction() as session:
            await OutboxRepo(session).mark_sent([(first.id, "webhook")], later)
            assert await OutboxRepo(session).waiting([("cid-group-1", "ann")]) == {
                ("cid-group-1", "ann")
            }
            await OutboxRepo(session).mark_sent([(second.id, "webhook")], later)
            assert await OutboxRepo(session).waiting([("cid-group-1", "ann")]) == set()
        async with db.transaction() as session:
            # Nothing of ann's pending: a new reply goes straight to its own process again.
            [third] = await OutboxRepo(session).add_many([_row("a3", "ann", later)])
        assert third.lease_until is not None
    finally:
        await db.dispose()


async def test_a_lapsed_older_reply_goes_first_and_a_given_up_one_lets_the_next_go(
    storage_url: str,
) -> None:
    now = datetime.now(UTC)
    db = Database(storage_url)
    try:
        await db.migrate()
        async with db.transaction() as session:
            rows = await OutboxRepo(session).add_many(
                [_row(f"c{n}", "cat", now, leased=False) for n in range(3)]
            )
        ids = [r.id for r in rows]
        async with db.transaction() as session:
            repo = OutboxRepo(session)
            # A claim that cannot take the oldest (it was not offered) takes none behind it.
            assert await repo.lease(ids[1:], now, now + LEASE) == []
        assert await _claim(db, now) == ids  # all three, in order, to one sender
        # That sender died (kill -9): the leases lapse, another process takes them, in order.
        after = now + LEASE + timedelta(seconds=1)
        assert await _claim(db, after) == ids
        async with db.transaction() as session:
            await OutboxRepo(session).mark_retry(
                ids[0], 5, after, "refused", failed=True, held=after + LEASE
            )
        # The first was given up: the second is the oldest pending reply now.
        async with db.transaction() as session:
            assert [r.id for r in await OutboxRepo(session).due(after + LEASE * 2, 100)] == ids[1:]
    finally:
        await db.dispose()


@pytest.mark.backends("postgresql")  # SQLite has one writer: nothing happens at once there
async def test_two_claims_at_once_never_split_a_members_replies(storage_url: str) -> None:
    """A claim that has locked a member's oldest reply (uncommitted) makes another process's
    claim skip the member whole, not take the reply behind it."""
    now = datetime.now(UTC)
    mine, theirs = Database(storage_url), Database(storage_url)
    try:
        await mine.migrate()
        async with mine.transaction() as session:
            rows = await OutboxRepo(session).add_many(
                [_row(f"d{n}", "dan", now, leased=False) for n in range(2)]
                + [_row("e0", "eve", now, leased=False)]
            )
        ids = [r.id for r in rows]
        async with mine.transaction() as held:
            assert sorted(await OutboxRepo(held).lease(ids[:1], now, now + LEASE)) == ids[:1]
            async with asyncio.timeout(3), theirs.transaction() as other:
                leased = await OutboxRepo(other).lease(ids, now, now + LEASE)
        assert leased == ids[2:]  # eve's; dan's second waits for his first
        async with mine.transaction() as session:
            pending = (
                await session.scalars(
                    select(OutboxMessage.id).where(OutboxMessage.lease_until.is_(None))
                )
            ).all()
        assert list(pending) == [ids[1]]
    finally:
        await mine.dispose()
        await theirs.dispose()
