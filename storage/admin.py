"""Repositories for admin power and privacy: the audit log, bans, forget requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AuditEntry,
    Ban,
    CardInstance,
    Event,
    ForgetRequest,
    InboxEvent,
    Member,
    OutboxMessage,
    Story,
)
from storage.queries import prebuilt, run, table, upsert
from storage.repositories import SCRUB_AFTER_DELIVERY
from storage.views import AuditView, read_all

_BANS = table(Ban)
_AUDIT = table(AuditEntry)


@dataclass(slots=True)
class AuditRepo:
    """Admin actions, newest last."""

    session: AsyncSession

    async def record(
        self, conversation_id: str, staff_id: str, action: str, detail: str, now: datetime
    ) -> None:
        """Write one admin action."""
        self.session.add(
            AuditEntry(
                conversation_id=conversation_id,
                staff_id=staff_id,
                action=action[:100],
                detail=detail[:500],
                at=now,
            )
        )

    async def recent(self, conversation_id: str, limit: int = 20) -> list[AuditView]:
        """The group's latest admin actions, newest first."""
        return await read_all(
            self.session,
            AuditView,
            select(_AUDIT)
            .where(_AUDIT.c.conversation_id == conversation_id)
            .order_by(_AUDIT.c.id.desc())
            .limit(limit),
        )


@dataclass(slots=True)
class BanRepo:
    """Who may not act in which group. Within its unit of work the repository remembers what
    it read (every action checks), and forgets a member it bans or unbans."""

    session: AsyncSession
    _known: dict[tuple[str, str], bool] = field(default_factory=dict)

    async def ban(self, conversation_id: str, staff_id: str, by: str, now: datetime) -> bool:
        """Ban; False when already banned."""
        result = await self.session.execute(
            upsert(self.session, Ban)
            .values(conversation_id=conversation_id, staff_id=staff_id, banned_by=by, at=now)
            .on_conflict_do_nothing(index_elements=["conversation_id", "staff_id"])
            .returning(Ban.staff_id)
        )
        self._known.pop((conversation_id, staff_id), None)  # read afresh (may roll back)
        return result.scalar_one_or_none() is not None

    async def unban(self, conversation_id: str, staff_id: str) -> bool:
        """Lift a ban; False when there was none."""
        result = await self.session.execute(
            delete(Ban).where(Ban.conversation_id == conversation_id, Ban.staff_id == staff_id)
        )
        self._known.pop((conversation_id, staff_id), None)
        return bool(getattr(result, "rowcount", 0))

    async def is_banned(self, conversation_id: str, staff_id: str) -> bool:
        """Whether the member is banned in the group."""
        return staff_id in await self.banned_among(conversation_id, [staff_id])

    async def banned_among(self, conversation_id: str, staff_ids: list[str]) -> set[str]:
        """Which of these members are banned in the group (one query for those not yet read)."""
        unread = [s for s in dict.fromkeys(staff_ids) if (conversation_id, s) not in self._known]
        if unread:
            stmt = prebuilt(
                self.session,
                "banned_among",
                lambda _: select(_BANS.c.staff_id).where(
                    _BANS.c.conversation_id == bindparam("cid"),
                    _BANS.c.staff_id.in_(bindparam("sids", expanding=True)),
                ),
            )
            rows = await run(self.session, stmt, {"cid": conversation_id, "sids": unread})
            banned = {row[0] for row in rows.all()}
            self._known.update(((conversation_id, s), s in banned) for s in unread)
        return {s for s in staff_ids if self._known[(conversation_id, s)]}


