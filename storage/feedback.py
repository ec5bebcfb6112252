"""Members' feedback to the admins and the admins' answers (the ``feedback`` table's owner)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Feedback


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    """One feedback as read (a frozen view: it outlives the unit of work)."""

    id: int
    conversation_id: str
    staff_id: str
    nick: str
    lang: str
    text: str
    created_at: datetime
    answer: str | None


def _view(row: Feedback) -> FeedbackItem:
    return FeedbackItem(
        row.id,
        row.conversation_id,
        row.staff_id,
        row.nick,
        row.lang,
        row.text,
        row.created_at,
        row.answer,
    )


@dataclass(slots=True)
class FeedbackRepo:
    """Record feedback, count a member's recent ones, answer, list and erase."""

    session: AsyncSession

    async def add(
        self, conversation_id: str, staff_id: str, nick: str, lang: str, text: str, now: datetime
    ) -> FeedbackItem:
        """Record a member's feedback; its number is what admins answer with."""
        row = Feedback(
            conversation_id=conversation_id,
            staff_id=staff_id,
            nick=nick[:200],
            lang=lang,
            text=text,
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return _view(row)

    async def count_since(self, conversation_id: str, staff_id: str, since: datetime) -> int:
        """How many feedbacks the member sent in the group since ``since`` (the rate limit)."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(Feedback)
            .where(
                Feedback.conversation_id == conversation_id,
                Feedback.staff_id == staff_id,
                Feedback.created_at >= since,
            )
        )
        return int(count or 0)

    async def get(self, conversation_id: str, feedback_id: int) -> FeedbackItem | None:
        """The group's feedback with this number (another group's is unknown here)."""
        if not 0 < feedback_id < 2**63:
            return None
        row = await self.session.scalar(
            select(Feedback).where(
                Feedback.id == feedback_id, Feedback.conversation_id == conversation_id
            )
        )
        return _view(row) if row is not None else None

    async def answer(self, feedback_id: int, text: str, by: str, now: datetime) -> None:
        """Keep the admin's latest answer with the feedback."""
        await self.session.execute(
            update(Feedback)
            .where(Feedback.id == feedback_id)
            .values(answer=text, answered_by=by, answered_at=now)
        )

    async def of_member(self, conversation_id: str, staff_id: str) -> list[FeedbackItem]:
        """The member's feedback in the group, newest first."""
        rows = await self.session.scalars(
            select(Feedback)
            .where(Feedback.conversation_id == conversation_id, Feedback.staff_id == staff_id)
            .order_by(Feedback.id.desc())
        )
        return [_view(row) for row in rows]

    async def erase(self, conversation_id: str, staff_id: str) -> int:
        """Delete the member's feedback in the group, and their name on answers they gave."""
        result = await self.session.execute(
            delete(Feedback).where(
                Feedback.conversation_id == conversation_id, Feedback.staff_id == staff_id
            )
        )
        await self.session.execute(
            update(Feedback)
            .where(Feedback.conversation_id == conversation_id, Feedback.answered_by == staff_id)
            .values(answered_by=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)
