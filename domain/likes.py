"""Honest likes kept up to date, and their evidence in plain words (shared with the digest)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from bot import people
from bot.config import LikesConfig
from bot.context import BaseContext
from bot.i18n import Text, number
from bot.replies import CardUpdate
from domain.honest_likes import LikeTable, MemberSignals, Scores, reason_names, score
from storage.stories import Columns

# No piece of work may hold the event loop for more than 20 ms. Re-scoring a group reads
# every like (in steps: ``LikeRepo.scoring_input``), scores them in a worker thread when
# there are many (numpy, and the Python passes that build its columns, would hold the loop
# for seconds at a million likes; the thread gives the loop the GIL back every switch
# interval, 5 ms), then writes what changed in steps, yielding the loop between them.
THREAD_LIKES = 2000  # fewer likes score inline: a few milliseconds, cheaper than a thread hop
STEP = 0.003  # seconds of the loop thread's CPU a write step aims at
WRITE_CHUNK = 50  # changed weights the first write step writes (then sized by time)
RECOUNT_LIKES = 500  # likes the first recount step sums (then sized by time)
CARD_STEP = 20  # stories whose cards are updated per step


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
    likes: Columns, members: Columns, authors: Columns
) -> tuple[LikeTable, MemberColumns]:
    """The scorer's input from ``LikeRepo.scoring_input`` columns (copies them: call it off
    the loop for big groups)."""
    table = LikeTable.build(
        likes.column(1, np.int64),
        likes.column(2).tolist(),
        likes.column(3).tolist(),
        likes.column(4, np.float64),
    )
    return table, MemberColumns(members, authors)


class MemberColumns(Mapping[str, MemberSignals]):
    """The members' signals, looked up by id, kept as columns: a ``MemberSignals`` object
    per member of a big group would be tens of thousands of objects for the garbage
    collector to walk, each of its passes holding the loop."""

    def __init__(self, members: Columns, authors: Columns) -> None:
        self._first = members.column(1, np.float64)
        self._other = members.column(2, np.int64)
        self._index = {member: i for i, member in enumerate(members.column(0).tolist())}
        wrote = authors.column(0)[authors.column(1, np.int64) > 0].tolist()
        self._wrote = frozenset(wrote)

    def __getitem__(self, staff: str) -> MemberSignals:
        i = self._index[staff]
        active = bool(self._other[i] > 0) or staff in self._wrote
        return MemberSignals(first_seen=float(self._first[i]), active=active)

    def __contains__(self, staff: object) -> bool:
        return staff in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


@dataclass(slots=True)
class Changes:
    """The likes whose weight or reasons changed, and the stories whose genuine count may
    have changed (a like's weight did: recount them, update their cards), with their number
    of likes, as columns."""

    like_ids: list[int]
    weights: list[float]
    reasons: list[str]
    story_ids: list[int]
    story_likes: list[int]

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
    likes: Columns,
    members: Columns,
    authors: Columns,
    cfg: LikesConfig,
    zone: ZoneInfo,
    settled: float | None,
) -> tuple[Scores, Changes]:
    """Score the likes and find what changed. Pure: runs in a worker thread for big groups."""
    table, signals = scoring_columns(likes, members, authors)
    scores = score(table, signals, cfg, zone, settled)
    ids, old_weight, old_reasons = likes.column(0), likes.column(5, np.float64), likes.column(6)
    masks = np.unique(scores.reasons)
    names = np.array([",".join(reason_names(int(mask))) for mask in masks], object)
    reasons = names[np.searchsorted(masks, scores.reasons)]
    reweighed = np.abs(scores.weight - old_weight) > 1e-9
    order = np.flatnonzero(reweighed | (reasons != old_reasons))
    # Only stories with a changed weight can have a changed genuine count (raw counts and new
    # likes are recounted when a like comes or goes).
    story_ids, counts = np.unique(table.story, return_counts=True)
    touched = np.isin(story_ids, table.story[reweighed])
    changes = Changes(
        ids[order].tolist(),
        scores.weight[order].tolist(),
        reasons[order].tolist(),
        story_ids[touched].tolist(),
        counts[touched].tolist(),
    )
    return scores, changes


def _next_size(size: int, began: float, *, low: int, high: int) -> int:
    """The next step's size, scaled so it takes about ``STEP`` of the loop thread's CPU."""
    spent = max(time.thread_time() - began, 1e-4)
    return max(low, min(high, int(size * STEP / spent)))


def count_fields(likes: int, genuine: float) -> dict[str, str]:
    """A story card's count variables (card values are strings: 创建并投放卡片)."""
    return {"likes": str(likes), "genuine_likes": number(genuine)}


async def rescore(ctx: BaseContext, conversation_id: str) -> Scores:
    """Recompute every like weight of a group from the evidence in the database, never
    holding the event loop for long (see ``THREAD_LIKES``).

    Stories whose genuine count changed get their delivered cards updated, so a card never
    keeps a count the rescoring has overturned.
    """
    likes, members, authors = await ctx.repos.likes.scoring_input(conversation_id)
    started = await ctx.repos.likes.group_started(conversation_id)
    # Everyone already in the group speaks for the first time after the bot joins: a
    # member first seen while the group was new to the bot is not a fresh account.
    settled = (
        started + ctx.settings.likes.fresh_member_hours * 3600 if started is not None else None
    )
    work = (likes, members, authors, ctx.settings.likes, ctx.settings.bot.tz, settled)
    if len(likes) < THREAD_LIKES:
        scores, changes = _score_and_diff(*work)
    else:
        scores, changes = await asyncio.to_thread(_score_and_diff, *work)
    # Scattered updates and sums over a big table cost from 5 to 100 µs a row on SQLite
    # (pages read and spilled): each step is sized from the last one's CPU to about STEP.
    start, size = 0, WRITE_CHUNK
    while start < len(changes.like_ids):
        began = time.thread_time()
        await ctx.repos.likes.save_weights(changes.rows(start, start + size))
        start += size
        size = _next_size(size, began, low=10, high=2000)
        await asyncio.sleep(0)  # the inline SQLite driver never suspends: yield here
    start, budget = 0, RECOUNT_LIKES
    while start < len(changes.story_ids):
        began = time.thread_time()
        stop, summed = start + 1, changes.story_likes[start]
        while stop < len(changes.story_ids) and summed + changes.story_likes[stop] <= budget:
            summed += changes.story_likes[stop]
            stop += 1
        await ctx.repos.likes.recount_stories(changes.story_ids[start:stop])
        start = stop
        budget = _next_size(max(budget, summed), began, low=100, high=100_000)
        await asyncio.sleep(0)
    # Stories whose genuine count changed get their delivered cards updated, so a card
    # never keeps a count the rescoring has overturned.
    for start in range(0, len(changes.story_ids), CARD_STEP):
        chunk = changes.story_ids[start : start + CARD_STEP]
        for story_id, raw, genuine in await ctx.repos.likes.counts(chunk):
            for track in await ctx.repos.cards.track_ids("story", str(story_id)):
                ctx.reply(CardUpdate(out_track_id=track, data=count_fields(raw, genuine)))
        await asyncio.sleep(0)
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
