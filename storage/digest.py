"""Repositories for the weekly digest: runs recorded once, and the week's content by index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Conversation,
    DigestRun,
    Event,
    GroupSettings,
    Member,
    Signup,
    SkillPost,
    Story,
    Swap,
    VolunteerHours,
)
from storage.queries import table, upsert
from storage.views import (
    DigestRunView,
    GroupSettingsView,
    PostView,
    SwapView,
    read_all,
    read_one,
    view,
)

_RUNS = table(DigestRun)
_SETTINGS = table(GroupSettings)


@dataclass(slots=True)
class DigestRepo:
    """Digest runs and the queries a digest is made of (each bounded by the week)."""

    session: AsyncSession

    async def claim(self, conversation_id: str, period: str, status: str, now: datetime) -> bool:
        """Record a period's run; False when it was already recorded (by anyone)."""
        result = await self.session.execute(
            upsert(self.session, DigestRun)
            .values(conversation_id=conversation_id, period=period, status=status, at=now)
            .on_conflict_do_nothing(index_elements=["conversation_id", "period"])
            .returning(DigestRun.id)
        )
        return result.scalar_one_or_none() is not None

    async def forget_empty(self, conversation_id: str, period: str) -> None:
        """Drop an "empty" record so the period's scheduled digest may still go out."""
        await self.session.execute(
            delete(DigestRun).where(
                DigestRun.conversation_id == conversation_id,
                DigestRun.period == period,
                DigestRun.status == "empty",
            )
        )

    async def run(self, conversation_id: str, period: str) -> DigestRunView | None:
        """The recorded run of a period."""
        return await read_one(
            self.session,
            DigestRunView,
            select(_RUNS).where(
                _RUNS.c.conversation_id == conversation_id, _RUNS.c.period == period
            ),
        )

    async def groups(self) -> list[tuple[str, GroupSettingsView | None]]:
        """Every group chat the bot has seen, with its settings if it has a row."""
        rows = await self.session.execute(
            select(Conversation.id.label("group_id"), _SETTINGS)
            .outerjoin(_SETTINGS, _SETTINGS.c.conversation_id == Conversation.id)
            .where(Conversation.type == "2")
        )
        return [
            (row.group_id, view(GroupSettingsView, row) if row.conversation_id else None)
            for row in rows
        ]

    async def top_stories(
        self, conversation_id: str, start: datetime, end: datetime, limit: int
    ) -> list[Story]:
        """Stories published in the window, by genuine likes."""
        rows = await self.session.execute(
            select(Story)
            .where(
                Story.conversation_id == conversation_id,
                Story.status == "approved",
                Story.decided_at >= start,
                Story.decided_at < end,
            )
            .order_by(Story.genuine_likes.desc(), Story.likes.desc(), Story.id)
            .limit(limit)
        )
        return list(rows.scalars())

    async def upcoming_events(
        self, conversation_id: str, now: datetime, until: datetime, limit: int
    ) -> list[tuple[Event, int]]:
        """Open activities starting before ``until``, with how many are confirmed."""
        events = list(
            (
                await self.session.execute(
                    select(Event)
                    .where(
                        Event.conversation_id == conversation_id,
                        Event.status == "open",
                        Event.starts_at > now,
                        Event.starts_at < until,
                    )
                    .order_by(Event.starts_at, Event.id)
                    .limit(limit)
                )
            ).scalars()
        )
        if not events:
            return []
        counts = dict(
            (
                await self.session.execute(
                    select(Signup.event_id, func.count(Signup.id))
                    .where(
                        Signup.event_id.in_([e.id for e in events]), Signup.status == "confirmed"
                    )
                    .group_by(Signup.event_id)
                )
            ).all()
        )
        return [(e, int(counts.get(e.id, 0))) for e in events]

    async def hours_board(
        self, conversation_id: str, start: datetime, end: datetime, limit: int
    ) -> list[tuple[str, str, float]]:
        """Members by volunteer hours credited in the window: (staff id, nick, hours)."""
        total = func.sum(VolunteerHours.hours).label("total")
        board = (
            select(VolunteerHours.staff_id, total)
            .where(
                VolunteerHours.conversation_id == conversation_id,
                VolunteerHours.at >= start,
                VolunteerHours.at < end,
            )
            .group_by(VolunteerHours.staff_id)
            .order_by(total.desc(), VolunteerHours.staff_id)
            .limit(limit)
            .subquery()
        )
        rows = await self.session.execute(
            select(board.c.staff_id, func.coalesce(Member.nick, ""), board.c.total)
            .outerjoin(
                Member,
                (Member.conversation_id == conversation_id) & (Member.staff_id == board.c.staff_id),
            )
            .order_by(board.c.total.desc(), board.c.staff_id)
        )
        return [(staff, nick, float(hours)) for staff, nick, hours in rows.all()]

    async def new_posts(
        self, conversation_id: str, start: datetime, end: datetime, limit: int
    ) -> list[PostView]:
        """Skill offers and wants posted in the window and still open."""
        posts = table(SkillPost)
        return await read_all(
            self.session,
            PostView,
            select(posts)
            .where(
                posts.c.conversation_id == conversation_id,
                posts.c.created_at >= start,
                posts.c.created_at < end,
                posts.c.status == "open",
            )
            .order_by(posts.c.id)
            .limit(limit),
        )

    async def finished_swaps(
        self, conversation_id: str, start: datetime, end: datetime, limit: int
    ) -> list[SwapView]:
        """Swaps confirmed in the window."""
        swaps = table(Swap)
        return await read_all(
            self.session,
            SwapView,
            select(swaps)
            .where(
                swaps.c.conversation_id == conversation_id,
                swaps.c.status == "done",
                swaps.c.updated_at >= start,
                swaps.c.updated_at < end,
            )
            .order_by(swaps.c.id)
            .limit(limit),
        )
