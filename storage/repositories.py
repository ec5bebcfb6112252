"""Runtime repositories: each takes a session, names its intent, and never commits."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Executable, Table, bindparam, case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import OUTBOX_CHANNEL, SCRUB, notify
from storage.models import (
    CardInstance,
    Conversation,
    Event,
    GroupSettings,
    InboxEvent,
    LedgerEntry,
    Like,
    Member,
    OutboxMessage,
    SendPace,
    Signup,
    SkillPost,
    Story,
    Swap,
    VolunteerHours,
)
from storage.types import UTCDateTime

_INBOX: Table = InboxEvent.__table__  # type: ignore[assignment]
_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
_CONVERSATIONS: Table = Conversation.__table__  # type: ignore[assignment]
_MEMBERS: Table = Member.__table__  # type: ignore[assignment]
_SETTINGS: Table = GroupSettings.__table__  # type: ignore[assignment]
_CARDS: Table = CardInstance.__table__  # type: ignore[assignment]
_PACE: Table = SendPace.__table__  # type: ignore[assignment]
_PREBUILT: dict[tuple[str, str], Any] = {}

# The ``route`` of a waiting outbox row that an erasure wants gone once it is delivered.
SCRUB_AFTER_DELIVERY = "scrub"


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def _prebuilt(session: AsyncSession, name: str, build: Callable[[Any], Executable]) -> Any:
    """A hot statement built once per dialect and run with bound parameters.

    Building a SQLAlchemy statement costs more than running it on SQLite; the hot paths
    (claim, touch, mark sent) build theirs once.
    """
    key = (_dialect(session), name)
    stmt = _PREBUILT.get(key)
    if stmt is None:
        insert = pg_insert if key[0] == "postgresql" else sqlite_insert
        stmt = _PREBUILT[key] = build(insert)
    return stmt


async def _core(session: AsyncSession, stmt: Any, params: Any = None) -> Any:
    """Run a Core statement on the session's connection (same transaction), skipping the ORM
    session's per-statement machinery: the hot paths pay for that on every message."""
    connection = await session.connection()
    return await connection.execute(stmt, params)


def _insert(session: AsyncSession, model: Any) -> Any:
    """A dialect insert that supports ``on_conflict_do_nothing`` / ``do_update``."""
    return (pg_insert if _dialect(session) == "postgresql" else sqlite_insert)(model)


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


