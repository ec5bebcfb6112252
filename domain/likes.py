"""Honest likes kept up to date, and their evidence in plain words (shared with the digest)."""

from __future__ import annotations

from typing import Any

import numpy as np

from bot import people
from bot.context import BaseContext
from bot.i18n import Text, number
from bot.replies import CardUpdate
from domain.honest_likes import LikeTable, MemberSignals, Scores, reason_names, score


class T:
    """The texts of the evidence."""

    suspicious_header = Text("点赞异常：", "Likes that look brushed:")
    burst_line = Text(
        "故事 #{id}「{title}」：{n} 个赞在 {seconds} 秒内，其中 {fresh} 个来自 {hours} 小时内首次出现的成员，"
        "{inactive} 个来自只点赞的成员；{discounted} 个赞按低权重计（真实 {genuine} / 共 {likes}）",
        "Story #{id} '{title}': {n} likes within {seconds} s, {fresh} from members first seen within "
        "{hours} h and {inactive} from members who only like; {discounted} count for little "
        "({genuine} genuine of {likes})",
    )
    ring_line = Text(
        "{a} 与 {b} 互相点赞：{a} 赞了 {b} 的 {ab} 个故事，{b} 赞了 {a} 的 {ba} 个",
        "{a} and {b} like each other: {a} liked {ab} of {b}'s stories, {b} liked {ba} of {a}'s",
    )
    like_only_line = Text(
        "{who} 只点赞、没有其他互动（{n} 个赞）", "{who} only likes, nothing else ({n} likes)"
    )
    capped_line = Text(
        "{who} 超过每日点赞上限，{n} 个赞不计",
        "{who} went over the daily cap; {n} likes do not count",
    )


def scoring_columns(
    likes: list[Any], members: list[Any]
) -> tuple[LikeTable, dict[str, MemberSignals]]:
    """The scorer's input from ``LikeRepo.scoring_input`` rows."""
    table = LikeTable.build(
        np.fromiter((row[1] for row in likes), np.int64, len(likes)),
        [row[2] for row in likes],
        [row[3] for row in likes],
        np.fromiter((row[4] for row in likes), np.float64, len(likes)),
    )
    signals = {
        staff: MemberSignals(first_seen=first, active=other > 0 or stories > 0)
        for staff, first, other, stories in members
    }
    return table, signals


def count_fields(likes: int, genuine: float) -> dict[str, str]:
    """A story card's count variables (card values are strings: 创建并投放卡片)."""
    return {"likes": str(likes), "genuine_likes": number(genuine)}


async def rescore(ctx: BaseContext, conversation_id: str) -> Scores:
    """Recompute every like weight of a group from the evidence in the database.

    Stories whose genuine count changed get their delivered cards updated, so a card never
    keeps a count the rescoring has overturned.
    """
    likes, members = await ctx.repos.likes.scoring_input(conversation_id)
    table, signals = scoring_columns(likes, members)
    started = await ctx.repos.likes.group_started(conversation_id)
    # Everyone already in the group speaks for the first time after the bot joins: a
    # member first seen while the group was new to the bot is not a fresh account.
    settled = (
        started + ctx.settings.likes.fresh_member_hours * 3600 if started is not None else None
    )
    scores = score(table, signals, ctx.settings.likes, ctx.settings.bot.tz, settled)
    old_weight = np.fromiter((row[5] for row in likes), np.float64, len(likes))
    old_reasons = [row[6] for row in likes]
    names = {mask: ",".join(reason_names(mask)) for mask in np.unique(scores.reasons).tolist()}
    changed = set(np.flatnonzero(np.abs(scores.weight - old_weight) > 1e-9).tolist())
    changed.update(i for i, old in enumerate(old_reasons) if old != names[int(scores.reasons[i])])
    changes: list[dict[str, object]] = [
        {"lid": likes[i][0], "w": float(scores.weight[i]), "r": names[int(scores.reasons[i])]}
        for i in sorted(changed)
    ]
    await ctx.repos.likes.save_weights(changes)
    if changes:
        await ctx.repos.likes.recount_group(conversation_id)
        reweighed = sorted(
            {int(likes[i][1]) for i in changed if abs(scores.weight[i] - old_weight[i]) > 1e-9}
        )
        for story_id, raw, genuine in await ctx.repos.likes.counts(reweighed):
            for track in await ctx.repos.cards.track_ids("story", str(story_id)):
                ctx.reply(CardUpdate(out_track_id=track, data=count_fields(raw, genuine)))
    await ctx.repos.groups.clear_dirty(conversation_id)
    return scores


async def rescore_if_dirty(ctx: BaseContext, conversation_id: str) -> None:
    """Bring a group's weights up to date before showing counts (cheap when they are)."""
    group = await ctx.repos.groups.get(
        conversation_id, review_default=ctx.settings.stories.review_default
    )
    if group.likes_dirty:
        await rescore(ctx, conversation_id)


async def describe(ctx: BaseContext, scores: Scores, conversation_id: str) -> str:
    """The evidence of a scoring run in plain words (empty when nothing looks brushed)."""
    lines: list[str] = []
    hours = number(ctx.settings.likes.fresh_member_hours)
    for burst in scores.bursts:
        story = await ctx.repos.stories.get(conversation_id, burst.story_id)
        if story is None:
            continue
        await ctx.session.refresh(story)
        lines.append(
            ctx.t(
                T.burst_line,
                id=story.id,
                title=story.title,
                n=burst.likes,
                seconds=round(burst.seconds),
                fresh=burst.fresh,
                hours=hours,
                inactive=burst.inactive,
                discounted=burst.discounted,
                genuine=number(story.genuine_likes),
                likes=story.likes,
            )
        )
    named = await people.names(
        ctx,
        conversation_id,
        [m for a, b, _, _ in scores.rings for m in (a, b)]
        + list(scores.like_only)
        + list(scores.capped),
    )
    for a, b, ab, ba in scores.rings:
        lines.append(ctx.t(T.ring_line, a=named[a], b=named[b], ab=ab, ba=ba))
    for who, n in sorted(scores.like_only.items()):
        lines.append(ctx.t(T.like_only_line, who=named[who], n=n))
    for who, n in sorted(scores.capped.items()):
        lines.append(ctx.t(T.capped_line, who=named[who], n=n))
    return "\n".join([ctx.t(T.suspicious_header), *lines]) if lines else ""
