"""Likes, rankings and the honest-likes audits of stories."""

from __future__ import annotations

import base64
from datetime import timedelta

from bot import people
from bot.batching import one_turn
from bot.context import Context, MessageContext
from bot.errors import UserError
from bot.forms import choices_from
from bot.i18n import number
from bot.replies import ImageReply, Reply, TextReply
from bot.router import Arg, Router
from domain.likes import WORKER, describe, rescore, rescore_if_dirty
from domain.likes_chart import LikePoint, burst_spans, render_off_loop
from handlers.stories.cards import card_updates
from handlers.stories.commands import SCOPES, STORY, fold_choice
from handlers.stories.texts import T, status_word
from storage.models import Story

router = Router("stories.likes", module="stories")


# -- likes ----------------------------------------------------------------------------------


async def likeable(ctx: Context, story: Story) -> Story:
    """``story`` if this member may like it: published, and not their own."""
    if story.status == "pending":
        raise UserError(T.not_approved, id=story.id)
    if story.status in ("withdrawn", "removed"):
        # Once published, members may still see it (a card, an old list): say what became
        # of it rather than "no such story". A rejected one never was: unknown to them.
        raise UserError(T.not_likeable, id=story.id, status=status_word(ctx, story.status))
    if story.status != "approved":
        raise UserError(T.unknown, id=story.id)
    if story.author_staff_id == ctx.member.staff_id:
        raise UserError(T.own_story)
    return story


async def after_like_change(ctx: Context, story: Story) -> list[Reply]:
    await ctx.repos.groups.mark_likes_dirty(
        story.conversation_id, review_default=ctx.settings.stories.review_default
    )
    WORKER.warm()  # the group will be re-scored: have its worker process ready
    await ctx.session.refresh(story)
    return await card_updates(
        ctx,
        "story",
        story.id,
        {"likes": str(story.likes), "genuine_likes": number(story.genuine_likes)},
    )


@router.command(
    "like",
    aliases=["赞"],
    help=T.help_like,
    args=[Arg("id", T.story_id, kind="int", low=1)],
    acts=True,
)
async def like(ctx: MessageContext, id: int) -> list[Reply]:
    """Like a story (once; a second like is a friendly no-op)."""
    await ctx.repos.likes.count_like_message(ctx.conversation.id, ctx.member.staff_id)
    story = await likeable(ctx, await STORY.find(ctx, id))
    if not await ctx.repos.likes.add(story, ctx.member.staff_id, ctx.now):
        return [TextReply(content=ctx.t(T.already_liked, id=id))]
    # On SQLite a like runs inline, in one step of the loop: 6-9 ms on a quiet machine, 13
    # under load (issue 15). A whole turn here, between the like and its consequences
    # (the group marked for re-scoring, the cards), halves that; the unit of work (and on
    # SQLite its write lock) stays open, so nothing else comes between.
    await one_turn()
    updates = await after_like_change(ctx, story)
    return [TextReply(content=ctx.t(T.liked, id=id, likes=story.likes)), *updates]


@router.command(
    "unlike",
    aliases=["取消赞"],
    help=T.help_unlike,
    args=[Arg("id", T.story_id, kind="int", low=1)],
)
async def unlike(ctx: MessageContext, id: int) -> list[Reply]:
    """Take a like back."""
    await ctx.repos.likes.count_like_message(ctx.conversation.id, ctx.member.staff_id)
    story = await STORY.find(ctx, id)
    if not await ctx.repos.likes.remove(story, ctx.member.staff_id):
        return [TextReply(content=ctx.t(T.not_liked, id=id))]
    await one_turn()  # as in ``like``
    updates = await after_like_change(ctx, story)
    return [TextReply(content=ctx.t(T.unliked, id=id)), *updates]


@router.command(
    "stories",
    aliases=["故事榜"],
    help=T.help_stories,
    args=[Arg("scope", T.scope, kind="choice", options=choices_from(SCOPES), optional=True)],
)
async def stories(ctx: MessageContext, scope: str | None) -> str:
    """Top stories by genuine likes, showing genuine and raw counts."""
    if scope is not None:
        scope = fold_choice(scope, SCOPES, T.bad_scope)
    if await rescore_if_dirty(ctx, ctx.conversation.id):
        # The re-scoring's last step and the board's reads (top stories, names, the reply
        # and the unit of work's end) held the loop in one step, 4.3 ms on a quiet machine
        # and over 10 under load (issue 15): a whole turn between them. The unit of work
        # stays open, so the board still shows the weights just written.
        await one_turn()
    since = None if scope == "all" else ctx.now - timedelta(days=7)
    top = await ctx.repos.stories.top(ctx.conversation.id, since, ctx.settings.stories.top)
    if not top:
        return ctx.t(T.top_empty)
    lines = [ctx.t(T.top_header_all if scope == "all" else T.top_header_week)]
    authors = await people.names(
        ctx,
        ctx.conversation.id,
        [s.author_staff_id for s in top],
        {s.author_staff_id: s.author_nick for s in top},
    )
    for story in top:
        lines.append(
            ctx.t(
                T.top_line,
                id=story.id,
                title=story.title,
                author=authors[story.author_staff_id],
                genuine=number(story.genuine_likes),
                likes=story.likes,
            )
        )
    return "\n".join(lines)


@router.command(
    "likes",
    aliases=["点赞明细"],
    help=T.help_likes,
    admin=True,
    args=[Arg("id", T.story_id, kind="int", low=1)],
)
async def likes_audit(ctx: MessageContext, id: int) -> list[Reply] | str:
    """Each like of a story, its weight and the reason; and a chart of the likes over time,
    brushed ones marked and bursts shaded (rendered in a worker process: a render takes
    longer than the event loop may be blocked)."""
    await rescore_if_dirty(ctx, ctx.conversation.id)
    story = await STORY.find(ctx, id)
    await ctx.session.refresh(story)
    likes = await ctx.repos.likes.of_story(story.id)
    if not likes:
        return ctx.t(T.likes_none, id=id)
    lines = [ctx.t(T.likes_header, id=id, likes=story.likes, genuine=number(story.genuine_likes))]
    who = await people.names(ctx, ctx.conversation.id, [like.staff_id for like in likes])
    for like in likes:
        why = [ctx.t(T.reason_words[r]) for r in like.reasons.split(",") if r in T.reason_words]
        lines.append(
            ctx.t(
                T.likes_line,
                who=who[like.staff_id],
                weight=f"{like.weight:.2f}",
                why="；".join(why)
                if why and ctx.lang == "zh"
                else ", ".join(why) or ctx.t(T.full_weight),
            )
        )
    window = ctx.settings.likes.burst_window_seconds
    bursts = burst_spans(
        [like.created_at for like in likes if "burst" in like.reasons.split(",")], window
    )
    points = [LikePoint(like.created_at, like.weight) for like in likes]
    png = await render_off_loop(id, points, bursts, ctx.settings.bot.tz, ctx.lang)
    chart = ImageReply(
        title=ctx.t(T.chart_title, id=id), png_base64=base64.b64encode(png).decode("ascii")
    )
    return [TextReply(content="\n".join(lines)), chart]


@router.command("suspicious", aliases=["异常点赞"], help=T.help_suspicious, admin=True)
async def suspicious(ctx: MessageContext) -> str:
    """Stories whose likes look brushed, with the evidence in plain words."""
    scores = await rescore(ctx, ctx.conversation.id)
    return await describe(ctx, scores, ctx.conversation.id) or ctx.t(T.suspicious_none)
