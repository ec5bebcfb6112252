"""The outbox: replies written with their unit of work, leased to a sender, delivered once."""

from __future__ import annotations

import zlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import (
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    not_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.db import OUTBOX_CHANNEL, SCRUB, notify
from storage.models import (
    OutboxMessage,
)
from storage.queries import dialect, prebuilt, run, table
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


def _come(column: Any, now: Any, far: Any, *, inclusive: bool) -> Any:
    """``column`` is now or past, or further ahead than ``far`` (``now`` plus the horizon:
    set before the clock stepped back), when ``far`` is given. ``now`` and ``far`` are
    values or bound parameters."""
    reached = column <= now if inclusive else column < now
    return reached if far is None else reached | (column > far)


def _lapsed(now: Any, far: Any, row: Any = OutboxMessage) -> Any:
    """The outbox row's lease is none, over, or from before the clock stepped back."""
    lease = row.lease_until
    return lease.is_(None) | _come(lease, now, far, inclusive=False)


# Replies keep their order per key: a member's replies in one conversation (a group or
# their one-to-one chat), and a group's own posts (no member). The sender keeps that order
# within a process; across processes the outbox does: a row is sent only once every older
# pending row of its key is sent (or given up), see ``add_many``, ``due`` and ``lease``.
OrderKey = tuple[str, str]

# A NOTIFY on OUTBOX_CHANNEL whose payload starts with this names (by ``lock_id``, no
# member's id) the keys with replies just written to wait behind an older one: the process
# that marks that one sent takes them on (bot.sender). An empty payload means "rows for
# anyone".
BEHIND = "behind:"

# The first half of PostgreSQL's two-int advisory lock ids taken on an order key while its
# rows are written (the one-bigint ids, like the migrations' lock, are another key space).
ORDER_LOCK_SPACE = 7226032


def order_key(row: OutboxRow | OutboxMessage) -> OrderKey:
    """The key within which ``row`` keeps its order."""
    if isinstance(row, OutboxMessage):
        return (row.conversation_id, row.reply_staff_id)
    return (row["conversation_id"], row["reply_staff_id"])


def lock_id(key: OrderKey) -> int:
    """A stable 32-bit id for ``key`` (the same in every process; a collision only makes
    two keys' writers take turns)."""
    return zlib.crc32("\x00".join(key).encode()) - 2**31


# Advisory locks on order keys, in the order given (sorted by the caller).
_LOCK_KEYS = text(
    "SELECT pg_advisory_xact_lock(:space, k) FROM unnest(CAST(:keys AS integer[])) AS k"
)


def _unleased(row: OutboxRow) -> OutboxRow:
    waiting = row.copy()
    waiting["lease_until"] = None
    return waiting


def _same_key(older: Any, row: Any) -> Any:
    return and_(
        older.status == "pending",
        older.conversation_id == row.conversation_id,
        older.reply_staff_id == row.reply_staff_id,
        older.id < row.id,
    )


def _due(horizon: bool, keys: bool) -> Any:
    """``OutboxRepo.due``'s statement, with bound parameters ``now``, ``far`` (when
    ``horizon``), ``keys`` (when ``keys``: (conversation, member) pairs) and ``limit``."""
    now = bindparam("now", type_=UTCDateTime())
    far = bindparam("far", type_=UTCDateTime()) if horizon else None
    older = aliased(OutboxMessage)
    behind = exists().where(
        _same_key(older, OutboxMessage),
        not_(
            and_(
                _come(older.next_attempt_at, now, far, inclusive=True),
                _lapsed(now, far, older),
            )
        ),
    )
    query = select(OutboxMessage).where(
        OutboxMessage.status == "pending",
        _come(OutboxMessage.next_attempt_at, now, far, inclusive=True),
        _lapsed(now, far),
        ~behind,
    )
    if keys:
        query = query.where(
            tuple_(OutboxMessage.conversation_id, OutboxMessage.reply_staff_id).in_(
                bindparam("keys", expanding=True)
            )
        )
    return query.order_by(OutboxMessage.id).limit(bindparam("limit"))


def _lease(horizon: bool) -> Any:
    """``OutboxRepo.lease``'s statement, with bound parameters ``ids``, ``now``, ``far``
    (when ``horizon``) and ``until``."""
    now = bindparam("now", type_=UTCDateTime())
    far = bindparam("far", type_=UTCDateTime()) if horizon else None
    # SKIP LOCKED (PostgreSQL): a row another process is leasing or marking right now is
    # theirs; skip it instead of queueing behind their transaction.
    free = (
        select(_OUTBOX.c.id, _OUTBOX.c.conversation_id, _OUTBOX.c.reply_staff_id)
        .where(
            _OUTBOX.c.id.in_(bindparam("ids", expanding=True)),
            _OUTBOX.c.status == "pending",
            _lapsed(now, far, _OUTBOX.c),
        )
        .with_for_update(skip_locked=True)
        .cte("free")
    )
    # Checked against this statement's snapshot: an older row another process has just
    # leased or sent (and committed after the snapshot) still counts as waiting, and the
    # row behind it is left for the next round.
    older = _OUTBOX.alias("older")
    heads = select(free.c.id).where(
        ~exists().where(_same_key(older.c, free.c), older.c.id.not_in(select(free.c.id)))
    )
    return (
        update(_OUTBOX)
        .where(_OUTBOX.c.id.in_(heads))
        .values(lease_until=bindparam("until", type_=UTCDateTime()))
        .returning(_OUTBOX.c.id)
    )


@dataclass(slots=True)
class OutboxRepo:
    """Replies waiting for delivery, with leases so one sender sends each."""

    session: AsyncSession

    async def add_many(self, rows: list[OutboxRow]) -> list[OutboxMessage]:
        """Insert replies in one statement (idempotency keys are unique); rows with their ids."""
        if not rows:
            return []
        keys = sorted({order_key(r) for r in rows})
        # Writers of one key take turns from here to their commit, so the ids of a key's
        # rows (handed out by the insert below) follow the order their transactions commit
        # in: a process that sees a row also sees every older row of its key.
        await self.lock_keys(keys)
        # Rows written for any process's sender (this one sends nothing, or gives them up).
        for_anyone = any(r["lease_until"] is None and r["status"] == "pending" for r in rows)
        busy: set[OrderKey] = set()
        if any(r["lease_until"] is not None for r in rows):
            # A key with a reply still waiting (in flight in some process, paced, retried):
            # the new rows wait behind it, unleased, and go by ``lease`` once it is sent,
            # instead of straight to this process's sender, which could overtake it.
            busy = await self.waiting(keys)
            rows = [_unleased(r) if order_key(r) in busy else r for r in rows]
        # One multi-row INSERT for the whole batch ("insertmanyvalues"). Asking SQLAlchemy
        # for the ids in parameter order would, on SQLite (no implicit sentinel), send one
        # INSERT per row; the ids come back with their idempotency keys (unique) instead.
        # SQLite numbers the rows of one INSERT … VALUES in the order they are listed
        # (each new rowid is the largest so far plus one, sqlite.org/autoinc.html), so a
        # key's replies keep their order in ids; PostgreSQL gets the ordered form, which
        # SQLAlchemy batches there too (its implicit sentinel, "insertmanyvalues" docs).
        postgres = dialect(self.session) == "postgresql"
        stmt = prebuilt(
            self.session,
            "outbox_add_many",
            lambda insert: insert(_OUTBOX).returning(
                _OUTBOX.c.id, _OUTBOX.c.idem_key, sort_by_parameter_order=postgres
            ),
        )
        result = await run(self.session, stmt, rows)
        ids = {key: oid for oid, key in result.all()}
        if for_anyone:
            # Rows nobody holds are for any process's sender: tell them at commit rather
            # than leave the rows to their next poll.
            await notify(self.session, OUTBOX_CHANNEL)
        elif busy:
            # Rows waiting behind an older reply: the process sending that one hears which
            # keys, and takes them when it marks it (the others' polls are the safety net).
            await notify(
                self.session, OUTBOX_CHANNEL, BEHIND + ",".join(str(lock_id(k)) for k in busy)
            )
        # Plain (transient) model objects: the sender reads their fields, nothing is tracked.
        return [OutboxMessage(id=ids[row["idem_key"]], **row) for row in rows]

    async def lock_keys(self, keys: Collection[OrderKey]) -> None:
        """Take turns with every other writer or marker of these keys until the commit
        (PostgreSQL; SQLite has one writer at a time anyway). In one order (sorted ids), so
        two transactions with keys in common queue instead of deadlocking."""
        if not keys or dialect(self.session) != "postgresql":
            return
        await run(
            self.session,
            _LOCK_KEYS,
            {"space": ORDER_LOCK_SPACE, "keys": sorted({lock_id(k) for k in keys})},
        )

    async def due(
        self,
        now: datetime,
        limit: int,
        horizon: timedelta | None = None,
        keys: Collection[OrderKey] | None = None,
    ) -> list[OutboxMessage]:
        """Pending rows whose time has come and whose lease (if any) has lapsed.

        A time further ahead than ``horizon`` (the longest wait the sender ever sets) was
        written before the wall clock stepped back (an NTP correction): it counts as come,
        or a retry due "in 2 s" would wait for the clock to catch up, an hour maybe.

        Rows behind an older pending row of their key that is not due or is held (in flight
        elsewhere, paced, retried later) are left: they keep their order (``order_key``).
        """
        if keys is not None and not keys:
            return []
        # Built once per form (a hot path: every poll, and every mark that lets replies
        # waiting behind it go): building it cost more than running it, 3-4 ms a call.
        stmt = prebuilt(
            self.session,
            f"outbox_due_{horizon is not None}_{keys is not None}",
            lambda _: _due(horizon is not None, keys is not None),
        )
        params: dict[str, Any] = {"now": now, "limit": limit}
        if horizon is not None:
            params["far"] = now + horizon
        if keys is not None:
            params["keys"] = sorted(set(keys))
        rows = await self.session.execute(stmt, params)
        return list(rows.scalars())

    async def lease(
        self, ids: list[int], now: datetime, until: datetime, horizon: timedelta | None = None
    ) -> list[int]:
        """Take a lease on rows nobody else holds; return the ids this caller now owns.

        A row is taken only with every older pending row of its key (``order_key``): the
        oldest unsent reply of a key goes first, and a key whose oldest row another process
        holds (or is taking right now) is skipped whole, so two processes never send one
        member's replies side by side.
        """
        if not ids:
            return []
        # Built once per form (every poll and every mark that lets waiting replies go), and
        # run on the connection: the rows the caller read are its own objects (it sets their
        # lease itself), so the session need not look for them.
        stmt = prebuilt(
            self.session,
            f"outbox_lease_{horizon is not None}",
            lambda _: _lease(horizon is not None),
        )
        params: dict[str, Any] = {"ids": ids, "now": now, "until": until}
        if horizon is not None:
            params["far"] = now + horizon
        result = await run(self.session, stmt, params)
        return list(result.scalars())

    async def waiting(self, keys: Collection[OrderKey]) -> set[OrderKey]:
        """The keys among ``keys`` with a reply still pending (not yet sent or given up)."""
        if not keys:
            return set()
        # Built once (a hot path: every write and every mark); the two lists select a few
        # more pairs than asked, sorted out here.
        stmt = prebuilt(
            self.session,
            "outbox_waiting",
            lambda _: (
                select(_OUTBOX.c.conversation_id, _OUTBOX.c.reply_staff_id)
                .where(
                    _OUTBOX.c.status == "pending",
                    _OUTBOX.c.conversation_id.in_(bindparam("conversations", expanding=True)),
                    _OUTBOX.c.reply_staff_id.in_(bindparam("members", expanding=True)),
                )
                .distinct()
            ),
        )
        wanted = set(keys)
        result = await run(
            self.session,
            stmt,
            {
                "conversations": sorted({c for c, _ in wanted}),
                "members": sorted({m for _, m in wanted}),
            },
        )
        return {(c, m) for c, m in result.all()} & wanted

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
            "mark_sent_many",
            lambda _: (
                update(_OUTBOX)
                .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
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
                .returning(_OUTBOX.c.id, _OUTBOX.c.route)
            ),
        )
        # One UPDATE per route (a flush's marks nearly always share one), whose RETURNING
        # says which rows an erasure flagged; the DELETE runs only when there are such rows
        # (rare). This transaction holds their row locks (PostgreSQL) or the database's
        # write lock (SQLite) from the UPDATE to the commit, so no flag can come between.
        by_route: dict[str, list[int]] = {}
        for message_id, route in sent:
            by_route.setdefault(route, []).append(message_id)
        flagged: list[int] = []
        for route, ids in by_route.items():
            result = await run(self.session, stmt, {"ids": ids, "how": route, "now": now})
            flagged += [oid for oid, kept in result.all() if kept == SCRUB_AFTER_DELIVERY]
        if not flagged:
            return
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
        scrubbed = await run(self.session, scrub, {"ids": flagged})
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
