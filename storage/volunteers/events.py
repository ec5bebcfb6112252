"""Activities: creating, finding, changing state, check-in codes and reminder claims.

Every change to an activity's sign-ups first locks the activity's row (``FOR UPDATE`` on
PostgreSQL; SQLite serialises writers anyway), so concurrent clicks are decided one after
another and never confirm more members than there are seats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Event, ReminderSent
from storage.queries import prebuilt, run, upsert

_EVENTS: Table = Event.__table__  # type: ignore[assignment]


@dataclass(slots=True)
class EventRepo:
    """Activities of one group at a time."""

    session: AsyncSession

    async def create(
        self,
        *,
        conversation_id: str,
        title: str,
        starts_at: datetime,
        hours: float,
        place: str,
        seats: int,
        by: str,
        now: datetime,
    ) -> Event:
        """A new open activity."""
        event = Event(
            conversation_id=conversation_id,
            title=title,
            starts_at=starts_at,
            hours=hours,
            place=place,
            seats=seats,
            status="open",
            created_by=by,
            created_at=now,
            cancel_reason="",
            reminded_24h=False,
            reminded_1h=False,
            cards_closed=False,
            checkin_code="",
            reminders="",
        )
        self.session.add(event)
        await self.session.flush()
        return event

    async def get(self, conversation_id: str, event_id: int, *, lock: bool = False) -> Event | None:
        """An activity of this group (another group's is unknown); ``lock`` takes its row lock.

        The row comes back as a detached ``Event``: read it, and change it through
        ``set_status`` / ``set_seats``."""
        name = "event_lock" if lock else "event_get"

        def build(_: object) -> Select[Any]:
            stmt = select(_EVENTS).where(
                _EVENTS.c.id == bindparam("eid"), _EVENTS.c.conversation_id == bindparam("cid")
            )
            return stmt.with_for_update() if lock else stmt

        params = {"eid": event_id, "cid": conversation_id}
        row = (await run(self.session, prebuilt(self.session, name, build), params)).first()
        return Event(**row._mapping) if row is not None else None

    async def upcoming(self, conversation_id: str, now: datetime, limit: int = 20) -> list[Event]:
        """Open activities that have not started, soonest first."""
        rows = await self.session.execute(
            select(Event)
            .where(
                Event.conversation_id == conversation_id,
                Event.status == "open",
                Event.starts_at > now,
            )
            .order_by(Event.starts_at, Event.id)
            .limit(limit)
        )
        return list(rows.scalars())

    async def set_status(self, event: Event, status: str, reason: str = "") -> None:
        """Cancel or close an activity."""
        await run(
            self.session,
            update(_EVENTS)
            .where(_EVENTS.c.id == event.id)
            .values(status=status, cancel_reason=reason),
        )
        event.status, event.cancel_reason = status, reason

    async def set_seats(self, event: Event, seats: int) -> None:
        """Change the capacity."""
        await run(self.session, update(_EVENTS).where(_EVENTS.c.id == event.id).values(seats=seats))
        event.seats = seats

    async def edit(self, event: Event, **values: Any) -> None:
        """Change an activity's title, start, hours, place or reminder flags (the caller holds
        its lock); the detached ``event`` follows."""
        allowed = {"title", "starts_at", "hours", "place", "reminded_24h", "reminded_1h"}
        if not values.keys() <= allowed:
            raise ValueError(f"not editable: {sorted(values.keys() - allowed)}")
        await run(self.session, update(_EVENTS).where(_EVENTS.c.id == event.id).values(values))
        for key, value in values.items():
            setattr(event, key, value)

    async def claim_reminders(self, now: datetime, before: datetime, *, hour: bool) -> list[int]:
        """Take the reminders due now: open activities starting after ``now`` and no later
        than ``before``, not yet reminded. The flag flips in the same statement, so each
        reminder is sent once even with several processes or a restart."""
        flag = Event.reminded_1h if hour else Event.reminded_24h
        result = await self.session.execute(
            update(Event)
            .where(
                Event.status == "open",
                flag.is_(False),
                Event.starts_at > now,
                Event.starts_at <= before,
            )
            .values({flag: True})
            .returning(Event.id)
        )
        return list(result.scalars())

    async def claim_started(self, now: datetime) -> list[int]:
        """Take the open activities that have started and whose cards still offer sign-up;
        the flag flips in the same statement, so the cards are updated once."""
        result = await self.session.execute(
            update(Event)
            .where(Event.status == "open", Event.cards_closed.is_(False), Event.starts_at <= now)
            .values(cards_closed=True)
            .returning(Event.id)
        )
        return list(result.scalars())

    async def set_code(self, event: Event, code: str) -> None:
        """Give the activity its check-in code."""
        await run(
            self.session, update(_EVENTS).where(_EVENTS.c.id == event.id).values(checkin_code=code)
        )
        event.checkin_code = code

    async def open_codes(self, conversation_id: str) -> set[str]:
        """The check-in codes of the group's open activities (a new code differs from them)."""
        rows = await self.session.execute(
            select(Event.checkin_code).where(
                Event.conversation_id == conversation_id,
                Event.status == "open",
                Event.checkin_code != "",
            )
        )
        return set(rows.scalars())

    async def by_code(self, conversation_id: str, code: str) -> Event | None:
        """The group's open activity with this check-in code (the latest, should two match)."""
        rows = await self.session.execute(
            select(Event)
            .where(
                Event.conversation_id == conversation_id,
                Event.status == "open",
                Event.checkin_code == code,
            )
            .order_by(Event.id.desc())
            .limit(1)
        )
        return rows.scalars().first()

    async def set_reminders(self, event: Event, plan: str) -> None:
        """Store the activity's own reminder plan ("" for the default, "off" for none)."""
        await run(
            self.session, update(_EVENTS).where(_EVENTS.c.id == event.id).values(reminders=plan)
        )
        event.reminders = plan

    async def reminding(self, now: datetime, horizon: datetime) -> list[Event]:
        """Open activities starting after ``now`` and no later than ``horizon``."""
        rows = await self.session.execute(
            select(Event)
            .where(Event.status == "open", Event.starts_at > now, Event.starts_at <= horizon)
            .order_by(Event.starts_at, Event.id)
        )
        return list(rows.scalars())

    async def claim_reminder(self, event_id: int, minutes: list[int]) -> list[int]:
        """Record these reminders as sent; the offsets not recorded before. The unique row
        is written before the send, so each goes out once across restarts and processes."""
        if not minutes:
            return []
        result = await self.session.execute(
            upsert(self.session, ReminderSent)
            .values([{"event_id": event_id, "minutes": m} for m in minutes])
            .on_conflict_do_nothing(index_elements=["event_id", "minutes"])
            .returning(ReminderSent.minutes)
        )
        return [int(m) for m in result.scalars()]

    async def replan_reminders(self, event: Event, plan: list[int], now: datetime) -> None:
        """After a new start or plan: reminders still ahead will go out; those whose moment
        has passed count as sent (the change notice told everyone the new time)."""
        await self.session.execute(delete(ReminderSent).where(ReminderSent.event_id == event.id))
        passed = [m for m in plan if event.starts_at - timedelta(minutes=m) <= now]
        await self.claim_reminder(event.id, passed)

    async def by_id(self, event_id: int) -> Event | None:
        """An activity by id alone (for jobs, which work across groups)."""
        return await self.session.get(Event, event_id)
