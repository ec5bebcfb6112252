"""Repositories for stories and likes: every query scoped to its group, races settled in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Table, bindparam, cast, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation, Like, Member, Story
from storage.queries import upsert

_LIKES: Table = Like.__table__  # type: ignore[assignment]
# Stories taken down: their likes stay on record but count for nothing.
GONE = ("deleted", "withdrawn", "removed")


def _epoch(session: AsyncSession, column: Any) -> Any:
    """Seconds since 1970 (UTC) of a UTCDateTime column, computed by the database."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # EXTRACT answers numeric on PostgreSQL (14+), which asyncpg hands over as Decimal;
        # the scorer does float arithmetic, so ask the database for double precision.
        return cast(func.extract("epoch", column), Float)
    return (func.julianday(column) - 2440587.5) * 86400.0


@dataclass(slots=True)
class StoryRepo:
    """Stories of one group at a time."""

    session: AsyncSession

    async def submit(
        self,
        *,
        conversation_id: str,
        author: str,
        nick: str,
        title: str,
        body: str,
        approved: bool,
        now: datetime,
    ) -> Story:
        """A new story, pending review or already approved."""
        story = Story(
            conversation_id=conversation_id,
            author_staff_id=author,
            author_nick=nick,
            title=title,
            body=body,
            status="approved" if approved else "pending",
            reject_reason="",
            decided_by="" if not approved else "(no review)",
            created_at=now,
            decided_at=now if approved else None,
            likes=0,
            genuine_likes=0.0,
        )
        self.session.add(story)
        await self.session.flush()
        return story

    async def get(self, conversation_id: str, story_id: int) -> Story | None:
        """A story of this group (a story of another group is as good as unknown)."""
        story = await self.session.get(Story, story_id)
        if story is None or story.conversation_id != conversation_id or story.status == "deleted":
            return None
        return story

    async def pending(self, conversation_id: str, limit: int = 20) -> list[Story]:
        """Stories waiting for review, oldest first."""
        rows = await self.session.execute(
            select(Story)
            .where(Story.conversation_id == conversation_id, Story.status == "pending")
            .order_by(Story.id)
            .limit(limit)
        )
        return list(rows.scalars())

    async def decide(
        self,
        conversation_id: str,
        story_id: int,
        *,
        approve: bool,
        by: str,
        reason: str,
        now: datetime,
    ) -> Story | None:
        """Approve or reject a pending story; None when it is not pending (someone was first)."""
        result = await self.session.execute(
            update(Story)
            .where(
                Story.id == story_id,
                Story.conversation_id == conversation_id,
                Story.status == "pending",
            )
            .values(
                status="approved" if approve else "rejected",
                decided_by=by,
                decided_at=now,
                reject_reason="" if approve else reason,
            )
            .returning(Story.id)
        )
        if result.scalar_one_or_none() is None:
            return None
        story = await self.session.get(Story, story_id, populate_existing=True)
        return story

    async def edit(
        self, conversation_id: str, story_id: int, author: str, title: str, body: str
    ) -> Story | None:
        """Change a pending story's text; None when it is not this author's pending story."""
        result = await self.session.execute(
            update(Story)
            .where(
                Story.id == story_id,
                Story.conversation_id == conversation_id,
                Story.author_staff_id == author,
                Story.status == "pending",
            )
            .values(title=title, body=body)
            .returning(Story.id)
        )
        if result.scalar_one_or_none() is None:
            return None
        return await self.session.get(Story, story_id, populate_existing=True)

    async def take_down(
        self,
        conversation_id: str,
        story_id: int,
        *,
        status: str,
        allowed: tuple[str, ...],
        by: str,
        reason: str,
        now: datetime,
    ) -> Story | None:
        """Withdraw (by its author) or remove (by an admin) a story, once: its likes stop
        counting. None when the story is not in one of the ``allowed`` states."""
        result = await self.session.execute(
            update(Story)
            .where(
                Story.id == story_id,
                Story.conversation_id == conversation_id,
                Story.status.in_(allowed),
            )
            .values(status=status, decided_by=by, decided_at=now, reject_reason=reason)
            .values(genuine_likes=0.0)
            .returning(Story.id)
        )
        if result.scalar_one_or_none() is None:
            return None
        return await self.session.get(Story, story_id, populate_existing=True)

    async def notice_due(self) -> list[tuple[str, datetime | None]]:
        """Groups with stories waiting for review that admins were not told of, each with
        when its admins were last told (None: never)."""
        waiting = (
            select(Story.conversation_id)
            .where(Story.status == "pending", Story.review_noticed_at.is_(None))
            .distinct()
        )
        rows = await self.session.execute(
            select(Story.conversation_id, func.max(Story.review_noticed_at))
            .where(Story.conversation_id.in_(waiting))
            .group_by(Story.conversation_id)
            .order_by(Story.conversation_id)
        )
        return [(str(group), last) for group, last in rows.all()]

    async def claim_unnoticed(self, conversation_id: str, now: datetime) -> list[Story]:
        """Mark the group's untold pending stories as told, and return them (oldest first).

        One statement: of two processes running the job at once, only one gets them.
        """
        result = await self.session.execute(
            update(Story)
            .where(
                Story.conversation_id == conversation_id,
                Story.status == "pending",
                Story.review_noticed_at.is_(None),
            )
            .values(review_noticed_at=now)
            .returning(Story.id)
        )
        ids = sorted(int(i) for i in result.scalars())
        if not ids:
            return []
        rows = await self.session.execute(
            select(Story).where(Story.id.in_(ids)).order_by(Story.id),
            execution_options={"populate_existing": True},
        )
        return list(rows.scalars())

    async def by_author(self, conversation_id: str, staff_id: str) -> list[Story]:
        """A member's stories in the group, newest first."""
        rows = await self.session.execute(
            select(Story)
            .where(Story.conversation_id == conversation_id, Story.author_staff_id == staff_id)
            .order_by(Story.id.desc())
        )
        return list(rows.scalars())

    async def delete_by_author(self, conversation_id: str, staff_id: str) -> int:
        """Erase a member's stories (and, by cascade, the likes they got)."""
        result = await self.session.execute(
            delete(Story).where(
                Story.conversation_id == conversation_id, Story.author_staff_id == staff_id
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def top(self, conversation_id: str, since: datetime | None, limit: int) -> list[Story]:
        """Approved stories by genuine likes (then raw likes, then the oldest)."""
        stmt = select(Story).where(
            Story.conversation_id == conversation_id, Story.status == "approved"
        )
        if since is not None:
            stmt = stmt.where(Story.decided_at >= since)
        rows = await self.session.execute(
            stmt.order_by(Story.genuine_likes.desc(), Story.likes.desc(), Story.id).limit(limit)
        )
        return list(rows.scalars())


@dataclass(slots=True)
class LikeRepo:
    """Likes, one per member per story (a database constraint)."""

    session: AsyncSession

    async def add(self, story: Story, staff_id: str, now: datetime) -> bool:
        """Like a story; False when this member already liked it."""
        result = await self.session.execute(
            upsert(self.session, Like)
            .values(
                story_id=story.id,
                conversation_id=story.conversation_id,
                staff_id=staff_id,
                created_at=now,
                weight=1.0,
                reasons="",
            )
            .on_conflict_do_nothing(index_elements=["story_id", "staff_id"])
            .returning(Like.id)
        )
        added = result.scalar_one_or_none() is not None
        if added:
            await self.recount(story.id)
        return added

    async def remove(self, story: Story, staff_id: str) -> bool:
        """Withdraw a like; False when there was none."""
        result = await self.session.execute(
            delete(Like).where(Like.story_id == story.id, Like.staff_id == staff_id)
        )
        removed = bool(getattr(result, "rowcount", 0))
        if removed:
            await self.recount(story.id)
        return removed

    async def has(self, story_id: int, staff_id: str) -> bool:
        """Whether this member likes that story."""
        found = await self.session.execute(
            select(Like.id).where(Like.story_id == story_id, Like.staff_id == staff_id)
        )
        return found.first() is not None

    async def recount(self, story_id: int) -> None:
        """Raw and genuine counts from the likes themselves (never a stale +1 in Python)."""
        raw = select(func.count(Like.id)).where(Like.story_id == story_id).scalar_subquery()
        genuine = (
            select(func.coalesce(func.sum(Like.weight), 0.0))
            .where(Like.story_id == story_id)
            .scalar_subquery()
        )
        await self.session.execute(
            update(Story)
            .where(Story.id == story_id, Story.status.notin_(GONE))
            .values(likes=raw, genuine_likes=genuine)
        )

    async def given(self, conversation_id: str, staff_id: str) -> list[Like]:
        """The likes a member gave in the group, newest first."""
        rows = await self.session.execute(
            select(Like)
            .where(Like.conversation_id == conversation_id, Like.staff_id == staff_id)
            .order_by(Like.id.desc())
        )
        return list(rows.scalars())

    async def delete_given(self, conversation_id: str, staff_id: str) -> int:
        """Erase a member's likes; the stories they liked are recounted."""
        result = await self.session.execute(
            delete(Like)
            .where(Like.conversation_id == conversation_id, Like.staff_id == staff_id)
            .returning(Like.story_id)
        )
        stories = list(result.scalars())
        for story_id in set(stories):
            await self.recount(story_id)
        return len(stories)

    async def of_story(self, story_id: int) -> list[Like]:
        """Every like of a story, oldest first."""
        rows = await self.session.execute(
            select(Like).where(Like.story_id == story_id).order_by(Like.created_at, Like.id)
        )
        return list(rows.scalars())

    async def scoring_input(self, conversation_id: str) -> tuple[list[Any], list[Any]]:
        """Likes (id, story, liker, author, epoch seconds, weight, reasons) and members (id,
        first seen in epoch seconds, other messages, stories) of a group: what the
        honest-likes scorer reads. Times come as numbers straight from SQL (a million
        datetime objects would cost more than the scoring)."""
        likes = await self.session.execute(
            select(
                Like.id,
                Like.story_id,
                Like.staff_id,
                Story.author_staff_id,
                _epoch(self.session, Like.created_at),
                Like.weight,
                Like.reasons,
            )
            .join(Story, Story.id == Like.story_id)
            .where(Like.conversation_id == conversation_id, Story.status.notin_(GONE))
        )
        stories = (
            select(Story.author_staff_id, func.count(Story.id).label("n"))
            .where(Story.conversation_id == conversation_id)
            .group_by(Story.author_staff_id)
            .subquery()
        )
        members = await self.session.execute(
            select(
                Member.staff_id,
                _epoch(self.session, Member.first_seen_at),
                Member.messages - Member.like_messages,
                func.coalesce(stories.c.n, 0),
            )
            .outerjoin(stories, stories.c.author_staff_id == Member.staff_id)
            .where(Member.conversation_id == conversation_id)
        )
        return list(likes.all()), list(members.all())

    async def group_started(self, conversation_id: str) -> float | None:
        """When the bot first saw the group, in epoch seconds (None: never)."""
        found = await self.session.execute(
            select(_epoch(self.session, Conversation.first_seen_at)).where(
                Conversation.id == conversation_id
            )
        )
        value = found.scalar_one_or_none()
        return float(value) if value is not None else None

    async def counts(self, story_ids: list[int]) -> list[tuple[int, int, float]]:
        """(story id, raw likes, genuine likes) of these stories, read fresh from the table."""
        if not story_ids:
            return []
        rows = await self.session.execute(
            select(Story.id, Story.likes, Story.genuine_likes)
            .where(Story.id.in_(story_ids))
            .order_by(Story.id)
        )
        return [(int(i), int(n), float(g)) for i, n, g in rows.all()]

    async def save_weights(self, changes: list[dict[str, object]]) -> None:
        """Write new weights and reasons: dicts of like id, weight, reasons."""
        if changes:
            await self.session.execute(
                update(_LIKES)
                .where(_LIKES.c.id == bindparam("lid"))
                .values(weight=bindparam("w"), reasons=bindparam("r")),
                changes,
            )

    async def recount_group(self, conversation_id: str) -> None:
        """Raw and genuine counts of every story of the group in one statement."""
        raw = (
            select(func.count(Like.id))
            .where(Like.story_id == Story.id)
            .correlate(Story)
            .scalar_subquery()
        )
        genuine = (
            select(func.coalesce(func.sum(Like.weight), 0.0))
            .where(Like.story_id == Story.id)
            .correlate(Story)
            .scalar_subquery()
        )
        await self.session.execute(
            update(Story)
            .where(Story.conversation_id == conversation_id, Story.status.notin_(GONE))
            .values(likes=raw, genuine_likes=genuine)
        )

    async def count_like_message(self, conversation_id: str, staff_id: str) -> None:
        """A /like or /unlike message: not "other activity" for the like-only signal."""
        await self.session.execute(
            update(Member)
            .where(Member.conversation_id == conversation_id, Member.staff_id == staff_id)
            .values(like_messages=Member.like_messages + 1)
        )

    async def ensure_member(self, conversation_id: str, staff_id: str, now: datetime) -> None:
        """A card clicker the bot never heard speak is still a member, first seen now."""
        await self.session.execute(
            upsert(self.session, Member)
            .values(
                conversation_id=conversation_id,
                staff_id=staff_id,
                nick="",
                first_seen_at=now,
                last_seen_at=now,
                messages=0,
                like_messages=0,
            )
            .on_conflict_do_nothing(index_elements=["conversation_id", "staff_id"])
        )
