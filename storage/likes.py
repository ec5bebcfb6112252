"""Likes, one per member per story, and the columns the honest-likes scorer reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Float, Table, bindparam, cast, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation, GroupSettings, Like, Member, Story
from storage.queries import upsert

_LIKES: Table = Like.__table__  # type: ignore[assignment]
_STORIES: Table = Story.__table__  # type: ignore[assignment]
# Stories taken down: their likes stay on record but count for nothing.
GONE = ("deleted", "withdrawn", "removed")


def epoch(dialect: str, column: Any) -> Any:
    """Seconds since 1970 (UTC) of a UTCDateTime column, computed by the database."""
    if dialect == "postgresql":
        # EXTRACT answers numeric on PostgreSQL (14+), which asyncpg hands over as Decimal;
        # the scorer does float arithmetic, so ask the database for double precision.
        return cast(func.extract("epoch", column), Float)
    return (func.julianday(column) - 2440587.5) * 86400.0


def _epoch(session: AsyncSession, column: Any) -> Any:
    bind = session.bind
    return epoch(bind.dialect.name if bind is not None else "sqlite", column)


@dataclass(frozen=True, slots=True)
class ScoringReads:
    """What the honest-likes scorer reads of a group (run by the re-scoring's worker process
    over its own connection, ``domain.likes_worker``). Times come as numbers straight from
    SQL: a million datetime objects would cost more than the scoring.

    * likes: id, story, liker, epoch seconds, weight, reasons (every like of the group; no
      join: a lookup of each like's story cost more than the rest of the read, and the
      stories are few, see ``stories``);
    * stories: id, author, whether taken down (its likes count for nothing), of every story
      of the group (its authors "did something but like");
    * members: id, first seen in epoch seconds, messages other than likes;
    * started: when the bot first saw the group, epoch seconds;
    * version: the group's like-evidence version (``group_settings.likes_version``).
    """

    likes: Executable
    stories: Executable
    members: Executable
    started: Executable
    version: Executable


def scoring_reads(dialect: str, conversation_id: str) -> ScoringReads:
    """The scorer's reads of ``conversation_id`` for a database of ``dialect``."""
    return ScoringReads(
        likes=select(
            Like.id,
            Like.story_id,
            Like.staff_id,
            epoch(dialect, Like.created_at),
            Like.weight,
            Like.reasons,
        ).where(Like.conversation_id == conversation_id),
        stories=select(Story.id, Story.author_staff_id, Story.status.in_(GONE).label("gone")).where(
            Story.conversation_id == conversation_id
        ),
        members=select(
            Member.staff_id,
            epoch(dialect, Member.first_seen_at),
            Member.messages - Member.like_messages,
        ).where(Member.conversation_id == conversation_id),
        started=select(epoch(dialect, Conversation.first_seen_at)).where(
            Conversation.id == conversation_id
        ),
        version=select(GroupSettings.likes_version).where(
            GroupSettings.conversation_id == conversation_id
        ),
    )


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
        # Core columns, not the ORM's: its first compile in a process (the ORM's column
        # plugin) held the loop 20 ms at the re-scoring's first card step.
        stories = _STORIES.c
        rows = await self.session.execute(
            select(stories.id, stories.likes, stories.genuine_likes)
            .where(stories.id.in_(story_ids))
            .order_by(stories.id)
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

    async def recount_stories(self, story_ids: list[int]) -> None:
        """Raw and genuine counts of these stories from their likes, in one statement."""
        if not story_ids:
            return
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
            .where(Story.id.in_(story_ids), Story.status.notin_(GONE))
            .values(likes=raw, genuine_likes=genuine)
        )

    async def settle_counts(
        self, story_ids: list[int], likes: list[int], genuine: list[float]
    ) -> None:
        """The counts of these stories after a re-scoring wrote its weights.

        SQLite: written as the re-scoring's worker counted them (``likes`` and ``genuine``,
        from every like of the story it read). They are exact: the re-scoring's transaction
        took SQLite's only write lock before the worker read, so no like came or went since;
        and summing a story's likes in SQL runs on the event loop's thread with the inline
        driver (16-50 ms a statement for a story with a hundred thousand likes).
        PostgreSQL: summed by the server from the likes themselves (``recount_stories``),
        since other processes may have added likes since the worker read; the statement
        runs on the server, not on the event loop.
        """
        bind = self.session.bind
        if bind is not None and bind.dialect.name == "postgresql":
            await self.recount_stories(story_ids)
            return
        if story_ids:
            await self.session.execute(
                update(_STORIES)
                # Not NOT IN: an expanding list cannot go with executemany.
                .where(_STORIES.c.id == bindparam("sid"), *[_STORIES.c.status != s for s in GONE])
                .values(likes=bindparam("n"), genuine_likes=bindparam("g")),
                [
                    {"sid": i, "n": n, "g": g}
                    for i, n, g in zip(story_ids, likes, genuine, strict=True)
                ],
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
