"""The swap card and its updates, built from the catalogue entry."""

from __future__ import annotations

from bot import people, safety
from bot.cards import CATALOG
from bot.context import BaseContext
from bot.i18n import number
from bot.replies import CardReply, Reply
from handlers.skills.texts import status_word
from storage.views import SwapView


def swap_card(ctx: BaseContext, swap: SwapView, proposer_nick: str, partner_nick: str) -> CardReply:
    """The proposal as a card with accept / decline / confirm."""
    data = {
        "title": f"#{swap.id} {safety.plain(swap.skill)}",
        "from": people.shown(proposer_nick, ctx),
        "to": people.shown(partner_nick, ctx),
        "skill": safety.plain(swap.skill),
        "status": status_word(ctx, swap.status),
        "hours": number(swap.hours) if swap.hours else "",
    }
    return CATALOG["swap"].build(
        ctx.settings,
        entity_id=swap.id,
        title=data["title"],
        data=data,
        fallback_markdown=safety.md(data["title"]),
    )


async def card_updates(ctx: BaseContext, swap: SwapView, skip: str = "") -> list[Reply]:
    data = {
        "status": status_word(ctx, swap.status),
        "hours": number(swap.hours) if swap.hours else "",
    }
    return [
        CATALOG["swap"].update(track, data)
        for track in await ctx.repos.cards.track_ids("swap", str(swap.id))
        if track != skip
    ]
