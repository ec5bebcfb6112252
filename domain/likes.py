"""Honest likes kept up to date, and their evidence in plain words (shared with the digest)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from bot import people
from bot.config import LikesConfig
from bot.context import Context
from bot.i18n import Text, number
from domain.honest_likes import LikeTable, MemberSignals, Scores, reason_names, score

# No piece of work may hold the event loop for more than 20 ms. Re-scoring a group reads
# every like (in steps: ``LikeRepo.scoring_input``), scores them in a worker thread when
# there are many (numpy, and the Python passes that build its columns, would hold the loop
# for seconds at a million likes; the thread gives the loop the GIL back every switch
# interval, 5 ms), then writes what changed in steps, yielding the loop between them.
THREAD_LIKES = 2000  # fewer likes score inline: a few milliseconds, cheaper than a thread hop
WRITE_CHUNK = 200  # changed weights written per statement
RECOUNT_LIKES = 5_000  # likes a recount statement sums at most (a story's likes may exceed it)


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
    likes: list[list[Any]], members: list[list[Any]]
) -> tuple[LikeTable, dict[str, MemberSignals]]:
    """The scorer's input from ``LikeRepo.scoring_input`` columns."""
    _, story, likers, authors, at, _, _ = likes
    table = LikeTable.build(
        np.asarray(story, np.int64), likers, authors, np.asarray(at, np.float64)
    )
    signals = {
        staff: MemberSignals(first_seen=first, active=other > 0 or stories > 0)
        for staff, first, other, stories in zip(*members, strict=True)
    }
    return table, signals


@dataclass(slots=True)
class Changes:
    """The likes whose weight or reasons changed (columns), and the stories to recount in
    chunks of at most ``RECOUNT_LIKES`` likes."""

    like_ids: list[int]
    weights: list[float]
    reasons: list[str]
    recounts: list[list[int]]

    def rows(self, start: int, stop: int) -> list[dict[str, object]]:
        """``LikeRepo.save_weights`` rows for changes ``start`` to ``stop`` (built a chunk
        at a time: a million dicts at once would be a long garbage-collector walk)."""
        return [
            {"lid": lid, "w": w, "r": r}
            for lid, w, r in zip(
                self.like_ids[start:stop],
                self.weights[start:stop],
                self.reasons[start:stop],
                strict=True,
            )
        ]


def _score_and_diff(
    likes: list[list[Any]], members: list[list[Any]], cfg: LikesConfig, zone: ZoneInfo
) -> tuple[Scores, Changes]:
    """Score the likes and find what changed. Pure: runs in a worker thread for big groups."""
    table, signals = scoring_columns(likes, members)
    scores = score(table, signals, cfg, zone)
    ids, old_weight, old_reasons = likes[0], np.asarray(likes[5], np.float64), likes[6]
    names = {mask: ",".join(reason_names(mask)) for mask in np.unique(scores.reasons).tolist()}
    reasons = [names[mask] for mask in scores.reasons.tolist()]
    changed = set(np.flatnonzero(np.abs(scores.weight - old_weight) > 1e-9).tolist())
    changed.update(
        i for i, (old, new) in enumerate(zip(old_reasons, reasons, strict=True)) if old != new
    )
    order = sorted(changed)
    weights = scores.weight.tolist()
    # Only stories with a changed weight can have a changed genuine count (raw counts and new
    # likes are recounted when a like comes or goes).
    story_ids, counts = np.unique(table.story, return_counts=True)
    touched = set(table.story[order].tolist()) if order else set()
    recounts: list[list[int]] = []
    chunk: list[int] = []
    summed = 0
    for story_id, count in zip(story_ids.tolist(), counts.tolist(), strict=True):
        if story_id not in touched:
            continue
        if chunk and summed + count > RECOUNT_LIKES:
            recounts.append(chunk)
            chunk, summed = [], 0
        chunk.append(story_id)
        summed += count
    if chunk:
        recounts.append(chunk)
    changes = Changes(
        [ids[i] for i in order], [weights[i] for i in order], [reasons[i] for i in order], recounts
    )
    return scores, changes


async def rescore(ctx: Context, conversation_id: str) -> Scores:
    """Recompute every like weight of a group from the evidence in the database, never
    holding the event loop for long (see ``THREAD_LIKES``)."""
    likes, members = await ctx.repos.likes.scoring_input(conversation_id)
    work = (likes, members, ctx.settings.likes, ctx.settings.bot.tz)
    if len(likes[0]) < THREAD_LIKES:
        scores, changes = _score_and_diff(*work)
    else:
        scores, changes = await asyncio.to_thread(_score_and_diff, *work)
    for start in range(0, len(changes.like_ids), WRITE_CHUNK):
        await ctx.repos.likes.save_weights(changes.rows(start, start + WRITE_CHUNK))
        await asyncio.sleep(0)  # the inline SQLite driver never suspends: yield here
    for story_ids in changes.recounts:
        await ctx.repos.likes.recount_stories(story_ids)
        await asyncio.sleep(0)
    await ctx.repos.groups.clear_dirty(conversation_id)
    return scores


async def rescore_if_dirty(ctx: Context, conversation_id: str) -> None:
    """Bring a group's weights up to date before showing counts (cheap when they are)."""
    group = await ctx.repos.groups.get(
        conversation_id, review_default=ctx.settings.stories.review_default
    )
    if group.likes_dirty:
        await rescore(ctx, conversation_id)


async def describe(ctx: Context, scores: Scores, conversation_id: str) -> str:
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
