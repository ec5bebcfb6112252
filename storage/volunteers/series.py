"""Recurring activities: the series, and its occurrences created ahead exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Event, EventSeries
from storage.queries import upsert


@dataclass(slots=True)
class SeriesRepo:
    """Series of one group at a time (``open_series`` works across groups, for the job)."""

    session: AsyncSession

    async def create(
        self,
        *,
        conversation_id: str,
        title: str,
        hours: float,
        place: str,
        seats: int,
        rule: str,
        local_time: str,
        first_on: date,
        by: str,
        now: datetime,
    ) -> EventSeries:
        """A new open series (no occurrences yet: ``add_occurrence`` creates them)."""
        series = EventSeries(
            conversation_id=conversation_id,
            title=title,
            hours=hours,
            place=place,
            seats=seats,
            rule=rule,
            local_time=local_time,
            first_on=first_on,
            status="open",
            cancel_reason="",
            created_by=by,
            created_at=now,
        )
        self.session.add(series)
        await self.session.flush()
        return series

    async def get(self, conversation_id: str, series_id: int) -> EventSeries | None:
        """A series of this group (another group's is unknown)."""
        series = await self.session.get(EventSeries, series_id)
        if series is None or series.conversation_id != conversation_id:
            return None
        return series

    async def open_series(self) -> list[EventSeries]:
        """Every open series, oldest first."""
        rows = await self.session.execute(
            select(EventSeries).where(EventSeries.status == "open").order_by(EventSeries.id)
        )
        return list(rows.scalars())

    async def add_occurrence(
        self, series: EventSeries, day: date, starts_at: datetime, now: datetime
    ) -> int | None:
        """Create the series' activity on local ``day``; its id, or None when that date
        exists already. Settled by the unique index on (series_id, occurs_on) in the same
        statement, so two processes or a restart never create a date twice."""
        result = await self.session.execute(
            upsert(self.session, Event)
            .values(
                conversation_id=series.conversation_id,
                title=series.title,
                starts_at=starts_at,
                hours=series.hours,
                place=series.place,
                seats=series.seats,
                status="open",
                created_by=series.created_by,
                created_at=now,
                cancel_reason="",
                reminded_24h=False,
                reminded_1h=False,
                cards_closed=False,
                checkin_code="",
                reminders="",
                series_id=series.id,
                occurs_on=day,
            )
            .on_conflict_do_nothing(index_elements=["series_id", "occurs_on"])
            .returning(Event.id)
        )
        new = result.scalar()
        return int(new) if new is not None else None

    async def dates(self, series_id: int, since: date) -> set[date]:
        """The dates from ``since`` on that the series has an activity for already. Checked
        before inserting, so the usual run inserts nothing: on PostgreSQL even an insert that
        ends in DO NOTHING takes a number from the sequence, and activity numbers are what
        people type."""
        rows = await self.session.execute(
            select(Event.occurs_on).where(Event.series_id == series_id, Event.occurs_on >= since)
        )
        return {d for d in rows.scalars() if d is not None}

    async def occurrences(self, series_id: int) -> list[Event]:
        """The series' activities, earliest first."""
        rows = await self.session.execute(
            select(Event).where(Event.series_id == series_id).order_by(Event.starts_at, Event.id)
        )
        return list(rows.scalars())

    async def cancel(self, series: EventSeries, reason: str) -> None:
        """Stop the series: no occurrence is created after this."""
        await self.session.execute(
            update(EventSeries)
            .where(EventSeries.id == series.id)
            .values(status="cancelled", cancel_reason=reason)
        )
        series.status, series.cancel_reason = "cancelled", reason
