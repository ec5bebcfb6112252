"""Story review: the admins' queue, the switch, and approving or rejecting once."""

from __future__ import annotations

from bot import safety
from bot.context import Context, MessageContext
from bot.errors import UserError
from bot.forms import SWITCH
from bot.i18n import Text
from bot.replies import Reply, TextReply, ToMembers
from bot.router import Arg, Router
from handlers.stories.cards import card_updates, review_card, story_card
from handlers.stories.commands import SWITCHES, fold_choice
from handlers.stories.texts import T, status_word

router = Router("stories.review", module="stories")


# -- review ------------------------------------------------------------------------------------


@router.command(
    "review",
    aliases=["审核"],
    help=T.help_review,
    admin=True,
    args=[Arg("switch", T.switch, kind="choice", options=SWITCH, optional=True)],
)
async def review(ctx: MessageContext, switch: str | None) -> list[Reply] | Text:
    """List pending stories as review cards (``/审核 开|关`` switches review, in either
    language: "/审核 off" is understood, not refused with a usage line hiding the switch)."""
    if switch is not None:
        on = fold_choice(switch, SWITCHES, T.bad_switch) == "on"
        return await set_review(ctx, on)
    pending = await ctx.repos.stories.pending(ctx.conversation.id)
    if not pending:
        return [TextReply(content=ctx.t(T.no_pending))]
    header: list[Reply] = [TextReply(content=ctx.t(T.pending_header, n=len(pending)))]
    return header + [review_card(ctx, story) for story in pending]


async def set_review(ctx: Context, on: bool) -> Text:
    """Switch story review in this group."""
    await ctx.repos.groups.set_review(
        ctx.conversation.id, on, review_default=ctx.settings.stories.review_default
    )
    return T.review_on if on else T.review_off


@router.command("review on", aliases=["审核 开"], help=T.help_review_on, admin=True)
async def review_on(ctx: MessageContext) -> Text:
    """Review stories in this group."""
    return await set_review(ctx, True)


@router.command("review off", aliases=["审核 关"], help=T.help_review_off, admin=True)
async def review_off(ctx: MessageContext) -> Text:
    """Publish stories in this group without review."""
    return await set_review(ctx, False)


async def decide(ctx: Context, story_id: int, *, approve: bool, reason: str) -> list[Reply]:
    """Approve or reject once, even when two admins press at the same moment."""
    story = await ctx.repos.stories.decide(
        ctx.conversation.id,
        story_id,
        approve=approve,
        by=ctx.member.staff_id,
        reason=reason,
        now=ctx.now,
    )
    if story is None:
        existing = await ctx.repos.stories.get(ctx.conversation.id, story_id)
        if existing is None:
            raise UserError(T.not_pending, id=story_id)
        raise UserError(T.decided_already, id=story_id, status=status_word(ctx, existing.status))
    title = safety.plain(story.title)
    replies: list[Reply] = await card_updates(
        ctx, "review", story.id, {"status": status_word(ctx, story.status)}
    )
    if approve:
        pictures = await ctx.repos.pictures.media_ids(story.id)
        replies.append(story_card(ctx, story, pictures))
        note = ctx.t(T.approved_author, id=story.id, title=title)
    else:
        shown = safety.plain(reason) if reason else ctx.t(T.no_reason)
        note = ctx.t(T.rejected_author, id=story.id, title=title, reason=shown)
    replies.append(TextReply(content=note, to=ToMembers(staff_ids=[story.author_staff_id])))
    return replies


@router.command(
    "approve",
    aliases=["通过"],
    help=T.help_approve,
    admin=True,
    args=[Arg("id", T.story_id, kind="int", low=1)],
)
async def approve(ctx: MessageContext, id: int) -> list[Reply]:
    """Approve a story: it is posted, and its author is told."""
    replies = await decide(ctx, id, approve=True, reason="")
    return [TextReply(content=ctx.t(T.approved_admin, id=id)), *replies]


@router.command(
    "reject",
    aliases=["驳回"],
    help=T.help_reject,
    admin=True,
    args=[
        Arg("id", T.story_id, kind="int", low=1),
        Arg("reason", T.reason, kind="rest", optional=True, max_len=500),
    ],
)
async def reject(ctx: MessageContext, id: int, reason: str | None) -> list[Reply]:
    """Reject a story; its author is told the reason."""
    replies = await decide(ctx, id, approve=False, reason=reason or "")
    return [TextReply(content=ctx.t(T.rejected_admin, id=id)), *replies]
