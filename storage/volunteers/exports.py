"""The rows of the organisers' spreadsheets (issue 17): hours, an activity's roster and
time credits. Read-only; the handler turns them into named, local-time rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Event, LedgerEntry, VolunteerHours


@dataclass(frozen=True, slots=True)
class HoursRow:
    """One credited activity of one member."""

    id: int
    staff_id: str
    event_id: int
    title: str
    starts_at: datetime | None  # None when the activity no longer exists
    hours: float
    at: datetime


@dataclass(frozen=True, slots=True)
class CreditRow:
    """One member's time-credit account in a group."""

    account: str
    earned: float
    spent: float
    balance: float
    swaps: int


@dataclass(slots=True)
class ExportRepo:
    """What the exports read, one group at a time."""

    session: AsyncSession

    async def hours(
        self,
        conversation_id: str,
        since: datetime | None,
        until: datetime | None,
        *,
        after: int = 0,
        limit: int = 1000,
    ) -> list[HoursRow]:
        """A page of the group's credited hours whose activity started in [since, until)
        (either end open when None; the time credited stands in for a start that is gone),
        in record order from the one after ``after``. Read a page at a time: SQLite runs in
        the loop's thread, and a page is a few milliseconds of it."""
        stmt = (
            select(
                VolunteerHours.id,
                VolunteerHours.staff_id,
                VolunteerHours.event_id,
                VolunteerHours.title,
                Event.starts_at,
                VolunteerHours.hours,
                VolunteerHours.at,
            )
            .outerjoin(Event, Event.id == VolunteerHours.event_id)
            .where(VolunteerHours.conversation_id == conversation_id, VolunteerHours.id > after)
            .order_by(VolunteerHours.id)
            .limit(limit)
        )
        if since is not None:
            stmt = stmt.where(
                or_(
                    Event.starts_at >= since,
                    and_(Event.id.is_(None), VolunteerHours.at >= since),
                )
            )
        if until is not None:
            stmt = stmt.where(
                or_(Event.starts_at < until, and_(Event.id.is_(None), VolunteerHours.at < until))
            )
        rows = await self.session.execute(stmt)
        return [
            HoursRow(int(i), str(s), int(e), str(t), start, float(h), at)
            for i, s, e, t, start, h, at in rows.all()
        ]

    async def hours_of_event(self, event_id: int) -> dict[str, float]:
        """Who was credited for the activity, with the hours."""
        rows = await self.session.execute(
            select(VolunteerHours.staff_id, VolunteerHours.hours).where(
                VolunteerHours.event_id == event_id
            )
        )
        return {str(s): float(h) for s, h in rows.all()}

    async def credits(self, conversation_id: str) -> list[CreditRow]:
        """Every time-credit account of the group: earned, spent, balance and swaps."""
        earned = func.sum(case((LedgerEntry.amount > 0, LedgerEntry.amount), else_=0.0))
        spent = func.sum(case((LedgerEntry.amount < 0, -LedgerEntry.amount), else_=0.0))
        rows = await self.session.execute(
            select(
                LedgerEntry.account,
                earned,
                spent,
                func.sum(LedgerEntry.amount),
                func.count(func.distinct(LedgerEntry.swap_id)),
            )
            .where(LedgerEntry.conversation_id == conversation_id)
            .group_by(LedgerEntry.account)
            .order_by(LedgerEntry.account)
        )
        return [
            CreditRow(str(a), float(e or 0), float(s or 0), float(b or 0), int(n))
            for a, e, s, b, n in rows.all()
        ]
