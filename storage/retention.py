"""Deleting records past their retention (``[retention]``), one kind at a time.

Each delete keeps what another feature still reads: likes are only deleted on stories taken
down (the scorer reads every like of a live story: rings and like-only members are judged
over all of them), outbox rows only once delivered or given up (a pending one is still to
be sent), pictures only once no longer being fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, Like, OutboxMessage, Story, StoryPicture

TAKEN_DOWN = ("withdrawn", "removed")


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(slots=True)
class RetentionRepo:
    """The deletes of the hourly retention job; each takes the cutoff (older goes)."""

    session: AsyncSession

    async def rejected_stories(self, before: datetime) -> int:
        """Rejected stories decided before ``before`` (their likes and pictures cascade)."""
        return _count(
            await self.session.execute(
                delete(Story).where(Story.status == "rejected", Story.decided_at < before)
            )
        )

    async def like_evidence(self, before: datetime) -> int:
        """Likes, with their weights and reasons, of stories taken down before ``before``."""
        gone = select(Story.id).where(Story.status.in_(TAKEN_DOWN), Story.decided_at < before)
        return _count(await self.session.execute(delete(Like).where(Like.story_id.in_(gone))))

    async def audit_log(self, before: datetime) -> int:
        """Admin audit entries older than ``before``."""
        return _count(await self.session.execute(delete(AuditEntry).where(AuditEntry.at < before)))

    async def delivered_outbox(self, before: datetime) -> int:
        """Outbox rows delivered (or given up) and written before ``before``."""
        return _count(
            await self.session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.status != "pending", OutboxMessage.created_at < before
                )
            )
        )

    async def pictures(self, before: datetime) -> int:
        """Story pictures sent before ``before`` (the stories keep their text)."""
        return _count(
            await self.session.execute(
                delete(StoryPicture).where(
                    StoryPicture.status != "pending", StoryPicture.created_at < before
                )
            )
        )
