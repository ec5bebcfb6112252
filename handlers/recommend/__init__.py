"""Recommendations (千人千面): ``/推荐`` for one member, and the weekly one-to-one opt-in.

Pure ranking in ``domain.recommend``; reads in ``storage.recommend``.
"""

from __future__ import annotations

from bot.router import Router
from handlers.recommend import commands, jobs, privacy

router = Router("recommend")
router.include_router(commands.router)
router.include_router(jobs.router)
router.include_router(privacy.router)
