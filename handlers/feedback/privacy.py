"""What feedback stores about a member: shown by /我的数据, erased by /删除我的数据."""

from __future__ import annotations

from bot import safety
from bot.context import Context
from bot.router import PrivacySection, Router
from handlers.feedback.texts import T
from storage.feedback import FeedbackRepo

router = Router("feedback.privacy")
SHOWN = 3  # the most recent ones, in full enough to recognise


async def _mine(ctx: Context, conversation_id: str, staff_id: str) -> tuple[int, list[str]]:
    items = await FeedbackRepo(ctx.session).of_member(conversation_id, staff_id)
    zone = ctx.settings.bot.tz
    lines = []
    for item in items[:SHOWN]:
        day = item.created_at.astimezone(zone).strftime("%Y-%m-%d")
        line = ctx.t(T.privacy_item, id=item.id, day=day, text=safety.plain(item.text[:60]))
        lines.append(line + (ctx.t(T.privacy_answered) if item.answer is not None else ""))
    return len(items), lines


async def _erase(ctx: Context, conversation_id: str, staff_id: str) -> int:
    return await FeedbackRepo(ctx.session).erase(conversation_id, staff_id)


router.privacy_section(PrivacySection("feedback", T.privacy_title, _mine, _erase, order=85))
