"""The commands of the skills feature: posts, browsing, matching, swaps and credits."""

from __future__ import annotations

from datetime import timedelta

from bot import people, safety
from bot.context import MessageContext
from bot.errors import UserError
from bot.i18n import number
from bot.replies import Reply, TextReply, ToMembers
from bot.router import Arg, Router
from domain.skills import add_post, best_matches, browse, partners
from handlers.skills.cards import card_updates, swap_card
from handlers.skills.common import answer, confirm_swap, find_swap
from handlers.skills.texts import T, status_word
from storage.models import SkillPost

router = Router("skills.commands", module="skills")

RECENT = timedelta(days=30)


async def author_names(ctx: MessageContext, posts: list[SkillPost]) -> dict[str, str]:
    """Names of the posts' authors: the nick last seen, else the one they posted with."""
    return await people.names(
        ctx, ctx.conversation.id, [p.staff_id for p in posts], {p.staff_id: p.nick for p in posts}
    )


async def _post(ctx: MessageContext, kind: str, skill: str, detail: str | None) -> str:
    if not any(ch.isalnum() for ch in skill):
        raise UserError(T.no_words)
    post = await add_post(
        ctx.repos.skills,
        conversation_id=ctx.conversation.id,
        staff_id=ctx.member.staff_id,
        nick=ctx.member.nick,
        kind=kind,
        skill=skill,
        detail=detail or "",
        now=ctx.now,
    )
    kind_text = ctx.t(T.kind_offer if kind == "offer" else T.kind_want)
    lines = [ctx.t(T.posted, id=post.id, kind=kind_text, skill=skill)]
    candidates = await best_matches(ctx.repos.skills, post)
    if candidates:
        who = await author_names(ctx, [other for _, other in candidates[:3]])
        lines.append(ctx.t(T.matches_header))
        for score_, other in candidates:
            lines.append(
                ctx.t(
                    T.match_line,
                    id=other.id,
                    who=who[other.staff_id],
                    kind=ctx.t(T.kind_offer if other.kind == "offer" else T.kind_want),
                    skill=other.skill,
                    pct=round(score_ * 100),
                )
            )
    else:
        lines.append(ctx.t(T.no_matches))
    return "\n".join(lines)


SKILL_ARGS = [
    Arg("skill", T.skill, max_len=40),
    Arg("detail", T.detail, kind="rest", optional=True, max_len=500),
]


@router.command(
    "offer", aliases=["我会"], help=T.help_offer, style="pipe", args=SKILL_ARGS, acts=True
)
async def offer(ctx: MessageContext, skill: str, detail: str | None) -> str:
    """Offer a skill; the reply names the best current matches."""
    return await _post(ctx, "offer", skill, detail)


@router.command(
    "want", aliases=["我想学"], help=T.help_want, style="pipe", args=SKILL_ARGS, acts=True
)
async def want(ctx: MessageContext, skill: str, detail: str | None) -> str:
    """Ask for a skill; the reply names the best current matches."""
    return await _post(ctx, "want", skill, detail)


@router.command(
    "skills",
    aliases=["技能"],
    help=T.help_skills,
    args=[Arg("keyword", T.keyword, kind="rest", optional=True, max_len=40)],
)
async def skills(ctx: MessageContext, keyword: str | None) -> str:
    """Open offers and wants, optionally those matching a keyword."""
    posts = await browse(ctx.repos.skills, ctx.conversation.id, keyword)
    if not posts:
        return ctx.t(T.skills_empty)
    lines = [ctx.t(T.skills_header)]
    who = await author_names(ctx, posts)
    for p in posts:
        detail = (
            f"：{safety.plain(p.detail[:60])}"
            if p.detail and ctx.lang == "zh"
            else (f": {safety.plain(p.detail[:60])}" if p.detail else "")
        )
        lines.append(
            ctx.t(
                T.skills_line,
                id=p.id,
                who=who[p.staff_id],
                kind=ctx.t(T.kind_offer if p.kind == "offer" else T.kind_want),
                skill=p.skill,
                detail=detail,
            )
        )
    return "\n".join(lines)


