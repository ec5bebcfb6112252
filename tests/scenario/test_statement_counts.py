"""Statements per unit of work on the hot paths, counted with SQLAlchemy's
``before_cursor_execute`` event, so a change cannot make them silently grow back (the mix
benchmark's CPU per message follows the statement count closely)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

import storage.outbox as outbox_module
from bot.sandbox.standin import StandIn
from storage.db import SCRUB, Database
from storage.models import OutboxMessage
from storage.outbox import SCRUB_AFTER_DELIVERY, OutboxRow
from storage.repositories import OutboxRepo
from tests.conftest import BotFactory


@contextmanager
def counted(db: Database) -> Iterator[list[str]]:
    """The SQL statements ``db`` sends while the block runs (transaction control aside)."""
    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        word = statement.split(None, 1)[0].upper()
        if word not in ("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "ROLLBACK"):
            seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", before)


class _Undo(Exception):
    """Rolls a unit of work back."""


def _row(key: str, member: str, now: datetime) -> OutboxRow:
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
        "lease_until": now + timedelta(seconds=30),
        "last_error": "",
        "route": "",
        "created_at": now,
        "sent_at": None,
    }


async def test_a_batch_of_replies_is_one_insert_with_ids_in_order(storage_url: str) -> None:
    """The dispatcher writes a batch's replies with one INSERT (it was one per row on SQLite:
    ids in parameter order need a sentinel SQLite lacks); each row gets its own id, and a
    member's replies keep their order in ids (the sender sends by id)."""
    now = datetime.now(UTC)
    db = Database(storage_url)
    try:
        await db.migrate()
        rows = [_row(f"msg:{n}#0", f"m{n % 7}", now) for n in range(40)]
        async with db.transaction() as session:
            with counted(db) as seen:
                written = await OutboxRepo(session).add_many(rows)
        inserts = [s for s in seen if s.lstrip().upper().startswith("INSERT")]
        assert len(inserts) == 1, inserts
        assert [w.idem_key for w in written] == [r["idem_key"] for r in rows]
        async with db.transaction() as session:
            stored = dict(
                (await session.execute(select(OutboxMessage.idem_key, OutboxMessage.id))).all()
            )
        assert [w.id for w in written] == [stored[r["idem_key"]] for r in rows]
        assert [w.id for w in written] == sorted(w.id for w in written)
    finally:
        await db.dispose()


async def test_marking_sent_replies_is_one_statement_and_still_scrubs_flagged_rows(
    storage_url: str,
) -> None:
    """A flush of marks is one UPDATE per route; a row an erasure flagged is still deleted
    once delivered (and the unit of work asks for the scrub)."""
    now = datetime.now(UTC)
    db = Database(storage_url)
    try:
        await db.migrate()
        async with db.transaction() as session:
            rows = await OutboxRepo(session).add_many([_row(f"k{n}", "ann", now) for n in range(5)])
        ids = [r.id for r in rows]
        async with db.transaction() as session:
            with counted(db) as seen:
                await OutboxRepo(session).mark_sent([(oid, "webhook") for oid in ids[:3]], now)
            assert not session.info.get(SCRUB)
        assert len(seen) == 1, seen
        # An erasure flags a reply while it is on the wire: the mark deletes it.
        async with db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == ids[3])
                .values(route=SCRUB_AFTER_DELIVERY)
            )
        async with db.transaction() as session:
            await OutboxRepo(session).mark_sent([(ids[3], "webhook"), (ids[4], "group")], now)
            assert session.info.get(SCRUB)
        async with db.transaction() as session:
            left = dict(
                (await session.execute(select(OutboxMessage.id, OutboxMessage.route))).all()
            )
            statuses = set((await session.execute(select(OutboxMessage.status))).scalars().all())
        assert left == {ids[0]: "webhook", ids[1]: "webhook", ids[2]: "webhook", ids[4]: "group"}
        assert statuses == {"sent"}
    finally:
        await db.dispose()


async def test_the_activity_list_counts_every_activitys_sign_ups_in_one_statement(
    standin: StandIn, start_bot: BotFactory
) -> None:
    """``/活动`` with three activities: one statement on the sign-ups (it was one each), and
    the counts shown are each activity's own."""
    from tests.scenario.test_stories import say
    from tests.scenario.test_volunteers import publish, start

    app = await start(start_bot)
    ids = [await publish(standin, seats=2, title=f"植树{n}") for n in range(3)]
    for member in ("alice", "bob", "carol"):  # the first is full and waitlists one
        await say(standin, f"/报名 {ids[0][0]}", sender=member)
    await say(standin, f"/报名 {ids[1][0]}", sender="dave")
    with counted(app.db) as seen:
        sent = await say(standin, "/活动", sender="erin")
    assert len([s for s in seen if "signups" in s]) == 1, seen
    lines = sent.text.splitlines()
    assert "剩余名额 0/2，候补 1 人" in next(line for line in lines if "植树0" in line)
    assert "剩余名额 1/2" in next(line for line in lines if "植树1" in line)
    assert "剩余名额 2/2" in next(line for line in lines if "植树2" in line)


async def test_the_senders_due_and_lease_statements_are_built_once(
    storage_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every poll and every mark that lets waiting replies go read the due rows and lease
    them; building those statements cost more than running them (a mark flush's read of the
    replies waiting behind it took 3-4 ms of the loop, 1 ms with the statement built once).
    After the first call of each form no statement is built; the answers stay exact: only
    the keys asked, in id order, and a key's rows only behind its oldest."""
    now = datetime.now(UTC)
    horizon = timedelta(seconds=60)
    db = Database(storage_url)
    built: list[object] = []
    real_select = select  # what storage.outbox builds its statements with

    def counting_select(*args: Any, **kwargs: Any) -> Any:
        built.append(args)
        return real_select(*args, **kwargs)

    try:
        await db.migrate()
        unleased = [_row(f"k{n}", f"m{n % 3}", now) for n in range(9)]
        for row in unleased:
            row["lease_until"] = None
        async with db.transaction() as session:
            rows = await OutboxRepo(session).add_many(unleased)
        ids = {r.idem_key: r.id for r in rows}
        for form in range(2):  # the first round builds each form once
            if form:
                monkeypatch.setattr(outbox_module, "select", counting_select)
            with pytest.raises(_Undo):  # both rounds read and lease the same rows
                async with db.transaction() as session:
                    repo = OutboxRepo(session)
                    due = await repo.due(now, 100, horizon, keys=[("cid-group-1", "m1")])
                    assert [r.idem_key for r in due] == ["k1", "k4", "k7"]
                    assert len(await repo.due(now, 100, None)) == 9
                    assert [r.idem_key for r in await repo.due(now, 2, horizon)] == ["k0", "k1"]
                    # k1 and k4 are leased (k4 behind k1, asked too); k3 is not: k0, the
                    # oldest of its key, was not asked for.
                    asked = [ids["k1"], ids["k4"], ids["k3"]]
                    owned = await repo.lease(asked, now, now + timedelta(seconds=30), horizon)
                    assert sorted(owned) == [ids["k1"], ids["k4"]]
                    raise _Undo
        assert built == [], built
    finally:
        await db.dispose()
