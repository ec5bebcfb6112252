"""What recommendations read: one member's activities, swaps and skills, and the group's
week, in a few indexed queries (every query scoped to its group)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Event, RecommendSubscription, Signup, SkillPost, Story, Swap
from storage.queries import upsert

LIVE_SWAPS = ("accepted", "done_pending", "done")


@dataclass(frozen=True, slots=True)
class Upcoming:
    """An open activity that has not started."""

    id: int
    title: str
    place: str
    starts_at: datetime


@dataclass(frozen=True, slots=True)
class PartnerPost:
    """Another member's open post on a skill name one of mine is on (the other side)."""

    staff_id: str
    nick: str
    kind: str  # their side: offer (they teach what I want) | want (they want what I teach)
    skill: str
    mine: str  # my post's skill on the same name


@dataclass(slots=True)
class RecommendRepo:
    """Reads for ``/推荐`` and the weekly one-to-one recommendations; the subscriptions."""

    session: AsyncSession

    async def joined_events(self, conversation_id: str, me: str) -> list[tuple[str, str]]:
        """(title, place) of every activity I signed up for in the group."""
        rows = await self.session.execute(
            select(Event.title, Event.place)
            .join(Signup, Signup.event_id == Event.id)
            .where(Signup.conversation_id == conversation_id, Signup.staff_id == me)
            .order_by(Event.id)
        )
        return [(str(t), str(p)) for t, p in rows.all()]

    async def upcoming_not_joined(
        self, conversation_id: str, me: str, now: datetime, limit: int = 50
    ) -> list[Upcoming]:
        """Open activities that have not started and that I have not signed up for."""
        mine = select(Signup.event_id).where(
            Signup.conversation_id == conversation_id, Signup.staff_id == me
        )
        rows = await self.session.execute(
            select(Event.id, Event.title, Event.place, Event.starts_at)
            .where(
                Event.conversation_id == conversation_id,
                Event.status == "open",
                Event.starts_at > now,
                Event.id.notin_(mine),
            )
            .order_by(Event.starts_at, Event.id)
            .limit(limit)
        )
        return [Upcoming(int(i), str(t), str(p), s) for i, t, p, s in rows.all()]

    async def joined_with(self, conversation_id: str, me: str) -> dict[str, str]:
        """Members confirmed on an activity I was confirmed on: member → that activity."""
        other = aliased(Signup)
        rows = await self.session.execute(
            select(other.staff_id, Event.title)
            .select_from(Signup)
            .join(other, and_(other.event_id == Signup.event_id, other.staff_id != me))
            .join(Event, Event.id == Signup.event_id)
            .where(
                Signup.conversation_id == conversation_id,
                Signup.staff_id == me,
                Signup.status == "confirmed",
                other.status == "confirmed",
            )
            .order_by(Event.starts_at.desc(), Event.id.desc())
        )
        found: dict[str, str] = {}
        for staff, title in rows.all():
            found.setdefault(str(staff), str(title))  # the latest activity together
        return found

    async def swapped_with(self, conversation_id: str, me: str) -> dict[str, str]:
        """Members I swapped with (accepted or done): member → the skill."""
        rows = await self.session.execute(
            select(Swap.proposer, Swap.partner, Swap.skill)
            .where(
                Swap.conversation_id == conversation_id,
                Swap.status.in_(LIVE_SWAPS),
                or_(Swap.proposer == me, Swap.partner == me),
            )
            .order_by(Swap.updated_at.desc(), Swap.id.desc())
        )
        found: dict[str, str] = {}
        for proposer, partner, skill in rows.all():
            found.setdefault(str(partner if proposer == me else proposer), str(skill))
        return found

    async def partner_posts(self, conversation_id: str, me: str) -> list[PartnerPost]:
        """Others' open posts on the other side of a skill name of one of my open posts."""
        mine = aliased(SkillPost)
        rows = await self.session.execute(
            select(SkillPost.staff_id, SkillPost.nick, SkillPost.kind, SkillPost.skill, mine.skill)
            .join(
                mine,
                and_(
                    mine.conversation_id == SkillPost.conversation_id,
                    mine.name_id == SkillPost.name_id,
                    mine.kind != SkillPost.kind,
                ),
            )
            .where(
                SkillPost.conversation_id == conversation_id,
                SkillPost.status == "open",
                SkillPost.staff_id != me,
                mine.staff_id == me,
                mine.status == "open",
            )
            .order_by(SkillPost.id)
        )
        return [
            PartnerPost(str(s), str(n), str(k), str(skill), str(m))
            for s, n, k, skill, m in rows.all()
        ]

    async def week_stories(
        self, conversation_id: str, since: datetime, not_by: str
    ) -> list[tuple[int, str, str, float]]:
        """Approved stories of the week not by me: (id, title, author, genuine likes)."""
        rows = await self.session.execute(
            select(Story.id, Story.title, Story.author_staff_id, Story.genuine_likes)
            .where(
                Story.conversation_id == conversation_id,
                Story.status == "approved",
                Story.decided_at >= since,
                Story.author_staff_id != not_by,
            )
            .order_by(Story.genuine_likes.desc(), Story.id)
            .limit(200)
        )
        return [(int(i), str(t), str(a), float(g)) for i, t, a, g in rows.all()]

    async def subscribe(self, conversation_id: str, me: str, now: datetime) -> bool:
        """Opt in to the weekly one-to-one recommendations; False if already in."""
        result = await self.session.execute(
            upsert(self.session, RecommendSubscription)
            .values(conversation_id=conversation_id, staff_id=me, created_at=now, last_period="")
            .on_conflict_do_nothing(index_elements=["conversation_id", "staff_id"])
            .returning(RecommendSubscription.staff_id)
        )
        return result.first() is not None

    async def unsubscribe(self, conversation_id: str, me: str) -> bool:
        """Opt out; False if not subscribed."""
        result = await self.session.execute(
            delete(RecommendSubscription)
            .where(
                RecommendSubscription.conversation_id == conversation_id,
                RecommendSubscription.staff_id == me,
            )
            .returning(RecommendSubscription.staff_id)
        )
        return result.first() is not None

    async def subscribed(self, conversation_id: str, me: str) -> bool:
        """Whether I receive the weekly recommendations in this group."""
        found = await self.session.get(RecommendSubscription, (conversation_id, me))
        return found is not None

    async def claim_due(self, period: str) -> list[tuple[str, str]]:
        """Subscriptions not yet served this period, marked served: (group, member)."""
        result = await self.session.execute(
            RecommendSubscription.__table__.update()  # type: ignore[attr-defined]
            .where(RecommendSubscription.last_period != period)
            .values(last_period=period)
            .returning(RecommendSubscription.conversation_id, RecommendSubscription.staff_id)
        )
        return sorted((str(c), str(s)) for c, s in result.all())
