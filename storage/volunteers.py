"""Repositories for volunteer activities: sign-ups that can never overbook, hours.

Every change to an activity's sign-ups first locks the activity's row (``FOR UPDATE`` on
PostgreSQL; SQLite serialises writers anyway), so concurrent clicks are decided one after
another and never confirm more members than there are seats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Checkin,
    CheckinGuess,
    Event,
    ReminderOptOut,
    ReminderSent,
    Signup,
    VolunteerHours,
)
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
