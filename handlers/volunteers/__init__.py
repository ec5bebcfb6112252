"""Volunteer activities ("公益志愿者平台"): sign-ups, the waitlist, reminders and hours.

The feature is a package (issue 14's layout): ``texts`` holds every text, ``cards`` the
sign-up card, ``commands`` and ``clicks`` the handlers, ``jobs`` the reminders and
``privacy`` what /mydata shows and /forget erases; ``common`` is what they share. This
module only assembles their routers, in the order /help lists the commands.
"""

from __future__ import annotations

from bot.router import Router
from handlers.volunteers import (
    boards,
    checkin,
    clicks,
    commands,
    edit,
    exports,
    jobs,
    privacy,
    reminders,
    series,
)
from handlers.volunteers.cards import event_card
from handlers.volunteers.texts import T

router = Router("volunteers", module="volunteers")
for _part in (
    commands.router,
    series.router,
    edit.router,
    checkin.router,
    boards.router,
    exports.router,
    reminders.router,
    clicks.router,
    jobs.router,
    privacy.router,
):
    router.include_router(_part)

__all__ = ["T", "event_card", "router"]
