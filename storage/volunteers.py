"""Repositories for volunteer activities: sign-ups that can never overbook, hours.

Every change to an activity's sign-ups first locks the activity's row (``FOR UPDATE`` on
PostgreSQL; SQLite serialises writers anyway), so concurrent clicks are decided one after
another and never confirm more members than there are seats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Event, Signup, VolunteerHours
from storage.queries import prebuilt, run, upsert

_SIGNUPS: Table = Signup.__table__  # type: ignore[assignment]
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

    async def by_id(self, event_id: int) -> Event | None:
        """An activity by id alone (for jobs, which work across groups)."""
        return await self.session.get(Event, event_id)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a sign-up stands: ``position`` on the waitlist, 0 when confirmed."""

    new: bool
    position: int


@dataclass(slots=True)
class SignupRepo:
    """Sign-ups: confirmed while seats remain, then the waitlist in arrival order."""

    session: AsyncSession

    async def counts(self, event_id: int) -> tuple[int, int]:
        """(confirmed, waitlisted)."""
        stmt = prebuilt(
            self.session,
            "signup_counts",
            lambda _: (
                select(_SIGNUPS.c.status, func.count(_SIGNUPS.c.id))
                .where(_SIGNUPS.c.event_id == bindparam("eid"))
                .group_by(_SIGNUPS.c.status)
            ),
        )
        counts = dict((await run(self.session, stmt, {"eid": event_id})).all())
        return int(counts.get("confirmed", 0)), int(counts.get("waitlisted", 0))

    async def find(self, event_id: int, staff_id: str) -> Signup | None:
        """A member's sign-up for an activity."""
        return (
            await self.session.execute(
                select(Signup).where(Signup.event_id == event_id, Signup.staff_id == staff_id)
            )
        ).scalar_one_or_none()

    async def find_many(self, event_id: int, staff_ids: Sequence[str]) -> list[Signup]:
        """These members' sign-ups for an activity (those that exist)."""
        stmt = prebuilt(
            self.session,
            "signup_find_many",
            lambda _: select(_SIGNUPS).where(
                _SIGNUPS.c.event_id == bindparam("eid"),
                _SIGNUPS.c.staff_id.in_(bindparam("sids", expanding=True)),
            ),
        )
        rows = await run(self.session, stmt, {"eid": event_id, "sids": list(staff_ids)})
        return [Signup(**row._mapping) for row in rows.all()]

    async def join_many(
        self, event: Event, members: Sequence[tuple[str, str]], now: datetime
    ) -> list[Placement]:
        """Sign up (staff id, nick) pairs in arrival order; the caller holds the activity's lock.

        Confirmed while seats remain, then waitlisted; a member already signed up keeps their
        place. One count, one lookup and one insert however many arrive together, which is
        what lets a storm of clicks be answered quickly.
        """
        confirmed, waiting = await self.counts(event.id)
        existing = {
            s.staff_id: s
            for s in await self.find_many(event.id, list(dict.fromkeys(m for m, _ in members)))
        }
        placed: dict[str, Placement] = {}
        rows: list[dict[str, Any]] = []
        out: list[Placement] = []
        for staff_id, nick in members:
            before = placed.get(staff_id)
            if before is not None:
                out.append(Placement(new=False, position=before.position))
                continue
            signup = existing.get(staff_id)
            if signup is not None:
                placement = Placement(new=False, position=await self.position(signup))
            else:
                if confirmed < event.seats:
                    confirmed += 1
                    placement = Placement(new=True, position=0)
                else:
                    # New rows get higher ids than every sign-up already there (the lock
                    # serialises writers), so the position is simply the waitlist's length.
                    waiting += 1
                    placement = Placement(new=True, position=waiting)
                rows.append(
                    {
                        "event_id": event.id,
                        "conversation_id": event.conversation_id,
                        "staff_id": staff_id,
                        "nick": nick,
                        "status": "waitlisted" if placement.position else "confirmed",
                        "created_at": now,
                    }
                )
            placed[staff_id] = placement
            out.append(placement)
        if rows:
            stmt = prebuilt(self.session, "signup_insert_many", lambda _: insert(_SIGNUPS))
            await run(self.session, stmt, rows)  # in order: ids follow arrival
        return out

    async def position(self, signup: Signup) -> int:
        """1-based place on the waitlist (0 when confirmed)."""
        if signup.status != "waitlisted":
            return 0
        stmt = prebuilt(
            self.session,
            "waitlist_position",
            lambda _: select(func.count(_SIGNUPS.c.id)).where(
                _SIGNUPS.c.event_id == bindparam("eid"),
                _SIGNUPS.c.status == "waitlisted",
                _SIGNUPS.c.id < bindparam("sid"),
            ),
        )
        ahead = (await run(self.session, stmt, {"eid": signup.event_id, "sid": signup.id})).scalar()
        return int(ahead or 0) + 1

    async def leave(self, event: Event, staff_id: str) -> Signup | None:
        """Withdraw (the caller holds the lock); the removed sign-up, or None."""
        signup = await self.find(event.id, staff_id)
        if signup is None:
            return None
        await self.session.delete(signup)
        await self.session.flush()
        return signup

    async def promote(self, event: Event) -> list[Signup]:
        """Fill free seats from the waitlist, first come first served (caller holds the lock)."""
        confirmed, _ = await self.counts(event.id)
        free = event.seats - confirmed
        if free <= 0:
            return []
        rows = await self.session.execute(
            select(Signup)
            .where(Signup.event_id == event.id, Signup.status == "waitlisted")
            .order_by(Signup.id)
            .limit(free)
        )
        promoted = list(rows.scalars())
        for signup in promoted:
            signup.status = "confirmed"
        await self.session.flush()
        return promoted

    async def roster(self, event_id: int) -> tuple[list[Signup], list[Signup]]:
        """(confirmed, waitlist), each in arrival order."""
        rows = await self.session.execute(
            select(Signup).where(Signup.event_id == event_id).order_by(Signup.id)
        )
        signups = list(rows.scalars())
        return [s for s in signups if s.status == "confirmed"], [
            s for s in signups if s.status == "waitlisted"
        ]

    async def of_member(self, conversation_id: str, staff_id: str) -> list[Signup]:
        """A member's sign-ups in a group, newest first."""
        rows = await self.session.execute(
            select(Signup)
            .where(Signup.conversation_id == conversation_id, Signup.staff_id == staff_id)
            .order_by(Signup.id.desc())
        )
        return list(rows.scalars())


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

    async def erase(self, conversation_id: str, staff_id: str) -> int:
        """Forget a member's hours."""
        result = await self.session.execute(
            delete(VolunteerHours).where(
                VolunteerHours.conversation_id == conversation_id,
                VolunteerHours.staff_id == staff_id,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
