"""Card buttons of the stories feature: approve / reject on review cards, like on stories."""

from __future__ import annotations

from bot.context import ClickContext
from bot.i18n import number
from bot.replies import CardResponse, CardUpdate
from bot.router import Router
from handlers.stories.commands import STORY
from handlers.stories.likes import after_like_change, likeable
from handlers.stories.review import decide
from handlers.stories.texts import T

router = Router("stories.clicks", module="stories")


@router.action("approve", admin=True)
async def approve_click(ctx: ClickContext) -> CardResponse:
    """The approve button of a review card."""
    story_id = ctx.click_id(T.unknown)
    for reply in await decide(ctx, story_id, approve=True, reason=""):
        ctx.reply(reply)
    return CardResponse(
        card_data={"status": ctx.t(T.status_approved)},
        private_data={"message": ctx.t(T.approved_admin, id=story_id)},
    )


@router.action("reject", admin=True)
async def reject_click(ctx: ClickContext) -> CardResponse:
    """The reject button of a review card (no reason: the author is told none was given)."""
    story_id = ctx.click_id(T.unknown)
    for reply in await decide(ctx, story_id, approve=False, reason=""):
        ctx.reply(reply)
    return CardResponse(
        card_data={"status": ctx.t(T.status_rejected)},
        private_data={"message": ctx.t(T.rejected_admin, id=story_id)},
    )


@router.action("like", acts=True)
async def like_click(ctx: ClickContext) -> CardResponse:
    """The like button toggles; the card shows the new count and the clicker's own state."""
    story = await likeable(ctx, await STORY.clicked(ctx))
    member = ctx.member.staff_id
    await ctx.repos.likes.ensure_member(story.conversation_id, member, ctx.now)
    if await ctx.repos.likes.add(story, member, ctx.now):
        message, state = ctx.t(T.liked, id=story.id, likes="?"), ctx.t(T.liked_state)
    else:
        await ctx.repos.likes.remove(story, member)
        message, state = ctx.t(T.unliked, id=story.id), ""
    for update in await after_like_change(ctx, story):
        if isinstance(update, CardUpdate) and update.out_track_id == ctx.click.out_track_id:
            continue  # the ack itself updates the clicked card
        ctx.reply(update)
    message = message.replace("?", str(story.likes))
    return CardResponse(
        card_data={"likes": str(story.likes), "genuine_likes": number(story.genuine_likes)},
        private_data={"liked": state, "message": message},
    )
