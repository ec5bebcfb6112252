"""The activity's sign-up card and its updates.

Every card shows the activity's state (``status``: 报名中 / 已满·候补 / 已截止 / 已取消 /
已结束) and whether joining still applies (``joinable``: "1" or "0"). The markdown fallback
and the sandbox drop the join / leave buttons and the join hint once they no longer apply;
in a template, bind the buttons' visibility to ``joinable`` where the card builder offers it
(the sources we have do not say whether every builder does, so either way a click on an
activity that is closed is refused with the reason in the clicker's private ``message``).
"""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime

from bot import safety
from bot.cards import CATALOG
from bot.context import BaseContext, Context
from bot.i18n import Text, number
from bot.replies import CardReply, Reply
from handlers.volunteers.common import local_time
from handlers.volunteers.texts import T
from storage.models import Event


def status_of(event: Event, now: datetime, taken: int) -> tuple[Text, bool]:
    """The state a card shows, and whether join / leave still apply."""
    if event.status == "cancelled":
        return T.status_cancelled, False
    if event.status == "done":
        return T.status_done, False
    if now >= event.starts_at:
        return T.status_closed, False
    if taken >= event.seats:
        return T.status_full, True
    return T.status_open, True


def card_data(ctx: BaseContext, event: Event, taken: int, waiting: int) -> dict[str, str]:
    """The card's public variables. The state is in Chinese whoever acted: the card is the
    group's, not the clicker's."""
    status, joinable = status_of(event, ctx.now, taken)
    return {
        "title": safety.plain(event.title),
        "starts": local_time(ctx, event.starts_at),
        "place": safety.plain(event.place),
        "hours": number(event.hours),
        "seats": str(event.seats),
        "taken": str(taken),
        "waitlist": str(waiting),
        "status": status.render("zh"),
        "joinable": "1" if joinable else "0",
    }


async def event_card(ctx: Context, event: Event) -> CardReply:
    """The sign-up card: its state, seats taken / total and the waitlist length, with join /
    leave while they apply."""
    taken, waiting = await ctx.repos.signups.counts(event.id)
    data = card_data(ctx, event, taken, waiting)
    joinable = data["joinable"] == "1"
    hint = f"  \n{ctx.t(T.join_hint, id=event.id)}" if joinable else ""
    # The fallback is read in the language of whoever made it change (the card's data is
    # Chinese: the card is the group's).
    status = ctx.t(status_of(event, ctx.now, taken)[0])
    hours = ctx.t(T.fallback_hours, hours=data["hours"])
    return CATALOG["event"].build(
        ctx.settings,
        entity_id=event.id,
        title=data["title"][:60],
        data=data,
        fallback_markdown=(
            f"#### #{event.id} {safety.md(event.title)}\n\n**{status}**  \n"
            f"{data['starts']} @ {safety.md(event.place)}  \n"
            f"{hours} · {taken}/{event.seats} · {waiting}{hint}"
        ),
    )


async def card_updates(
    ctx: BaseContext,
    event: Event,
    skip: Set[str] = frozenset(),
    counts: tuple[int, int] | None = None,
) -> list[Reply]:
    """Updates for every delivered card of the activity (but those in ``skip``)."""
    taken, waiting = counts or await ctx.repos.signups.counts(event.id)
    data = card_data(ctx, event, taken, waiting)
    return [
        CATALOG["event"].update(track, data)
        for track in await ctx.repos.cards.track_ids("event", str(event.id))
        if track not in skip
    ]
