"""Scheduled work of the stories feature: likes rescoring and review notices to admins."""

from __future__ import annotations

from datetime import timedelta

from bot import safety
from bot.context import JobContext
from bot.replies import TextReply, ToMembers
from bot.router import Router
from domain.likes import rescore
from handlers.stories.texts import T

router = Router("stories.jobs", module="stories")

NOTICE_CHECK_SECONDS = 60.0
NOTICE_LISTED = 5  # stories named in one notice; the rest are counted


@router.job("likes-rescore", every=lambda settings: settings.likes.rescore_seconds)
async def rescore_dirty(ctx: JobContext) -> None:
    """The scheduled job: recompute the groups with new likes since the last run."""
    groups = ctx.repos.groups
    for conversation_id in await groups.dirty_groups():
        # Every process runs this job: a group another process is rescoring right now is
        # its (the same weights twice, and each changed card updated twice, would cost
        # OpenAPI calls); checked again once held, as that process may have just finished.
        if await groups.hold_rescoring(conversation_id) and await groups.is_dirty(conversation_id):
            await rescore(ctx, conversation_id)


@router.job("review-notices", every=lambda settings: NOTICE_CHECK_SECONDS)
async def review_notices(ctx: JobContext) -> None:
    """Admins hear of stories waiting for review without polling: one one-to-one notice per
    group naming the stories not yet announced, at most one per group every
    ``stories.review_notice_minutes`` (a burst of submissions makes one notice, not many)."""
    gap = timedelta(minutes=ctx.settings.stories.review_notice_minutes)
    for conversation_id, last in await ctx.repos.stories.notice_due():
        if last is not None and ctx.now - last < gap:
            continue
        stories = await ctx.repos.stories.claim_unnoticed(conversation_id, ctx.now)
        if not stories:
            continue
        admins = sorted(
            set(ctx.settings.admins.staff_ids)
            | (
                set(await ctx.repos.members.flagged_admins(conversation_id))
                if ctx.settings.admins.trust_dingtalk_admin
                else set()
            )
        )
        if not admins:
            continue
        group = await ctx.repos.members.title(conversation_id) or ctx.t(T.this_group)
        listed = "、".join(
            ctx.t(T.notice_item, id=s.id, title=safety.plain(s.title))
            for s in stories[:NOTICE_LISTED]
        )
        more = len(stories) - NOTICE_LISTED
        content = ctx.t(T.review_notice, group=group, n=len(stories), stories=listed)
        if more > 0:
            content += ctx.t(T.notice_more, n=more)
        ctx.reply(TextReply(content=content, to=ToMembers(staff_ids=admins)))
