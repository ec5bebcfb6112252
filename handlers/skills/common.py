"""What the swap commands and the swap card's buttons share: finding, answering, confirming."""

from __future__ import annotations

from bot import people
from bot.context import ClickContext, Context
from bot.errors import UserError
from bot.i18n import number
from bot.lookup import Lookup
from bot.replies import Reply, TextReply, ToMembers
from handlers.skills.cards import card_updates
from handlers.skills.texts import T, status_word
from storage.models import SkillPost, Swap
from storage.swaps import LedgerConflict

# The group's post or swap with the number a member typed or a card button sent, or a refusal.
POST: Lookup[SkillPost] = Lookup(
    lambda repos, group, id: repos.skills.get(group, id), T.unknown_post
)
SWAP: Lookup[Swap] = Lookup(lambda repos, group, id: repos.swaps.get(group, id), T.unknown_swap)


async def answer(ctx: Context, found: Swap, *, accept: bool) -> tuple[str, list[Reply]]:
    """The invited member accepts or declines ``found``: the message for them, and the
    replies (card updates, the introduction or the proposer's notice)."""
    swap_id = found.id
    if found.partner != ctx.member.staff_id:
        raise UserError(T.only_partner)
    if not await ctx.repos.swaps.move(
        found, ("proposed",), "accepted" if accept else "declined", ctx.now
    ):
        raise UserError(T.not_open, id=swap_id, status=status_word(ctx, found.status))
    replies = await card_updates(
        ctx, found, skip=ctx.click.out_track_id if isinstance(ctx, ClickContext) else ""
    )
    if accept:
        # Names in the text; the sender adds the mentions where the platform has them.
        who = await people.names(ctx, found.conversation_id, [found.teacher, found.learner])
        introduction = ctx.t(
            T.accepted,
            id=found.id,
            teacher=who[found.teacher],
            learner=who[found.learner],
            skill=found.skill,
        )
        replies.append(TextReply(content=introduction, at_staff_ids=[found.teacher, found.learner]))
        replies.append(
            TextReply(
                content=introduction, to=ToMembers(staff_ids=[found.proposer], important=True)
            )
        )
        return ctx.t(T.accepted_ok, id=swap_id), replies
    told = ctx.t(
        T.declined, partner=people.shown(ctx.member.nick, ctx), id=found.id, skill=found.skill
    )
    replies.append(
        TextReply(content=told, to=ToMembers(staff_ids=[found.proposer], important=True))
    )
    return ctx.t(T.declined_ok, id=swap_id), replies


async def confirm_swap(ctx: Context, found: Swap) -> tuple[str, Swap]:
    """The side that did not record ``found`` confirms it; the hours move once."""
    swap_id = found.id
    me = ctx.member.staff_id
    if me not in (found.proposer, found.partner):
        raise UserError(T.not_participant, id=swap_id)
    if found.status == "done_pending" and found.recorded_by == me:
        raise UserError(T.own_record)
    if not await ctx.repos.swaps.move(found, ("done_pending",), "done", ctx.now):
        raise UserError(T.not_open, id=swap_id, status=status_word(ctx, found.status))
    assert found.hours is not None
    try:
        await ctx.repos.ledger.transfer(
            ctx.conversation.id, found.id, found.teacher, found.learner, found.hours, ctx.now
        )
    except LedgerConflict as exc:
        # Never a reply claiming +N when nothing was booked: the UserError rolls back the
        # status change too, and operators see the conflict in the log.
        ctx.log.error("swap #%s not booked: %s", found.id, exc)
        raise UserError(T.ledger_conflict, id=swap_id) from None
    who = await people.names(ctx, found.conversation_id, [found.teacher, found.learner])
    message = ctx.t(
        T.confirmed,
        id=swap_id,
        teacher=who[found.teacher],
        learner=who[found.learner],
        hours=number(found.hours),
    )
    return message, found
