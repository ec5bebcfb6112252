"""Skill swaps and time credits ("技能交换").

The router of the feature: its commands, card buttons and privacy sections, each in a
module of its own; matching lives in ``domain.skills`` and ``domain.skill_match``.
"""

from __future__ import annotations

from bot.router import Router
from handlers.skills import clicks, commands, jobs, privacy, swaps
from handlers.skills.cards import swap_card

router = Router("skills", module="skills")
router.include_router(commands.router)
router.include_router(swaps.router)
router.include_router(clicks.router)
router.include_router(privacy.router)
router.include_router(jobs.router)

__all__ = ["router", "swap_card"]