@dataclass(slots=True)
class PrivacyRepo:
    """What the runtime itself keeps about a member, and erasing it."""

    session: AsyncSession

    async def request_forget(self, conversation_id: str, staff_id: str, now: datetime) -> None:
        """Start (or restart) the confirmation window."""
        await self.session.execute(
            upsert(self.session, ForgetRequest)
            .values(conversation_id=conversation_id, staff_id=staff_id, requested_at=now)
            .on_conflict_do_update(
                index_elements=["conversation_id", "staff_id"], set_={"requested_at": now}
            )
        )

    async def take_forget_request(
        self, conversation_id: str, staff_id: str, since: datetime
    ) -> bool:
        """Consume a request made after ``since``; False when there is none (or it expired)."""
        result = await self.session.execute(
            delete(ForgetRequest).where(
                ForgetRequest.conversation_id == conversation_id,
                ForgetRequest.staff_id == staff_id,
                ForgetRequest.requested_at >= since,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def raw_messages(self, conversation_id: str, staff_id: str) -> int:
        """Raw inbound payloads still kept for this member (with content)."""
        return int(
            await self.session.scalar(
                select(func.count(InboxEvent.id)).where(
                    InboxEvent.conversation_id == conversation_id,
                    InboxEvent.staff_id == staff_id,
                )
            )
            or 0
        )

    async def erase_raw_messages(self, conversation_id: str, staff_id: str) -> int:
        """Blank the member's raw payloads; the keys stay so a redelivery is still a duplicate."""
        result = await self.session.execute(
            update(InboxEvent)
            .where(InboxEvent.conversation_id == conversation_id, InboxEvent.staff_id == staff_id)
            .values(payload="{}", staff_id="", response=None)
        )
        await self.session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.conversation_id == conversation_id,
                OutboxMessage.reply_staff_id == staff_id,
                OutboxMessage.status == "sent",
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def erase_profile(self, conversation_id: str, staff_id: str) -> int:
        """Forget the member row (nick, first and last seen, message counts)."""
        await self.session.execute(
            delete(ForgetRequest).where(
                ForgetRequest.conversation_id == conversation_id, ForgetRequest.staff_id == staff_id
            )
        )
        result = await self.session.execute(
            delete(Member).where(
                Member.conversation_id == conversation_id, Member.staff_id == staff_id
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def _copies(self, conversation_id: str, staff_id: str, nicks: list[str]) -> Any:
        """Outbox rows of this group (or one to one) that name or answer the member."""
        mentions = [OutboxMessage.reply.contains(staff_id, autoescape=True)]
        mentions += [OutboxMessage.reply.contains(n, autoescape=True) for n in nicks if n]
        # Replies to the member's own messages and clicks (their idempotency key starts with
        # the inbox key): delivery blanks the routing fields, the key still links them.
        caused = exists().where(
            InboxEvent.conversation_id == conversation_id,
            InboxEvent.staff_id == staff_id,
            OutboxMessage.idem_key.like(InboxEvent.key.concat("#%")),
        )
        return (
            OutboxMessage.conversation_id.in_([conversation_id, ""]),
            or_(OutboxMessage.reply_staff_id == staff_id, caused, *mentions),
        )

    async def message_copies(self, conversation_id: str, staff_id: str, nicks: list[str]) -> int:
        """Copies of messages to or about the member the outbox still holds."""
        return int(
            await self.session.scalar(
                select(func.count(OutboxMessage.id)).where(
                    *self._copies(conversation_id, staff_id, nicks)
                )
            )
            or 0
        )

    async def erase_message_copies(
        self, conversation_id: str, staff_id: str, nicks: list[str]
    ) -> int:
        """Delete delivered copies of messages to or about the member (their own /mydata
        dump included) and blank other members' handled messages that name them. Replies
        still waiting are delivered first (delivery blanks their routing fields)."""
        # Copies still waiting go out first and are deleted when their delivery is marked.
        # Flagged before the delete of delivered copies, not after: a reply on the wire whose
        # mark commits between the two statements is then either flagged (its mark waits for
        # this row lock and keeps the flag) or already sent (and deleted below).
        await self.session.execute(
            update(OutboxMessage)
            .where(
                *self._copies(conversation_id, staff_id, nicks),
                OutboxMessage.status == "pending",
            )
            .values(route=SCRUB_AFTER_DELIVERY)
        )
        result = await self.session.execute(
            delete(OutboxMessage).where(
                *self._copies(conversation_id, staff_id, nicks),
                OutboxMessage.status != "pending",
            )
        )
        erased = int(getattr(result, "rowcount", 0) or 0)
        names = [staff_id, *(n for n in nicks if n)]
        result = await self.session.execute(
            update(InboxEvent)
            .where(
                InboxEvent.conversation_id == conversation_id,
                InboxEvent.status != "received",
                # Other members' messages: the member's own are the raw-messages section's,
                # which erases and counts them (counted here too, they were counted twice).
                InboxEvent.staff_id != staff_id,
                or_(*(InboxEvent.payload.contains(n, autoescape=True) for n in names)),
            )
            .values(payload="{}", response=None)
        )
        await self.session.execute(
            delete(CardInstance).where(
                CardInstance.conversation_id.in_([conversation_id, ""]),
                CardInstance.entity_id == staff_id,
            )
        )
        return erased + int(getattr(result, "rowcount", 0) or 0)

    async def audit_entries(self, conversation_id: str, staff_id: str) -> int:
        """Audit entries by or about the member."""
        return int(
            await self.session.scalar(
                select(func.count(AuditEntry.id)).where(
                    AuditEntry.conversation_id == conversation_id,
                    or_(
                        AuditEntry.staff_id == staff_id,
                        AuditEntry.detail.contains(staff_id, autoescape=True),
                    ),
                )
            )
            or 0
        )

    async def pseudonymise(self, conversation_id: str, staff_id: str, pseudonym: str) -> int:
        """Keep the group's records of admin actions, with the member's id replaced by a
        pseudonym: in the audit log, and where they decided, created or banned."""
        audit = await self.session.execute(
            update(AuditEntry)
            .where(
                AuditEntry.conversation_id == conversation_id,
                or_(
                    AuditEntry.staff_id == staff_id,
                    AuditEntry.detail.contains(staff_id, autoescape=True),
                ),
            )
            .values(
                staff_id=func.replace(AuditEntry.staff_id, staff_id, pseudonym),
                detail=func.replace(AuditEntry.detail, staff_id, pseudonym),
            )
        )
        for model, column in (
            (Story, Story.decided_by),
            (Event, Event.created_by),
            (Ban, Ban.banned_by),
        ):
            await self.session.execute(
                update(model)
                .where(model.conversation_id == conversation_id, column == staff_id)
                .values({column.key: pseudonym})
            )
        return int(getattr(audit, "rowcount", 0) or 0)
