"""Feature modules, one router each."""

from __future__ import annotations

from bot.router import Router


def default_routers() -> list[Router]:
    """The routers of every feature, in matching order."""
    from handlers import (
        admin,
        digest,
        feedback,
        help,
        privacy,
        recommend,
        retention,
        skills,
        stories,
        volunteers,
    )

    return [
        help.router,
        stories.router,
        volunteers.router,
        skills.router,
        digest.router,
        recommend.router,
        feedback.router,
        privacy.router,
        admin.router,
        retention.router,
    ]
