"""The weekly digest: one per group per period, on the group's schedule, worth reading.

The router of the feature; the content (sections, rendering, the post) is in
``handlers.digest.content``, the schedule in ``jobs``, the admin commands in ``commands``.
"""

from __future__ import annotations

from bot.router import Router
from handlers.digest import commands, jobs
from handlers.digest.content import build, post_digest, render

router = Router("digest", module="digest")
router.include_router(jobs.router)
router.include_router(commands.router)

__all__ = ["build", "post_digest", "render", "router"]
