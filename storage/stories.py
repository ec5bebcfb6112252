"""Repositories for stories: every query scoped to its group, races settled in SQL.

Likes live in ``storage.likes`` (imported here too, for the callers of the older name).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.likes import GONE, LikeRepo
from storage.models import Story
from storage.queries import prebuilt

__all__ = ["GONE", "LikeRepo", "StoryRepo"]


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

    async def latest_by_author(self, staff_id: str, since: datetime) -> Story | None:
        """A member's newest story in any group, if submitted since ``since`` and still
        pending or published (where a picture sent alone belongs)."""
        rows = await self.session.execute(
            select(Story)
            .where(
                Story.author_staff_id == staff_id,
                Story.created_at >= since,
                Story.status.in_(("pending", "approved")),
            )
            .order_by(Story.id.desc())
            .limit(1)
        )
        return rows.scalars().first()

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

        # Built once per form (with or without ``since``) and run with parameters: /故事榜
        # is a hot command, and building the statement cost about as much as running it.
        def build(with_since: bool) -> Any:
            stmt = select(Story).where(
                Story.conversation_id == bindparam("group"), Story.status == "approved"
            )
            if with_since:
                stmt = stmt.where(Story.decided_at >= bindparam("since"))
            return stmt.order_by(Story.genuine_likes.desc(), Story.likes.desc(), Story.id).limit(
                bindparam("limit")
            )

        name = "stories_top_since" if since is not None else "stories_top"
        stmt = prebuilt(self.session, name, lambda _: build(since is not None))
        params: dict[str, Any] = {"group": conversation_id, "limit": limit}
        if since is not None:
            params["since"] = since
        rows = await self.session.execute(stmt, params)
        return list(rows.scalars())
