"""Volunteer hours, credited once per member per activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Event, Signup, VolunteerHours
from storage.queries import upsert


@dataclass(slots=True)
class HoursRepo:
    """Volunteer hours, credited once per member per activity."""

    session: AsyncSession

    async def credit(self, event: Event, staff_ids: list[str], now: datetime) -> int:
        """Credit the activity's hours to those who came; returns how many were credited."""
        if not staff_ids:
            return 0
        result = await self.session.execute(
            upsert(self.session, VolunteerHours)
            .values(
                [
                    {
                        "conversation_id": event.conversation_id,
                        "staff_id": staff,
                        "event_id": event.id,
                        "title": event.title,
                        "hours": event.hours,
                        "at": now,
                    }
                    for staff in staff_ids
                ]
            )
            .on_conflict_do_nothing(index_elements=["event_id", "staff_id"])
            .returning(VolunteerHours.id)
        )
        return len(result.all())

    async def of_member(self, conversation_id: str, staff_id: str) -> list[VolunteerHours]:
        """A member's credited activities, newest first."""
        rows = await self.session.execute(
            select(VolunteerHours)
            .where(
                VolunteerHours.conversation_id == conversation_id,
                VolunteerHours.staff_id == staff_id,
            )
            .order_by(VolunteerHours.id.desc())
        )
        return list(rows.scalars())

    async def board(
        self, conversation_id: str, since: datetime | None, limit: int
    ) -> list[tuple[str, float, int]]:
        """(staff id, total hours, activities) of the group's top members, most hours first."""
        total = func.sum(VolunteerHours.hours)
        stmt = (
            select(VolunteerHours.staff_id, total, func.count(VolunteerHours.id))
            .where(VolunteerHours.conversation_id == conversation_id)
            .group_by(VolunteerHours.staff_id)
            .order_by(total.desc(), VolunteerHours.staff_id)
            .limit(limit)
        )
        if since is not None:
            stmt = stmt.where(VolunteerHours.at >= since)
        rows = await self.session.execute(stmt)
        return [(str(s), float(h), int(n)) for s, h, n in rows.all()]

    async def attendance(self, conversation_id: str, staff_id: str) -> tuple[int, int]:
        """(finished activities the member was confirmed for, how many of them credited)."""
        rows = await self.session.execute(
            select(Signup.event_id)
            .join(Event, Event.id == Signup.event_id)
            .where(
                Signup.conversation_id == conversation_id,
                Signup.staff_id == staff_id,
                Signup.status == "confirmed",
                Event.status == "done",
            )
        )
        signed = list(rows.scalars())
        if not signed:
            return 0, 0
        came = await self.session.scalar(
            select(func.count(VolunteerHours.id)).where(
                VolunteerHours.staff_id == staff_id, VolunteerHours.event_id.in_(signed)
            )
        )
        return len(signed), int(came or 0)

    async def erase(self, conversation_id: str, staff_id: str) -> int:
        """Forget a member's hours."""
        result = await self.session.execute(
            delete(VolunteerHours).where(
                VolunteerHours.conversation_id == conversation_id,
                VolunteerHours.staff_id == staff_id,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
