"""Repositories for admin power and privacy: the audit log, bans, forget requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, Ban, ForgetRequest, InboxEvent, Member, OutboxMessage
from storage.repositories import _core, _insert, _prebuilt

_BANS: Table = Ban.__table__  # type: ignore[assignment]


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

    async def recent(self, conversation_id: str, limit: int = 20) -> list[AuditEntry]:
        """The group's latest admin actions, newest first."""
        rows = await self.session.execute(
            select(AuditEntry)
            .where(AuditEntry.conversation_id == conversation_id)
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
        return list(rows.scalars())


@dataclass(slots=True)
class BanRepo:
    """Who may not act in which group. Within its unit of work the repository remembers what
    it read (every action checks), and forgets a member it bans or unbans."""

    session: AsyncSession
    _known: dict[tuple[str, str], bool] = field(default_factory=dict)

    async def ban(self, conversation_id: str, staff_id: str, by: str, now: datetime) -> bool:
        """Ban; False when already banned."""
        result = await self.session.execute(
            _insert(self.session, Ban)
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
            stmt = _prebuilt(
                self.session,
                "banned_among",
                lambda _: select(_BANS.c.staff_id).where(
                    _BANS.c.conversation_id == bindparam("cid"),
                    _BANS.c.staff_id.in_(bindparam("sids", expanding=True)),
                ),
            )
            rows = await _core(self.session, stmt, {"cid": conversation_id, "sids": unread})
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
            _insert(self.session, ForgetRequest)
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
