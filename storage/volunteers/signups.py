"""Sign-ups that can never overbook: confirmed while seats remain, then the waitlist.

The caller holds the activity's row lock (``EventRepo.get(lock=True)``), so concurrent
clicks are decided one after another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Event, Signup
from storage.queries import prebuilt, run

_SIGNUPS: Table = Signup.__table__  # type: ignore[assignment]


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

    async def counts_many(self, event_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """(confirmed, waitlisted) of each activity, in one statement (``/活动`` lists
        several: one count each was a statement per activity, issue 15)."""
        if not event_ids:
            return {}
        stmt = prebuilt(
            self.session,
            "signup_counts_many",
            lambda _: (
                select(_SIGNUPS.c.event_id, _SIGNUPS.c.status, func.count(_SIGNUPS.c.id))
                .where(_SIGNUPS.c.event_id.in_(bindparam("eids", expanding=True)))
                .group_by(_SIGNUPS.c.event_id, _SIGNUPS.c.status)
            ),
        )
        found: dict[int, dict[str, int]] = {}
        for event_id, status, count in await run(self.session, stmt, {"eids": list(event_ids)}):
            found.setdefault(event_id, {})[status] = int(count)
        return {
            e: (found.get(e, {}).get("confirmed", 0), found.get(e, {}).get("waitlisted", 0))
            for e in event_ids
        }

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
