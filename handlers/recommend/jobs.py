"""The weekly one-to-one recommendations for members who opted in."""

from __future__ import annotations

from datetime import timedelta

from bot.context import BaseContext, JobContext
from bot.replies import TextReply, ToMembers
from bot.router import Router
from handlers.recommend.commands import recommendations
from handlers.recommend.texts import T
from storage.recommend import RecommendRepo

router = Router("recommend.jobs")

CHECK_SECONDS = 600.0
# The week turns on Monday at this local hour (after people start work, not at midnight).
WEEK_STARTS_HOUR = 10


def period(ctx: BaseContext) -> str:
    """The local ISO week, turning on Monday at ``WEEK_STARTS_HOUR``."""
    local = ctx.now.astimezone(ctx.settings.bot.tz) - timedelta(hours=WEEK_STARTS_HOUR)
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


@router.job("weekly-recommendations", every=lambda settings: CHECK_SECONDS)
async def weekly(ctx: JobContext) -> None:
    """Once a week per subscription (claimed in one statement: once across processes),
    the member's recommendations one to one; nothing when there is nothing to say."""
    repo = RecommendRepo(ctx.session)
    for conversation_id, staff_id in await repo.claim_due(period(ctx)):
        lines = await recommendations(ctx, conversation_id, staff_id)
        if not lines:
            continue
        group = await ctx.repos.members.title(conversation_id) or conversation_id
        text = "\n".join([ctx.t(T.weekly_header, group=group), *lines])
        ctx.reply(TextReply(content=text, to=ToMembers(staff_ids=[staff_id])))
