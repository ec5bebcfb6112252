"""The scheduled digest: each group's at its slot, caught up within the grace window."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot import guard
from bot.context import JobContext
from bot.router import Router
from handlers.digest.content import group_slot, last_slot, period_key, post_digest

router = Router("digest.jobs", module="digest")
log = logging.getLogger(__name__)

CHECK_SECONDS = 60.0


@router.job("weekly-digest", every=lambda settings: CHECK_SECONDS)
async def digest_job(ctx: JobContext) -> None:
    """Post each group's digest at its slot; catch up after downtime within the grace window."""
    grace = timedelta(hours=ctx.settings.digest.grace_hours)
    for conversation_id, settings in await ctx.repos.digest.groups():
        if settings is not None and not settings.digest_enabled:
            continue
        if "digest" in await ctx.repos.groups.disabled_modules(conversation_id):
            continue
        weekday, at = group_slot(ctx, settings)
        slot = last_slot(ctx.now, weekday, at, ctx)
        period = period_key(slot)
        if await ctx.repos.digest.run(conversation_id, period) is not None:
            continue
        try:
            # One group's failure undoes only its own digest (writes and replies).
            async with guard.savepoint(ctx.session, ctx):
                if ctx.now - slot > grace:
                    await ctx.repos.digest.claim(conversation_id, period, "skipped", ctx.now)
                    log.info(
                        "digest of %s for %s skipped: missed by more than %s",
                        conversation_id,
                        period,
                        grace,
                    )
                else:
                    await post_digest(ctx, conversation_id, slot - timedelta(days=7), slot, period)
        except Exception:
            log.exception("digest of %s for %s failed; will try again", conversation_id, period)


# -- admin commands --------------------------------------------------------------------------
