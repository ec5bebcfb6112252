"""The post commands of the skills feature: offer, want, browse, withdraw and match."""

from __future__ import annotations

from datetime import timedelta

from bot import people, safety
from bot.batching import one_turn
from bot.context import MessageContext
from bot.errors import UserError
from bot.i18n import number
from bot.replies import Reply, TextReply, ToMembers
from bot.router import Arg, Router
from domain.skills import add_post, best_matches, browse, partners
from handlers.skills.cards import card_updates
from handlers.skills.common import POST
from handlers.skills.texts import T
from storage.views import PostView

router = Router("skills.commands", module="skills")

RECENT = timedelta(days=30)


async def author_names(ctx: MessageContext, posts: list[PostView]) -> dict[str, str]:
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
    kind_text = ctx.t(T.you_offer if kind == "offer" else T.you_want)
    lines = [ctx.t(T.posted, id=post.id, kind=kind_text, skill=skill)]
    # The post's write and index, then the look-up of its matches, held the loop in one
    # step (the inline SQLite driver never suspends): up to 10 ms on a quiet machine (issue
    # 15). A whole turn between them; the unit of work stays open, so the post is there.
    await one_turn()
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
    if not posts and keyword:
        # Not "no posts yet": the group may have many, just none on this.
        return ctx.t(T.skills_none_for, keyword=keyword)
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
    post = await POST.find(ctx, id)
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
