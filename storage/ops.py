"""Read-only figures for health and metrics: backlog of the inbox, pending outbox rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxEvent, OutboxMessage

BOT_MESSAGE_TOPIC = (
    "/v1.0/im/bot/messages/get"  # bot.events.BOT_MESSAGE_TOPIC (storage stays below bot)
)


@dataclass(frozen=True, slots=True)
class Backlog:
    """Work waiting: pushes recorded but not handled, replies not yet delivered."""

    inbox_backlog: int
    outbox_pending: int
    outbox_oldest_seconds: float


async def backlog(session: AsyncSession, now: datetime) -> Backlog:
    """Count waiting work (both queries use the status indexes)."""
    inbox = await session.scalar(
        select(func.count()).select_from(InboxEvent).where(InboxEvent.status == "received")
    )
    pending, oldest = (
        await session.execute(
            select(func.count(), func.min(OutboxMessage.created_at)).where(
                OutboxMessage.status == "pending"
            )
        )
    ).one()
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return Backlog(int(inbox or 0), int(pending or 0), age)


async def latest_message_payload(
    session: AsyncSession, staff_id: str, conversation_id: str | None = None
) -> str | None:
    """The raw payload of the member's latest robot message still kept (in one conversation,
    or anywhere), to answer a click in the language the member writes in."""
    stmt = (
        select(InboxEvent.payload)
        .where(InboxEvent.staff_id == staff_id, InboxEvent.topic == BOT_MESSAGE_TOPIC)
        .order_by(InboxEvent.id.desc())
        .limit(1)
    )
    if conversation_id is not None:
        stmt = stmt.where(InboxEvent.conversation_id == conversation_id)
    result: str | None = await session.scalar(stmt)
    return result
