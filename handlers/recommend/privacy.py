"""What recommendations store about a member: the weekly opt-in (the rest they read is
listed by the features that keep it: sign-ups, skill posts, swaps, stories)."""

from __future__ import annotations

from bot.context import Context
from bot.router import PrivacySection, Router
from handlers.recommend.texts import T
from storage.recommend import RecommendRepo

router = Router("recommend.privacy")


async def _mine(ctx: Context, conversation_id: str, staff_id: str) -> tuple[int, list[str]]:
    subscribed = await RecommendRepo(ctx.session).subscribed(conversation_id, staff_id)
    return (1, [ctx.t(T.privacy_item)]) if subscribed else (0, [])


async def _erase(ctx: Context, conversation_id: str, staff_id: str) -> int:
    return int(await RecommendRepo(ctx.session).unsubscribe(conversation_id, staff_id))


router.privacy_section(PrivacySection("recommend", T.privacy_title, _mine, _erase, order=80))
