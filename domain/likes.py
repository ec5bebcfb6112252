"""Honest likes kept up to date, and their evidence in plain words (shared with the digest)."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bot import people
from bot.context import BaseContext
from bot.i18n import Text, number
from bot.replies import CardUpdate
from domain.likes_outcome import Evidence, Outcome, in_worker, warm_up

# No piece of work may hold the event loop for more than 20 ms. Re-scoring a group reads
# every like, scores them and compares the weights: at a million likes that is tens of
# millions of Python objects, and the garbage collector's full passes over them held the
# loop 50-130 ms each (a thread does not help: the GIL). So that part runs in a worker
# process (``domain.likes_worker``, over its own database connection), which answers only
# what changed; the loop writes it in steps sized to about STEP of its thread's CPU,
# yielding between them. numpy is imported in the worker only.
STEP = 0.003  # seconds of the loop thread's CPU a write step aims at
WRITE_CHUNK = 50  # changed weights the first write step writes (then sized by time)
COUNT_CHUNK = 50  # story counts the first count step writes (then sized by time)
CARD_STEP = 5  # stories whose cards the first card step updates (then sized by time)
# The worker process is started on the first re-scoring and stops after this long without
# one (it holds 60-70 MB while it lives, far more while it scores a big group); the job
# runs every ``likes.rescore_seconds`` (30 s) while groups get likes, so it stays warm then.
IDLE_SECONDS = 300.0


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


class _Worker:
    """One worker process for the re-scoring, started when needed ("spawn": a fork of a
    process running an event loop and threads could inherit held locks) and stopped after
    ``IDLE_SECONDS`` without work (a timer thread: the pool is not tied to one loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._busy = 0
        self._timer: threading.Timer | None = None

    async def run(self, conversation_id: str, ctx: BaseContext) -> Outcome:
        with self._lock:
            pool = self._pool_locked()
            self._busy += 1
            self._stop_clock_locked()
        try:
            return await asyncio.get_running_loop().run_in_executor(
                pool,
                in_worker,
                ctx.settings.storage.url,
                conversation_id,
                ctx.settings.likes,
                ctx.settings.bot.tz,
            )
        except BrokenProcessPool:
            with self._lock:  # the worker died (killed, out of memory): start afresh next time
                if self._pool is pool:
                    self._pool = None
            raise
        finally:
            with self._lock:
                self._busy -= 1
                if self._busy == 0 and self._pool is not None:
                    self._start_clock_locked()

    def _pool_locked(self) -> ProcessPoolExecutor:
        """The pool, created if there is none (``_lock`` held)."""
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
        return self._pool

    def _stop_clock_locked(self) -> None:
        """Stop the idle clock, if it runs (``_lock`` held)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _start_clock_locked(self) -> None:
        """Start the idle clock afresh: the worker retires ``IDLE_SECONDS`` from now unless
        it is used again (``_lock`` held)."""
        self._stop_clock_locked()
        self._timer = threading.Timer(IDLE_SECONDS, self._retire)
        self._timer.daemon = True
        self._timer.start()

    @property
    def running(self) -> bool:
        """Whether the worker process has been started and not retired."""
        return self._pool is not None

    def warm(self) -> None:
        """Start the worker process now, without waiting for it, if it is not running: a like
        was given, so a ``/故事榜`` that re-scores may follow. A cold start takes 1-3 s (a
        new interpreter importing numpy and SQLAlchemy); a member's ``/故事榜`` should not
        wait for that, nor, on SQLite, every push behind its transaction's write lock."""
        with self._lock:
            if self._pool is None:
                # Starts the process and its imports; the answer is not awaited.
                self._pool_locked().submit(warm_up)
            if self._busy == 0:  # the idle clock starts again from this like
                self._start_clock_locked()

    def _retire(self) -> None:
        with self._lock:
            pool = self._pool if self._busy == 0 else None
            if pool is not None:
                self._pool = None
        if pool is not None:
            pool.shutdown(wait=True)

    def stop(self) -> None:
        """Stop the worker process now (it is started again when needed)."""
        with self._lock:
            self._stop_clock_locked()
        self._retire()


WORKER = _Worker()


def _next_size(size: int, began: float, *, low: int, high: int) -> int:
    """The next step's size, scaled so it takes about ``STEP`` of the loop thread's CPU."""
    spent = max(time.thread_time() - began, 1e-4)
    return max(low, min(high, int(size * STEP / spent)))


def count_fields(likes: int, genuine: float) -> dict[str, str]:
    """A story card's count variables (card values are strings: 创建并投放卡片)."""
    return {"likes": str(likes), "genuine_likes": number(genuine)}


async def rescore(ctx: BaseContext, conversation_id: str) -> Evidence:
    """Recompute every like weight of a group from the evidence in the database, never
    holding the event loop for long (see ``STEP``): the worker process reads and scores, the
    loop writes what changed in steps.

    Stories whose genuine count changed get their delivered cards updated, so a card never
    keeps a count the rescoring has overturned. The group stays dirty if its like evidence
    changed while it was re-scored (the version the worker read is not the current one).
    """
    # Begin the transaction now (SQLite: BEGIN IMMEDIATE, its only write lock): no like can
    # come or go between the worker's read and this transaction's commit, so the story
    # counts the worker computed are exact there (``LikeRepo.settle_counts``).
    await ctx.session.connection()
    outcome = await WORKER.run(conversation_id, ctx)
    # Scattered updates cost from 5 to 100 µs a row on SQLite (pages read and spilled):
    # each step is sized from the last one's CPU to about STEP.
    start, size = 0, WRITE_CHUNK
    while start < len(outcome.like_ids):
        began = time.thread_time()
        await ctx.repos.likes.save_weights(outcome.weight_rows(start, start + size))
        start += size
        size = _next_size(size, began, low=10, high=2000)
        await asyncio.sleep(0)  # the inline SQLite driver never suspends: yield here
    start, size = 0, COUNT_CHUNK
    stories = outcome.story_ids
    while start < len(stories):
        began = time.thread_time()
        stop = start + size
        await ctx.repos.likes.settle_counts(
            stories[start:stop].tolist(),
            outcome.story_likes[start:stop].tolist(),
            outcome.story_genuine[start:stop].tolist(),
        )
        start = stop
        size = _next_size(size, began, low=1, high=2000)
        await asyncio.sleep(0)
    # Stories whose genuine count changed get their delivered cards updated, so a card
    # never keeps a count the rescoring has overturned.
    # A card lookup is a statement per story (0.1-1 ms): steps sized by time too (20
    # stories a step held the loop 25 ms on a busy machine).
    start, size = 0, CARD_STEP
    while start < len(stories):
        began = time.thread_time()
        chunk = stories[start : start + size].tolist()
        for story_id, raw, genuine in await ctx.repos.likes.counts(chunk):
            for track in await ctx.repos.cards.track_ids("story", str(story_id)):
                ctx.reply(CardUpdate(out_track_id=track, data=count_fields(raw, genuine)))
        start += size
        size = _next_size(size, began, low=1, high=200)
        await asyncio.sleep(0)
    await ctx.repos.groups.clear_dirty(conversation_id, outcome.version)
    return outcome.evidence


async def rescore_if_dirty(ctx: BaseContext, conversation_id: str) -> bool:
    """Bring a group's weights up to date before showing counts (cheap when they are);
    whether they were re-scored."""
    group = await ctx.repos.groups.get(
        conversation_id, review_default=ctx.settings.stories.review_default
    )
    if not group.likes_dirty:
        return False
    await rescore(ctx, conversation_id)
    return True


async def describe(ctx: BaseContext, scores: Evidence, conversation_id: str) -> str:
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
