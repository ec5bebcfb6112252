"""Check-ins, wrong code guesses, and members who turned their reminders off."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Checkin, CheckinGuess, Event, ReminderOptOut
from storage.queries import upsert


@dataclass(slots=True)
class CheckinRepo:
    """Check-ins (one per member per activity) and wrong code guesses."""

    session: AsyncSession

    async def add(self, event: Event, staff_id: str, nick: str, now: datetime, *, by: str) -> bool:
        """Record a check-in (``by``: "" with the code, else the admin who added it); False
        when the member had already checked in."""
        result = await self.session.execute(
            upsert(self.session, Checkin)
            .values(
                event_id=event.id,
                conversation_id=event.conversation_id,
                staff_id=staff_id,
                nick=nick,
                at=now,
                by=by,
            )
            .on_conflict_do_nothing(index_elements=["event_id", "staff_id"])
            .returning(Checkin.id)
        )
        return bool(result.all())

    async def of_event(self, event_id: int) -> list[Checkin]:
        """The activity's check-ins in order."""
        rows = await self.session.execute(
            select(Checkin).where(Checkin.event_id == event_id).order_by(Checkin.id)
        )
        return list(rows.scalars())

    async def wrong(self, conversation_id: str, staff_id: str, now: datetime) -> None:
        """Count a wrong code."""
        self.session.add(CheckinGuess(conversation_id=conversation_id, staff_id=staff_id, at=now))
        await self.session.flush()

    async def wrong_since(self, conversation_id: str, staff_id: str, since: datetime) -> int:
        """Wrong codes from this member in this group since ``since``."""
        count = await self.session.scalar(
            select(func.count(CheckinGuess.id)).where(
                CheckinGuess.conversation_id == conversation_id,
                CheckinGuess.staff_id == staff_id,
                CheckinGuess.at >= since,
            )
        )
        return int(count or 0)

    async def of_member(self, conversation_id: str, staff_id: str) -> list[Checkin]:
        """A member's check-ins in a group, newest first."""
        rows = await self.session.execute(
            select(Checkin)
            .where(Checkin.conversation_id == conversation_id, Checkin.staff_id == staff_id)
            .order_by(Checkin.id.desc())
        )
        return list(rows.scalars())

    async def erase(self, conversation_id: str, staff_id: str) -> int:
        """Forget a member's check-ins and wrong guesses."""
        result = await self.session.execute(
            delete(Checkin).where(
                Checkin.conversation_id == conversation_id, Checkin.staff_id == staff_id
            )
        )
        await self.session.execute(
            delete(CheckinGuess).where(
                CheckinGuess.conversation_id == conversation_id,
                CheckinGuess.staff_id == staff_id,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


@dataclass(slots=True)
class ReminderOptOutRepo:
    """Members who turned their own activity reminders off in a group."""

    session: AsyncSession

    async def switch(self, conversation_id: str, staff_id: str, off: bool, now: datetime) -> None:
        """Turn a member's one-to-one reminders off (``off``) or back on."""
        await self.session.execute(
            delete(ReminderOptOut).where(
                ReminderOptOut.conversation_id == conversation_id,
                ReminderOptOut.staff_id == staff_id,
            )
        )
        if off:
            self.session.add(
                ReminderOptOut(conversation_id=conversation_id, staff_id=staff_id, at=now)
            )
            await self.session.flush()

    async def opted_out(self, conversation_id: str, staff_ids: Sequence[str]) -> set[str]:
        """Which of these members turned their reminders off in the group."""
        if not staff_ids:
            return set()
        rows = await self.session.execute(
            select(ReminderOptOut.staff_id).where(
                ReminderOptOut.conversation_id == conversation_id,
                ReminderOptOut.staff_id.in_(list(staff_ids)),
            )
        )
        return set(rows.scalars())
