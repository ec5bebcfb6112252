"""The outbox: replies written with their unit of work, leased to a sender, delivered once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import bindparam, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import OUTBOX_CHANNEL, SCRUB, notify
from storage.models import (
    OutboxMessage,
)
from storage.queries import prebuilt, run, table, upsert
from storage.types import UTCDateTime

_OUTBOX = table(OutboxMessage)


class OutboxRow(TypedDict):
    """A reply as the outbox stores it (``bot.outbox.outbox_rows``; the sender's derived
    rows for the parts of a batchSend answer)."""

    idem_key: str
    conversation_id: str
    conversation_type: str
    reply: str  # the reply's JSON (bot.replies)
    reply_staff_id: str
    session_webhook: str
    session_expires_at: datetime | None
    status: str
    attempts: int
    next_attempt_at: datetime
    lease_until: datetime | None
    last_error: str
    route: str
    created_at: datetime
    sent_at: datetime | None


# The ``route`` of a waiting outbox row that an erasure wants gone once it is delivered.
SCRUB_AFTER_DELIVERY = "scrub"


def _come(column: Any, now: datetime, horizon: timedelta | None, *, inclusive: bool) -> Any:
    """``column`` is now or past, or implausibly far ahead (the clock stepped back since)."""
    reached = column <= now if inclusive else column < now
    return reached if horizon is None else reached | (column > now + horizon)


def _lapsed(now: datetime, horizon: timedelta | None) -> Any:
    """The outbox row's lease is none, over, or from before the clock stepped back."""
    lease = OutboxMessage.lease_until
    return lease.is_(None) | _come(lease, now, horizon, inclusive=False)


@dataclass(slots=True)
class OutboxRepo:
    """Replies waiting for delivery, with leases so one sender sends each."""

    session: AsyncSession

    async def add_many(self, rows: list[OutboxRow]) -> list[OutboxMessage]:
        """Insert replies in one statement (idempotency keys are unique); rows with their ids."""
        if not rows:
            return []
        result = await run(
            self.session,
            upsert(self.session, _OUTBOX).returning(_OUTBOX.c.id, sort_by_parameter_order=True),
            rows,
        )
        if any(r["lease_until"] is None and r["status"] == "pending" for r in rows):
            # Rows nobody holds are for any process's sender: tell them at commit rather
            # than leave the rows to their next poll.
            await notify(self.session, OUTBOX_CHANNEL)
        # Plain (transient) model objects: the sender reads their fields, nothing is tracked.
        return [
            OutboxMessage(id=oid, **row) for oid, row in zip(result.scalars(), rows, strict=True)
        ]

    async def due(
        self, now: datetime, limit: int, horizon: timedelta | None = None
    ) -> list[OutboxMessage]:
        """Pending rows whose time has come and whose lease (if any) has lapsed.

        A time further ahead than ``horizon`` (the longest wait the sender ever sets) was
        written before the wall clock stepped back (an NTP correction): it counts as come,
        or a retry due "in 2 s" would wait for the clock to catch up, an hour maybe.
        """
        rows = await self.session.execute(
            select(OutboxMessage)
            .where(
                OutboxMessage.status == "pending",
                _come(OutboxMessage.next_attempt_at, now, horizon, inclusive=True),
                _lapsed(now, horizon),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        return list(rows.scalars())

    async def lease(
        self, ids: list[int], now: datetime, until: datetime, horizon: timedelta | None = None
    ) -> list[int]:
        """Take a lease on rows nobody else holds; return the ids this caller now owns."""
        # SKIP LOCKED (PostgreSQL): a row another process is leasing or marking right now is
        # theirs; skip it instead of queueing behind their transaction.
        free = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.status == "pending",
                _lapsed(now, horizon),
            )
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(free))
            .values(lease_until=until)
            .returning(OutboxMessage.id)
        )
        return list(result.scalars())

    async def renew(self, message_id: int, held: datetime, until: datetime) -> bool:
        """Extend a lease this caller still holds (its ``lease_until`` is still ``held``);
        False when it lapsed and another sender took the row, or the row was sent."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status == "pending",
                OutboxMessage.lease_until == held,
            )
            .values(lease_until=until)
            .returning(OutboxMessage.id)
        )
        return result.first() is not None

    async def mark_sent(self, sent: list[tuple[int, str]], now: datetime) -> None:
        """Record deliveries: (outbox id, route) pairs. Rows an erasure flagged while they
        were waiting are deleted instead, and the database files are scrubbed after."""
        stmt = prebuilt(
            self.session,
            "mark_sent",
            lambda _: (
                update(_OUTBOX)
                .where(_OUTBOX.c.id == bindparam("oid"))
                .values(
                    status="sent",
                    sent_at=bindparam("now", type_=UTCDateTime()),
                    lease_until=None,
                    # An erasure's flag outlives the mark. On PostgreSQL an update that
                    # waited for the erasure's row lock is applied to the row as the
                    # erasure left it ("the updated version of the row", PostgreSQL docs,
                    # Transaction Isolation, Read Committed), so this keeps a flag set while
                    # the reply was on the wire, and the delete below removes the row.
                    route=case(
                        (_OUTBOX.c.route == SCRUB_AFTER_DELIVERY, SCRUB_AFTER_DELIVERY),
                        else_=bindparam("how"),
                    ),
                    last_error="",
                    # Routing needs these no more: a delivered row keeps no member's id
                    # and no session link (erasure then finds nothing left to scrub here).
                    reply_staff_id="",
                    session_webhook="",
                )
            ),
        )
        await run(
            self.session,
            stmt,
            [{"oid": message_id, "how": route, "now": now} for message_id, route in sent],
        )
        # Rows an erasure flagged, before or while they were sent, go now.
        scrub = prebuilt(
            self.session,
            "scrub_sent",
            lambda _: (
                delete(_OUTBOX)
                .where(
                    _OUTBOX.c.id.in_(bindparam("ids", expanding=True)),
                    _OUTBOX.c.route == SCRUB_AFTER_DELIVERY,
                )
                .returning(_OUTBOX.c.id)
            ),
        )
        scrubbed = await run(self.session, scrub, {"ids": [oid for oid, _ in sent]})
        if scrubbed.first() is not None:
            self.session.info[SCRUB] = True

    async def mark_retry(
        self,
        message_id: int,
        attempts: int,
        at: datetime,
        error: str,
        *,
        failed: bool,
        held: datetime | None,
    ) -> bool:
        """Schedule another attempt, or give up: only while the caller still holds the row
        (pending, with the lease ``held`` it took). False when its lease lapsed and another
        process took the row (and may have sent and marked it: setting it back to pending
        would send it again)."""
        lease = OutboxMessage.lease_until
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status == "pending",
                lease.is_(None) if held is None else lease == held,
            )
            .values(
                status="failed" if failed else "pending",
                attempts=attempts,
                next_attempt_at=at,
                lease_until=None,
                last_error=error[:500],
            )
            .returning(OutboxMessage.id)
        )
        return result.first() is not None

    async def rewrite(self, message_id: int, reply: str) -> None:
        """Replace a row's reply (a batchSend answered for part of its users: the row keeps
        the rest)."""
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id).values(reply=reply)
        )

    async def next_due_at(self) -> datetime | None:
        """When the earliest pending row becomes due."""
        return (
            await self.session.execute(
                select(func.min(OutboxMessage.next_attempt_at)).where(
                    OutboxMessage.status == "pending"
                )
            )
        ).scalar_one_or_none()
