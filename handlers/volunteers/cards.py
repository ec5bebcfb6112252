"""The activity's sign-up card and its updates."""

from __future__ import annotations

from collections.abc import Set

from bot import safety
from bot.cards import CATALOG
from bot.context import Context
from bot.i18n import number
from bot.replies import CardReply, Reply
from handlers.volunteers.common import local_time
from handlers.volunteers.texts import T
from storage.models import Event


def card_data(ctx: Context, event: Event, taken: int, waiting: int) -> dict[str, str]:
    return {
        "title": safety.plain(event.title),
        "starts": local_time(ctx, event.starts_at),
        "place": safety.plain(event.place),
        "hours": number(event.hours),
        "seats": str(event.seats),
        "taken": str(taken),
        "waitlist": str(waiting),
    }


async def event_card(ctx: Context, event: Event) -> CardReply:
    """The sign-up card: seats taken / total and the waitlist length, with join / leave."""
    taken, waiting = await ctx.repos.signups.counts(event.id)
    data = card_data(ctx, event, taken, waiting)
    return CATALOG["event"].build(
        ctx.settings,
        entity_id=event.id,
        title=data["title"][:60],
        data=data,
        fallback_markdown=(
            f"#### #{event.id} {safety.md(event.title)}\n\n{data['starts']} @ {safety.md(event.place)}  \n"
            f"{data['hours']} h · {taken}/{event.seats} · {waiting}  \n{ctx.t(T.join_hint, id=event.id)}"
        ),
    )


async def card_updates(
    ctx: Context, event: Event, skip: Set[str] = frozenset(), counts: tuple[int, int] | None = None
) -> list[Reply]:
    taken, waiting = counts or await ctx.repos.signups.counts(event.id)
    data = card_data(ctx, event, taken, waiting)
    return [
        CATALOG["event"].update(track, data)
        for track in await ctx.repos.cards.track_ids("event", str(event.id))
        if track not in skip
    ]