@dataclass(slots=True)
class InboxRepo:
    """The durable inbox: every push recorded once, processed once."""

    session: AsyncSession

    async def record_many(
        self, rows: list[dict[str, Any]], now: datetime, *, status: str = "received"
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
        stmt = _prebuilt(
            self.session,
            "inbox_record_many",
            lambda insert: (
                insert(_INBOX)
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(_INBOX.c.id, _INBOX.c.key)
            ),
        )
        result = await _core(self.session, stmt, values)
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
        stmt = _prebuilt(
            self.session,
            "claim",
            lambda _: (
                update(_INBOX)
                .where(_INBOX.c.id.in_(_unlocked_received()))
                .values(status="done", processed_at=bindparam("now", type_=UTCDateTime()))
                .returning(_INBOX.c.id, _INBOX.c.key, _INBOX.c.payload)
            ),
        )
        result = await _core(self.session, stmt, {"ids": event_ids, "now": now})
        taken = {row[0]: (row[0], row[1], row[2]) for row in result.all()}
        return [taken[i] for i in event_ids if i in taken]

    async def mark(self, event_id: int, status: str, now: datetime, error: str = "") -> None:
        """Set an event's final status (``failed`` after an unexpected error, ``dead`` when
        even that could not be handled), with the error."""
        await self.session.execute(
            update(InboxEvent)
            .where(InboxEvent.id == event_id)
            .values(status=status, processed_at=now, error=error[:2000])
        )

    async def record_dead(self, row: dict[str, Any], error: str, now: datetime) -> int | None:
        """Record a push that cannot be stored or handled as a dead letter: acked, kept with
        its error for operators, never retried. The payload is kept as ASCII-only JSON, which
        every database can store. None when the key is already recorded."""
        stmt = (
            _insert(self.session, _INBOX)
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

    async def by_key(self, key: str) -> InboxEvent | None:
        """The event recorded under ``key``."""
        return (
            await self.session.execute(select(InboxEvent).where(InboxEvent.key == key))
        ).scalar_one_or_none()

    async def set_responses(self, responses: list[tuple[int, dict[str, Any]]]) -> None:
        """Store clicks' answers (one round trip), so a redelivered click gets the same one."""
        if not responses:
            return
        stmt = _prebuilt(
            self.session,
            "inbox_response",
            lambda _: (
                update(_INBOX)
                .where(_INBOX.c.id == bindparam("eid"))
                .values(response=bindparam("body"))
            ),
        )
        await _core(
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

    async def add_many(self, rows: list[dict[str, Any]]) -> list[OutboxMessage]:
        """Insert replies in one statement (idempotency keys are unique); rows with their ids."""
        if not rows:
            return []
        result = await _core(
            self.session,
            _insert(self.session, _OUTBOX).returning(_OUTBOX.c.id, sort_by_parameter_order=True),
            rows,
        )
        if any(r.get("lease_until") is None and r.get("status") == "pending" for r in rows):
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
        stmt = _prebuilt(
            self.session,
            "mark_sent",
            lambda _: (
                update(_OUTBOX)
                # A row an erasure flagged is not marked but deleted (below). The flag is
                # checked here, after any erasure holding the row committed (PostgreSQL
                # re-reads a row it waited for): checked before, a flag set meanwhile was
                # overwritten and the member's dump kept.
                .where(
                    _OUTBOX.c.id == bindparam("oid"),
                    _OUTBOX.c.route != SCRUB_AFTER_DELIVERY,
                )
                .values(
                    status="sent",
                    sent_at=bindparam("now", type_=UTCDateTime()),
                    lease_until=None,
                    route=bindparam("how"),
                    last_error="",
                    # Routing needs these no more: a delivered row keeps no member's id
                    # and no session link (erasure then finds nothing left to scrub here).
                    reply_staff_id="",
                    session_webhook="",
                )
            ),
        )
        await _core(
            self.session,
            stmt,
            [{"oid": message_id, "how": route, "now": now} for message_id, route in sent],
        )
        scrub = _prebuilt(
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
        scrubbed = await _core(self.session, scrub, {"ids": [oid for oid, _ in sent]})
        if scrubbed.first() is not None:
            self.session.info[SCRUB] = True

    async def mark_retry(
        self, message_id: int, attempts: int, at: datetime, error: str, *, failed: bool
    ) -> None:
        """Schedule another attempt, or give up."""
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(
                status="failed" if failed else "pending",
                attempts=attempts,
                next_attempt_at=at,
                lease_until=None,
                last_error=error[:500],
            )
        )

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


@dataclass(slots=True)
class MemberRepo:
    """Conversations and the members seen in them."""

    session: AsyncSession

    async def touch_conversations(self, conversations: list[dict[str, Any]]) -> None:
        """Insert conversations seen for the first time; keep titles current."""

        def build(insert: Any) -> Any:
            stmt = insert(_CONVERSATIONS)
            return stmt.on_conflict_do_update(
                index_elements=["id"],
                set_={"last_seen_at": stmt.excluded.last_seen_at, "title": stmt.excluded.title},
            )

        if conversations:
            await _core(
                self.session, _prebuilt(self.session, "touch_conversation", build), conversations
            )

    async def touch_members(self, members: list[dict[str, Any]]) -> None:
        """Record that members spoke: first seen, last seen, nick and message count.

        Each dict has conversation_id, staff_id, nick, admin (DingTalk's flag) and now; one
        statement for the batch.
        """

        def build(insert: Any) -> Any:
            stmt = insert(_MEMBERS)
            return stmt.on_conflict_do_update(
                index_elements=["conversation_id", "staff_id"],
                set_={
                    "last_seen_at": stmt.excluded.last_seen_at,
                    "nick": stmt.excluded.nick,
                    "messages": _MEMBERS.c.messages + 1,
                    "dingtalk_admin": stmt.excluded.dingtalk_admin,
                },
            )

        rows = [
            {
                "conversation_id": m["conversation_id"],
                "staff_id": m["staff_id"],
                "nick": m["nick"],
                "first_seen_at": m["now"],
                "last_seen_at": m["now"],
                "messages": 1,
                "like_messages": 0,
                "dingtalk_admin": m["admin"],
            }
            for m in members
            if m["staff_id"]
        ]
        if rows:
            await _core(self.session, _prebuilt(self.session, "touch_member", build), rows)

    async def title(self, conversation_id: str) -> str:
        """A conversation's title (empty when unknown)."""
        conversation = await self.session.get(Conversation, conversation_id)
        return conversation.title if conversation is not None else ""

    async def flagged_admins(self, conversation_id: str) -> list[str]:
        """Members whose latest message carried DingTalk's admin flag."""
        rows = await self.session.execute(
            select(Member.staff_id).where(
                Member.conversation_id == conversation_id, Member.dingtalk_admin.is_(True)
            )
        )
        return list(rows.scalars())

    async def get(self, conversation_id: str, staff_id: str) -> Member | None:
        """A member of a conversation."""
        return await self.session.get(Member, (conversation_id, staff_id))

    async def nicks(self, conversation_id: str, staff_ids: list[str]) -> dict[str, str]:
        """The nick last seen from each of these members in the group (those who have one)."""
        wanted = [s for s in dict.fromkeys(staff_ids) if s]
        if not wanted:
            return {}
        rows = await self.session.execute(
            select(Member.staff_id, Member.nick).where(
                Member.conversation_id == conversation_id, Member.staff_id.in_(wanted)
            )
        )
        return {staff: nick for staff, nick in rows.all() if nick}

    async def directory(self, conversation_id: str) -> dict[str, str]:
        """Every member the bot has seen in the group, with the nick last seen (may be empty)."""
        rows = await self.session.execute(
            select(Member.staff_id, Member.nick).where(Member.conversation_id == conversation_id)
        )
        return dict(rows.tuples().all())

    async def group_of(self, kind: str, entity_id: int) -> str | None:
        """The group a numbered entity (``story``, ``event``, ``post``, ``swap``) belongs to.

        Numbers are unique across groups (and never reused), so a number alone names its group.
        """
        model = {"story": Story, "event": Event, "post": SkillPost, "swap": Swap}.get(kind)
        if model is None or not 0 < entity_id < 2**63:
            return None
        return await self.session.scalar(
            select(model.conversation_id).where(model.id == entity_id)  # type: ignore[attr-defined]
        )

    async def data_groups(self, staff_id: str) -> list[tuple[str, str]]:
        """Every group holding something about the member (profile, stories, likes, sign-ups,
        hours, posts, swaps, credits, raw messages): (conversation id, title), by title.

        Wider than ``groups_of``: a member who only pressed card buttons in a group has likes
        or sign-ups there but never spoke. /mydata and /forget one to one cover all of them.
        """
        sources = [
            select(Member.conversation_id).where(Member.staff_id == staff_id),
            select(Story.conversation_id).where(Story.author_staff_id == staff_id),
            select(Like.conversation_id).where(Like.staff_id == staff_id),
            select(Signup.conversation_id).where(Signup.staff_id == staff_id),
            select(VolunteerHours.conversation_id).where(VolunteerHours.staff_id == staff_id),
            select(SkillPost.conversation_id).where(SkillPost.staff_id == staff_id),
            select(Swap.conversation_id).where(
                (Swap.proposer == staff_id) | (Swap.partner == staff_id)
            ),
            select(LedgerEntry.conversation_id).where(LedgerEntry.account == staff_id),
            select(InboxEvent.conversation_id).where(InboxEvent.staff_id == staff_id),
        ]
        ids: set[str] = set()
        for stmt in sources:
            ids.update(c for c in (await self.session.execute(stmt)).scalars() if c)
        if not ids:
            return []
        rows = await self.session.execute(
            select(Conversation.id, Conversation.title, Conversation.type).where(
                Conversation.id.in_(ids)
            )
        )
        known = {cid: (title, kind) for cid, title, kind in rows.tuples().all()}
        return sorted(
            (
                (cid, known.get(cid, ("", "2"))[0])
                for cid in ids
                if known.get(cid, ("", "2"))[1] == "2"
            ),
            key=lambda g: (g[1], g[0]),
        )

    async def groups_of(self, staff_id: str) -> list[tuple[str, str]]:
        """The group chats the member has spoken in: (conversation id, title), by title."""
        rows = await self.session.execute(
            select(Conversation.id, Conversation.title)
            .join(Member, Member.conversation_id == Conversation.id)
            .where(Member.staff_id == staff_id, Conversation.type == "2")
            .order_by(Conversation.title, Conversation.id)
        )
        return list(rows.tuples().all())


@dataclass(slots=True)
class CardRepo:
    """Cards the bot delivered, so clicks can be traced to their group and entity."""

    session: AsyncSession

    async def remember(
        self,
        *,
        out_track_id: str,
        conversation_id: str,
        kind: str,
        entity_id: str,
        now: datetime,
        actions: list[str] | None = None,
    ) -> None:
        """Record a card instance with its buttons' verbs (idempotent)."""
        await self.session.execute(
            _insert(self.session, CardInstance)
            .values(
                out_track_id=out_track_id,
                conversation_id=conversation_id,
                kind=kind,
                entity_id=entity_id,
                actions=",".join(actions or [])[:200],
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["out_track_id"])
        )

    async def get(self, out_track_id: str) -> CardInstance | None:
        """The card with that track id."""
        return await self.session.get(CardInstance, out_track_id)

    async def track_ids(self, kind: str, entity_id: str) -> list[str]:
        """The track ids of every delivered card showing that entity (to update them all)."""
        stmt = _prebuilt(
            self.session,
            "card_tracks",
            lambda _: select(_CARDS.c.out_track_id).where(
                _CARDS.c.kind == bindparam("kind"), _CARDS.c.entity_id == bindparam("entity")
            ),
        )
        rows = await _core(self.session, stmt, {"kind": kind, "entity": entity_id})
        return [str(track) for track in rows.scalars()]


@dataclass(slots=True)
class GroupSettingsRepo:
    """Per-group switches. Within its unit of work the repository remembers which modules
    are off in a group (every command checks), and forgets a group whose modules it switches."""

    session: AsyncSession
    _disabled: dict[str, frozenset[str]] = field(default_factory=dict)

    async def get(self, conversation_id: str, *, review_default: bool) -> GroupSettings:
        """The group's settings, created with the defaults on first use."""
        await self.session.execute(
            _insert(self.session, GroupSettings)
            .values(
                conversation_id=conversation_id,
                review_stories=review_default,
                likes_dirty=False,
            )
            .on_conflict_do_nothing(index_elements=["conversation_id"])
        )
        settings = await self.session.get(GroupSettings, conversation_id)
        assert settings is not None
        return settings

    async def set_review(self, conversation_id: str, on: bool, *, review_default: bool) -> None:
        """Turn story review on or off for the group."""
        await self.get(conversation_id, review_default=review_default)
        await self.session.execute(
            update(GroupSettings)
            .where(GroupSettings.conversation_id == conversation_id)
            .values(review_stories=on)
        )

    async def disabled_modules(self, conversation_id: str) -> frozenset[str]:
        """Modules switched off in this group (no row yet: none)."""
        known = self._disabled.get(conversation_id)
        if known is not None:
            return known
        stmt = _prebuilt(
            self.session,
            "disabled_modules",
            lambda _: select(_SETTINGS.c.disabled_modules).where(
                _SETTINGS.c.conversation_id == bindparam("cid")
            ),
        )
        value = (await _core(self.session, stmt, {"cid": conversation_id})).scalar()
        known = self._disabled[conversation_id] = frozenset(
            m for m in (value or "").split(",") if m
        )
        return known

    async def set_module(
        self, conversation_id: str, module: str, on: bool, *, review_default: bool
    ) -> None:
        """Switch a module on or off for the group."""
        self._disabled.pop(conversation_id, None)
        settings = await self.get(conversation_id, review_default=review_default)
        disabled = {m for m in settings.disabled_modules.split(",") if m}
        disabled = disabled - {module} if on else disabled | {module}
        await self.session.execute(
            update(GroupSettings)
            .where(GroupSettings.conversation_id == conversation_id)
            .values(disabled_modules=",".join(sorted(disabled)))
        )

    async def mark_likes_dirty(self, conversation_id: str) -> None:
        """New like evidence: the group's weights need recomputing."""
        await self.session.execute(
            update(GroupSettings)
            .where(GroupSettings.conversation_id == conversation_id)
            .values(likes_dirty=True)
        )

    async def dirty_groups(self) -> list[str]:
        """Groups whose weights are out of date."""
        rows = await self.session.execute(
            select(GroupSettings.conversation_id).where(GroupSettings.likes_dirty.is_(True))
        )
        return list(rows.scalars())

    async def clear_dirty(self, conversation_id: str) -> None:
        """The group's weights are current."""
        await self.session.execute(
            update(GroupSettings)
            .where(GroupSettings.conversation_id == conversation_id)
            .values(likes_dirty=False)
        )


@dataclass(slots=True)
class PaceRepo:
    """Token buckets shared by every process (the per-group send pace)."""

    session: AsyncSession

    async def take(self, key: str, now: float, rate: float, burst: float) -> float:
        """Take a token from ``key``'s bucket (``rate`` per second, at most ``burst``); 0 when
        granted, else the seconds until the next one. ``now`` is wall-clock epoch seconds.

        One upsert decides, so two processes never take the same token; a clock that stepped
        back refills nothing rather than a negative amount.
        """
        elapsed = case((now > _PACE.c.stamp, now - _PACE.c.stamp), else_=0.0)
        refilled = _PACE.c.tokens + elapsed * rate
        available = case((refilled > burst, burst), else_=refilled)
        insert = _insert(self.session, _PACE)
        stmt = (
            insert.values(key=key, tokens=burst - 1.0, stamp=now)
            .on_conflict_do_update(
                index_elements=["key"],
                set_={"tokens": available - 1.0, "stamp": now},
                where=available >= 1.0,
            )
            .returning(_PACE.c.tokens)
        )
        if (await self.session.execute(stmt)).first() is not None:
            return 0.0
        row = (
            await self.session.execute(
                select(_PACE.c.tokens, _PACE.c.stamp).where(_PACE.c.key == key)
            )
        ).one()
        tokens = min(burst, float(row.tokens) + max(0.0, now - float(row.stamp)) * rate)
        return max(0.0, (1.0 - float(tokens)) / rate)
