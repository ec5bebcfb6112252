"""The swap card's buttons: accept, decline, confirm."""

from __future__ import annotations

from bot.context import ClickContext
from bot.replies import CardResponse
from bot.router import Router
from handlers.skills.cards import card_updates
from handlers.skills.common import SWAP, answer, confirm_swap
from handlers.skills.texts import status_word

router = Router("skills.clicks", module="skills")


@router.action("accept", "decline", kind="swap", acts=True)
async def answer_click(ctx: ClickContext) -> CardResponse:
    """Accept or decline on the card (only the member invited)."""
    message, replies = await answer(
        ctx, await SWAP.clicked(ctx), accept=ctx.click.action == "accept"
    )
    for reply in replies:
        ctx.reply(reply)
    found = await SWAP.clicked(ctx)  # read again: the answer changed its status
    return CardResponse(
        card_data={"status": status_word(ctx, found.status)}, private_data={"message": message}
    )


@router.action("confirm", kind="swap", acts=True)
async def confirm_click(ctx: ClickContext) -> CardResponse:
    """Confirm on the card (only the side that did not record it)."""
    message, found = await confirm_swap(ctx, await SWAP.clicked(ctx))
    for reply in await card_updates(
        ctx, found, skip=ctx.click.out_track_id if isinstance(ctx, ClickContext) else ""
    ):
        ctx.reply(reply)
    return CardResponse(
        card_data={"status": status_word(ctx, found.status)}, private_data={"message": message}
    )
