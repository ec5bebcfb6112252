"""The swap commands (propose, accept, decline, done, confirm) and the credits balance."""

from __future__ import annotations

from bot import people
from bot.context import MessageContext
from bot.errors import UserError
from bot.i18n import number
from bot.replies import Reply, TextReply, ToMembers
from bot.router import Arg, Router
from handlers.skills.cards import card_updates, swap_card
from handlers.skills.common import POST, SWAP, answer, confirm_swap, move
from handlers.skills.texts import T, status_word

router = Router("skills.swaps", module="skills")


@router.command(
    "swap",
    aliases=["交换"],
    help=T.help_swap,
    args=[Arg("id", T.post_id, kind="int", low=1)],
    acts=True,
)
async def swap(ctx: MessageContext, id: int) -> list[Reply]:
    """Propose a swap to the member behind a post; they accept or decline."""
    post = await POST.find(ctx, id)
    if post.status != "open":
        raise UserError(T.closed_post, id=id)
    me = ctx.member.staff_id
    if post.staff_id == me:
        raise UserError(T.self_swap)
    if await ctx.repos.bans.is_banned(ctx.conversation.id, post.staff_id):
        raise UserError(T.partner_banned)
    existing = await ctx.repos.swaps.open_between(post.id, me)
    if existing is not None:
        raise UserError(
            T.already_proposed,
            post=post.id,
            id=existing.id,
            status=status_word(ctx, existing.status),
        )
    teacher, learner = (post.staff_id, me) if post.kind == "offer" else (me, post.staff_id)
    new = await ctx.repos.swaps.create(
        conversation_id=ctx.conversation.id,
        post_id=post.id,
        proposer=me,
        partner=post.staff_id,
        teacher=teacher,
        learner=learner,
        skill=post.skill,
        created_at=ctx.now,
    )
    text = ctx.t(
        T.proposed,
        # The name: the mention itself is added by the sender where the platform has one.
        partner=await people.name(ctx, ctx.conversation.id, post.staff_id, post.nick),
        proposer=people.shown(ctx.member.nick, ctx),
        skill=post.skill,
        id=new.id,
    )
    replies: list[Reply] = [TextReply(content=text, at_staff_ids=[post.staff_id])]
    if ctx.settings.cards.swap_template:
        partner_name = await people.name(ctx, ctx.conversation.id, post.staff_id, post.nick)
        replies.append(swap_card(ctx, new, ctx.member.nick, partner_name))
    return replies


@router.command(
    "swap accept",
    aliases=["交换 接受"],
    help=T.help_accept,
    args=[Arg("id", T.swap_id, kind="int", low=1)],
    acts=True,
)
async def accept(ctx: MessageContext, id: int) -> list[Reply]:
    """Accept: both are introduced and the proposer is told."""
    message, replies = await answer(ctx, await SWAP.find(ctx, id), accept=True)
    return [TextReply(content=message), *replies]


@router.command(
    "swap decline",
    aliases=["交换 拒绝"],
    help=T.help_decline,
    args=[Arg("id", T.swap_id, kind="int", low=1)],
)
async def decline(ctx: MessageContext, id: int) -> list[Reply]:
    """Decline: the proposer is told."""
    message, replies = await answer(ctx, await SWAP.find(ctx, id), accept=False)
    return [TextReply(content=message), *replies]


@router.command(
    "swap done",
    aliases=["交换完成", "交换 完成"],  # the second as 接受, 拒绝 and 确认 are written
    help=T.help_done,
    args=[
        Arg("id", T.swap_id, kind="int", low=1),
        Arg("hours", T.hours, kind="hours", low=0.5, high=24),
    ],
    acts=True,
)
async def done(ctx: MessageContext, id: int, hours: float) -> list[Reply]:
    """Either side records a finished swap; the other must confirm before credits move."""
    found = await SWAP.find(ctx, id)
    me = ctx.member.staff_id
    if me not in (found.proposer, found.partner):
        raise UserError(T.not_participant, id=id)
    found = await move(ctx, found, ("accepted",), "done_pending", hours=hours, recorded_by=me)
    other = found.partner if me == found.proposer else found.proposer
    note = ctx.t(
        T.please_confirm,
        who=people.shown(ctx.member.nick, ctx),
        id=id,
        skill=found.skill,
        hours=number(hours),
    )
    return [
        TextReply(
            content=ctx.t(
                T.recorded,
                id=id,
                hours=number(hours),
                other=await people.name(ctx, found.conversation_id, other),
            )
        ),
        TextReply(content=note, to=ToMembers(staff_ids=[other], important=True)),
        *await card_updates(ctx, found),
    ]


@router.command(
    "swap confirm",
    aliases=["交换 确认"],
    help=T.help_confirm,
    args=[Arg("id", T.swap_id, kind="int", low=1)],
    acts=True,
)
async def confirm(ctx: MessageContext, id: int) -> list[Reply]:
    """The other side confirms; only then do the hours move, once."""
    message, found = await confirm_swap(ctx, await SWAP.find(ctx, id))
    return [TextReply(content=message), *await card_updates(ctx, found)]


@router.command("credits", aliases=["时间币"], help=T.help_credits)
async def credits(ctx: MessageContext) -> str:
    """My balance and latest entries."""
    balance = await ctx.repos.ledger.balance(ctx.conversation.id, ctx.member.staff_id)
    entries = await ctx.repos.ledger.history(ctx.conversation.id, ctx.member.staff_id)
    lines = [ctx.t(T.credits_header, balance=number(balance))]
    if not entries:
        lines.append(ctx.t(T.credits_none))
    for e in entries:
        day = e.at.astimezone(ctx.settings.bot.tz).strftime("%Y-%m-%d")
        amount = ("+" if e.amount > 0 else "") + number(e.amount)
        lines.append(ctx.t(T.credits_line, swap=e.swap_id, amount=amount, day=day))
    return "\n".join(lines)