@router.command(
    "withdraw",
    aliases=["撤回"],
    help=T.help_withdraw,
    args=[Arg("id", T.post_id, kind="int", low=1)],
)
async def withdraw(ctx: MessageContext, id: int) -> list[Reply]:
    """Withdraw one's own post; proposals waiting on it are cancelled and their senders told."""
    post = await ctx.repos.skills.get(ctx.conversation.id, id)
    if post is None:
        raise UserError(T.unknown_post, id=id)
    if post.staff_id != ctx.member.staff_id:
        raise UserError(T.not_yours)
    if not await ctx.repos.skills.withdraw(post):
        raise UserError(T.closed_post, id=id)
    replies: list[Reply] = []
    cancelled = 0
    for swap in await ctx.repos.swaps.pending_on_post(post.id):
        if await ctx.repos.swaps.move(swap, ("proposed",), "cancelled", ctx.now):
            cancelled += 1
            replies.append(
                TextReply(
                    content=ctx.t(T.proposal_cancelled, post=post.id),
                    to=ToMembers(staff_ids=[swap.proposer]),
                )
            )
            replies += await card_updates(ctx, swap)
    note = ctx.t(T.cancelled_note, n=cancelled) if cancelled else ""
    return [TextReply(content=ctx.t(T.withdrawn, id=id, cancelled=note).strip()), *replies]


@router.command("match", aliases=["匹配"], help=T.help_match)
async def match(ctx: MessageContext) -> str:
    """My best partners: two-way first, each with a score and why; recent partners last."""
    me = ctx.member.staff_id
    recent = await ctx.repos.swaps.recent_partners(ctx.conversation.id, me, ctx.now - RECENT)
    posts, ranked = await partners(ctx.repos.skills, ctx.conversation.id, me, recent)
    if not ranked:
        return ctx.t(T.no_partners)
    who = await people.names(
        ctx, ctx.conversation.id, [m.member for m in ranked], {p.staff_id: p.nick for p in posts}
    )
    lines = [ctx.t(T.match_header)]
    for i, m in enumerate(ranked, 1):
        why = []
        if m.they_teach:
            why.append(ctx.t(T.why_they, theirs=m.they_teach[1].skill, mine=m.they_teach[0].skill))
        if m.i_teach:
            why.append(ctx.t(T.why_me, mine=m.i_teach[0].skill, theirs=m.i_teach[1].skill))
        lines.append(
            ctx.t(
                T.match_entry,
                i=i,
                who=who[m.member],
                kind=ctx.t(T.match_two_way if m.two_way else T.match_one_way),
                score=number(m.score),
                recent=ctx.t(T.match_recent) if m.recent else "",
                why="；".join(why) if ctx.lang == "zh" else "; ".join(why),
            )
        )
    return "\n".join(lines)


@router.command(
    "swap",
    aliases=["交换"],
    help=T.help_swap,
    args=[Arg("id", T.post_id, kind="int", low=1)],
    acts=True,
)
async def swap(ctx: MessageContext, id: int) -> list[Reply]:
    """Propose a swap to the member behind a post; they accept or decline."""
    post = await ctx.repos.skills.get(ctx.conversation.id, id)
    if post is None:
        raise UserError(T.unknown_post, id=id)
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
    message, replies = await answer(ctx, id, accept=True)
    return [TextReply(content=message), *replies]


@router.command(
    "swap decline",
    aliases=["交换 拒绝"],
    help=T.help_decline,
    args=[Arg("id", T.swap_id, kind="int", low=1)],
)
async def decline(ctx: MessageContext, id: int) -> list[Reply]:
    """Decline: the proposer is told."""
    message, replies = await answer(ctx, id, accept=False)
    return [TextReply(content=message), *replies]


@router.command(
    "swap done",
    aliases=["交换完成"],
    help=T.help_done,
    args=[
        Arg("id", T.swap_id, kind="int", low=1),
        Arg("hours", T.hours, kind="float", low=0.5, high=24),
    ],
    acts=True,
)
async def done(ctx: MessageContext, id: int, hours: float) -> list[Reply]:
    """Either side records a finished swap; the other must confirm before credits move."""
    found = await find_swap(ctx, id)
    me = ctx.member.staff_id
    if me not in (found.proposer, found.partner):
        raise UserError(T.not_participant, id=id)
    if not await ctx.repos.swaps.move(
        found, ("accepted",), "done_pending", ctx.now, hours=hours, recorded_by=me
    ):
        raise UserError(T.not_open, id=id, status=status_word(ctx, found.status))
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
        TextReply(content=note, to=ToMembers(staff_ids=[other])),
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
    message, found = await confirm_swap(ctx, id)
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
