"""Scheduled work of the skills feature: re-cutting skill names another tokenizer indexed."""

from __future__ import annotations

from bot.context import JobContext
from bot.router import Router
from domain.skills import recut_names

router = Router("skills.jobs", module="skills")

RECUT_SECONDS = 60.0  # a batch a minute: a group's few hundred names within the hour
RECUT_BATCH = 50  # names checked in one unit of work (a few ms of SQLite each, in steps)


@router.job("skills-reindex", every=lambda settings: RECUT_SECONDS)
async def recut(ctx: JobContext) -> None:
    """Skill names indexed before the present tokenizer (see migration 0026) are cut again,
    so an old post and a new one with the same skill match alike. Once every name is the
    present tokenizer's, a run is two look-ups in an index that find nothing."""
    checked, changed = await recut_names(ctx.repos.skills, RECUT_BATCH)
    if changed:
        ctx.log.info("skill names re-indexed: %d of %d checked", changed, checked)
