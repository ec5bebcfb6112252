"""Pictures sent with stories: recorded with the story, fetched later, erased with it.

A picture is claimed for fetching with one ``UPDATE … RETURNING`` and a lease, so of two
processes only one fetches it, and one that dies mid-fetch leaves it to be fetched again
when the lease runs out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from storage.models import StoryPicture

FETCH_LEASE = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class PictureJob:
    """A picture to fetch, as claimed."""

    id: int
    story_id: int
    conversation_id: str
    staff_id: str
    download_code: str
    attempts: int


@dataclass(slots=True)
class PictureRepo:
    """The pictures of stories."""

    session: AsyncSession

    async def add(
        self, story_id: int, conversation_id: str, staff_id: str, codes: list[str], now: datetime
    ) -> None:
        """Record pictures to fetch, in the transaction that records their story."""
        self.session.add_all(
            StoryPicture(
                story_id=story_id,
                conversation_id=conversation_id,
                staff_id=staff_id,
                download_code=code,
                status="pending",
                reason="",
                attempts=0,
                size=0,
                content_type="",
                media_id="",
                created_at=now,
            )
            for code in codes
        )
        await self.session.flush()

    async def claim(self, now: datetime, limit: int = 5) -> list[PictureJob]:
        """Take up to ``limit`` pictures waiting to be fetched (a lease, not a lock)."""
        due = (
            select(StoryPicture.id)
            .where(
                StoryPicture.status == "pending",
                or_(StoryPicture.lease_until.is_(None), StoryPicture.lease_until < now),
            )
            .order_by(StoryPicture.id)
            .limit(limit)
        )
        result = await self.session.execute(
            update(StoryPicture)
            .where(
                StoryPicture.id.in_(due),
                StoryPicture.status == "pending",
                or_(StoryPicture.lease_until.is_(None), StoryPicture.lease_until < now),
            )
            .values(lease_until=now + FETCH_LEASE, attempts=StoryPicture.attempts + 1)
            .returning(
                StoryPicture.id,
                StoryPicture.story_id,
                StoryPicture.conversation_id,
                StoryPicture.staff_id,
                StoryPicture.download_code,
                StoryPicture.attempts,
            )
        )
        return sorted((PictureJob(*row) for row in result.all()), key=lambda job: job.id)

    async def stored(self, picture_id: int, data: bytes, content_type: str, media_id: str) -> bool:
        """Keep a fetched picture; False when it is gone (its story was erased meanwhile)."""
        result = await self.session.execute(
            update(StoryPicture)
            .where(StoryPicture.id == picture_id, StoryPicture.status == "pending")
            .values(
                status="stored",
                data=data,
                size=len(data),
                content_type=content_type,
                media_id=media_id,
                download_code="",
                lease_until=None,
            )
            .returning(StoryPicture.id)
        )
        return result.scalar_one_or_none() is not None

    async def failed(self, picture_id: int, reason: str) -> bool:
        """Give a picture up (the story keeps its text); False when it is gone."""
        result = await self.session.execute(
            update(StoryPicture)
            .where(StoryPicture.id == picture_id, StoryPicture.status == "pending")
            .values(status="failed", reason=reason, download_code="", lease_until=None)
            .returning(StoryPicture.id)
        )
        return result.scalar_one_or_none() is not None

    async def release(self, picture_id: int) -> None:
        """Put a picture back to be fetched at the next run (a passing failure)."""
        await self.session.execute(
            update(StoryPicture)
            .where(StoryPicture.id == picture_id, StoryPicture.status == "pending")
            .values(lease_until=None)
        )

    async def of_story(self, story_id: int) -> list[StoryPicture]:
        """A story's pictures, in the order they were sent."""
        rows = await self.session.execute(
            select(StoryPicture)
            .options(defer(StoryPicture.data))
            .where(StoryPicture.story_id == story_id)
            .order_by(StoryPicture.id)
        )
        return list(rows.scalars())

    async def media_ids(self, story_id: int) -> list[str]:
        """The media ids of a story's stored pictures, in the order they were sent."""
        rows = await self.session.execute(
            select(StoryPicture.media_id)
            .where(StoryPicture.story_id == story_id, StoryPicture.status == "stored")
            .order_by(StoryPicture.id)
        )
        return [str(m) for m in rows.scalars() if m]

    async def pending_count(self, story_id: int) -> int:
        """How many of a story's pictures are still to be fetched."""
        found = await self.session.execute(
            select(func.count(StoryPicture.id)).where(
                StoryPicture.story_id == story_id, StoryPicture.status == "pending"
            )
        )
        return int(found.scalar_one())

    async def by_member(self, conversation_id: str, staff_id: str) -> list[StoryPicture]:
        """The pictures a member sent in the group, newest first (without their bytes)."""
        rows = await self.session.execute(
            select(StoryPicture)
            .options(defer(StoryPicture.data))
            .where(
                StoryPicture.conversation_id == conversation_id,
                StoryPicture.staff_id == staff_id,
            )
            .order_by(StoryPicture.id.desc())
        )
        return list(rows.scalars())

    async def delete_by_member(self, conversation_id: str, staff_id: str) -> int:
        """Erase a member's pictures in the group (the bytes are in the rows)."""
        result = await self.session.execute(
            delete(StoryPicture).where(
                StoryPicture.conversation_id == conversation_id,
                StoryPicture.staff_id == staff_id,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
