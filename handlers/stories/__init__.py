"""Stories ("我的钉钉故事"), their review, and honest likes.

The router of the feature: its commands, card buttons and privacy sections, each in a
module of its own; the weights and evidence live in ``domain``.
"""

from __future__ import annotations

from bot.router import Router
from handlers.stories import clicks, commands, jobs, likes, privacy, review
from handlers.stories.cards import review_card, story_card

router = Router("stories", module="stories")
router.include_router(commands.router)
router.include_router(review.router)
router.include_router(likes.router)
router.include_router(clicks.router)
router.include_router(jobs.router)
router.include_router(privacy.router)

__all__ = ["review_card", "router", "story_card"]
