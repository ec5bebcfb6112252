"""The durable inbox: every push recorded once, under its key, and handed out once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    InboxEvent,
)
from storage.queries import prebuilt, run, table, upsert
from storage.types import UTCDateTime

_INBOX = table(InboxEvent)


def _unlocked_received() -> Any:
    """The asked-for inbox rows still to be handled that no other transaction holds.

    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL: a row another process is handling right now
    is skipped at once instead of waited for (its claim is theirs; if they roll back, the
    sweep brings it back). SQLite has a single writer and no row locks: the clause is not
    rendered there.
    """
    return (
        select(_INBOX.c.id)
        .where(_INBOX.c.id.in_(bindparam("ids", expanding=True)), _INBOX.c.status == "received")
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )


class InboxRow(TypedDict):
    """A push as the inbox records it (``bot.inbox.inbox_row``)."""

    key: str
    topic: str
    conversation_id: str
    staff_id: str
    payload: dict[str, Any]


@dataclass(slots=True)
class InboxRepo:
    """The durable inbox: every push recorded once, processed once."""

    session: AsyncSession

    async def record_many(
        self, rows: list[InboxRow], now: datetime, *, status: str = "received"
    ) -> list[int | None]:
        """Insert pushes in one statement; per row its new id, or None for a duplicate key.

        ``status="done"`` records events handled in the same unit of work (card clicks)."""
        values = [
            {
                "key": r["key"],
                "topic": r["topic"],
                "conversation_id": r["conversation_id"],
                "staff_id": r["staff_id"],
                "payload": json.dumps(r["payload"], ensure_ascii=False),
                "status": status,
                "received_at": now,
                "processed_at": now if status == "done" else None,
            }
            for r in rows
        ]
        # One prebuilt statement run for many rows: SQLAlchemy sends them as multi-row
        # INSERTs ("insertmanyvalues") without compiling a statement of that size each time.
        stmt = prebuilt(
            self.session,
            "inbox_record_many",
            lambda insert: (
                insert(_INBOX)
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(_INBOX.c.id, _INBOX.c.key)
            ),
        )
        result = await run(self.session, stmt, values)
        inserted = {key: event_id for event_id, key in result.all()}
        out: list[int | None] = []
        for r in rows:
            out.append(inserted.pop(r["key"], None))  # a key twice in one batch: first wins
        return out

    async def claim_many(self, event_ids: list[int], now: datetime) -> list[tuple[int, str, str]]:
        """Mark received events done inside the processing transaction.

        Returns (id, key, payload) for the events this caller took, in the order asked; an
        event another worker or process already took is left out.
        """
        stmt = prebuilt(
            self.session,
            "claim",
            lambda _: (
                update(_INBOX)
                .where(_INBOX.c.id.in_(_unlocked_received()))
                .values(status="done", processed_at=bindparam("now", type_=UTCDateTime()))
                .returning(_INBOX.c.id, _INBOX.c.key, _INBOX.c.payload)
            ),
        )
        result = await run(self.session, stmt, {"ids": event_ids, "now": now})
        taken = {row[0]: (row[0], row[1], row[2]) for row in result.all()}
        # Each event once, even if it was asked for twice (queued by the sweep and by its
        # recorder both): handled twice in one batch, its replies' idempotency keys collide
        # and the whole batch fails.
        return [taken[i] for i in dict.fromkeys(event_ids) if i in taken]

    async def unclaim_many(self, event_ids: list[int]) -> None:
        """Give back events claimed in this transaction but not handled in it (the batch
        was cut short): they are ``received`` again, as if never claimed."""
        if not event_ids:
            return
        stmt = prebuilt(
            self.session,
            "unclaim",
            lambda _: (
                update(_INBOX)
                .where(_INBOX.c.id.in_(bindparam("ids", expanding=True)))
                .values(status="received", processed_at=None)
            ),
        )
        await run(self.session, stmt, {"ids": event_ids})

    async def mark(self, event_id: int, status: str, now: datetime, error: str = "") -> None:
        """Set an event's final status (``failed`` after an unexpected error, ``dead`` when
        even that could not be handled), with the error."""
        await self.session.execute(
            update(InboxEvent)
            .where(InboxEvent.id == event_id)
            .values(status=status, processed_at=now, error=error[:2000])
        )

    async def record_dead(self, row: InboxRow, error: str, now: datetime) -> int | None:
        """Record a push that cannot be stored or handled as a dead letter: acked, kept with
        its error for operators, never retried. The payload is kept as ASCII-only JSON, which
        every database can store. None when the key is already recorded."""
        stmt = (
            upsert(self.session, _INBOX)
            .values(
                key=row["key"],
                topic=row["topic"],
                conversation_id=row["conversation_id"],
                staff_id=row["staff_id"],
                payload=json.dumps(row["payload"], ensure_ascii=True, default=repr),
                status="dead",
                error=error[:2000],
                received_at=now,
                processed_at=now,
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(_INBOX.c.id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def dead_letters(self) -> int:
        """How many pushes are kept as dead letters."""
        return int(
            await self.session.scalar(
                select(func.count()).select_from(_INBOX).where(_INBOX.c.status == "dead")
            )
            or 0
        )

    async def answer(self, key: str) -> dict[str, Any] | None:
        """The answer stored with the click recorded under ``key`` (``{}`` when it has none
        yet); None when nothing is recorded under ``key``."""
        row = (
            await self.session.execute(select(_INBOX.c.response).where(_INBOX.c.key == key))
        ).one_or_none()
        if row is None:
            return None
        answer: dict[str, Any] = json.loads(row.response) if row.response else {}
        return answer

    async def set_responses(self, responses: list[tuple[int, dict[str, Any]]]) -> None:
        """Store clicks' answers (one round trip), so a redelivered click gets the same one."""
        if not responses:
            return
        stmt = prebuilt(
            self.session,
            "inbox_response",
            lambda _: (
                update(_INBOX)
                .where(_INBOX.c.id == bindparam("eid"))
                .values(response=bindparam("body"))
            ),
        )
        await run(
            self.session,
            stmt,
            [
                {"eid": event_id, "body": json.dumps(response, ensure_ascii=False)}
                for event_id, response in responses
            ],
        )

    async def unprocessed_ids(self, limit: int = 1000) -> list[int]:
        """Events recorded but not yet processed (after a crash, or waiting)."""
        rows = await self.session.execute(
            select(InboxEvent.id)
            .where(InboxEvent.status == "received")
            .order_by(InboxEvent.id)
            .limit(limit)
        )
        return list(rows.scalars())

    async def purge_before(self, cutoff: datetime, keys_cutoff: datetime | None = None) -> int:
        """Blank processed raw payloads older than ``cutoff``, keeping only their keys, so a
        late redelivery is still recognised as a duplicate (deleting the row would let it be
        handled again); drop the bare keys older than ``keys_cutoff``. Returns the number of
        payloads blanked."""
        result = await self.session.execute(
            update(InboxEvent)
            .where(
                InboxEvent.received_at < cutoff,
                InboxEvent.status != "received",
                InboxEvent.payload != "",
            )
            .values(payload="", response=None, staff_id="", conversation_id="")
        )
        if keys_cutoff is not None:
            await self.session.execute(
                delete(InboxEvent).where(
                    InboxEvent.received_at < keys_cutoff, InboxEvent.status != "received"
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)
