"""The honest-likes re-scoring of a large group: in a worker process, never holding the event
loop, with exact counts, and without losing a like that lands while it runs (issue 15)."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

import domain.likes
from bench.probe import LoopProbe
from bot.cli import settle_heap
from bot.sandbox.standin import StandIn
from storage.models import GroupSettings, Like, Story
from storage.repositories import GroupSettingsRepo
from storage.stories import LikeRepo
from tests.conftest import BotFactory

GROUP = "cid-group-1"
LIMIT = 0.020  # seconds: "never block the event loop for more than 20 ms" (TEAM.md)
STORIES = 200
LIKERS = 1000
POPULAR = 100_000  # one story's likes: summing them in SQL is one long statement
START = datetime(2026, 1, 5, 9, tzinfo=UTC)


async def _story_and_like(standin: StandIn) -> None:
    """The group and its members exist the ordinary way: a story, then a like (dirty)."""
    await standin.say("/故事 第一天 | 同事们帮我搬了家", sender="alice")
    await standin.wait_sent(2)
    await standin.say("/赞 1", sender="bob")
    await standin.wait_sent(3)


async def _big_history(app: Any) -> list[int]:
    """300,000 likes written straight to the database (the set-up, not the work measured):
    likes within minutes of each other everywhere (bursts), from members who do nothing
    else (like-only), and one story with 100,000 of them."""
    async with app.db.transaction() as session:
        result = await session.execute(
            insert(Story).returning(Story.id),
            [
                {
                    "conversation_id": GROUP,
                    "author_staff_id": f"author{s}",
                    "title": f"故事{s}",
                    "body": "正文",
                    "status": "approved",
                    "created_at": START,
                    "decided_at": START,
                }
                for s in range(STORIES)
            ],
        )
        story_ids = list(result.scalars())
        rows = [
            {
                "story_id": story_id,
                "conversation_id": GROUP,
                "staff_id": f"m{m}",
                "created_at": START + timedelta(seconds=s * 7 + m * 0.05),
                "weight": 1.0,
                "reasons": "",
            }
            for s, story_id in enumerate(story_ids[1:], start=1)
            for m in range(LIKERS)
        ]
        rows += [
            {
                "story_id": story_ids[0],
                "conversation_id": GROUP,
                "staff_id": f"p{m}",
                "created_at": START + timedelta(seconds=m * 0.5),
                "weight": 1.0,
                "reasons": "",
            }
            for m in range(POPULAR)
        ]
        for start in range(0, len(rows), 20_000):
            await session.execute(insert(Like), rows[start : start + 20_000])
    return story_ids


async def test_rescoring_a_large_group_never_holds_the_loop(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot(stories={"review_default": False})
    await _story_and_like(standin)
    story_ids = await _big_history(app)
    # As ``community-bot run`` does after start-up (bot.cli.settle_heap): the objects alive
    # now are out of the garbage collector's sight (pytest's own would make its passes long).
    settle_heap()
    try:
        async with LoopProbe(period=0) as probe:
            assert await app.jobs.run_job("likes-rescore")
    finally:
        gc.unfreeze()

    async with app.db.transaction() as session:
        discounted = (
            await session.execute(select(func.count(Like.id)).where(Like.weight < 1.0))
        ).scalar_one()
        counts = (
            await session.execute(
                select(Story.id, Story.likes, Story.genuine_likes).where(Story.id.in_(story_ids))
            )
        ).all()
        sums = dict(
            (
                await session.execute(
                    select(Like.story_id, func.sum(Like.weight)).group_by(Like.story_id)
                )
            ).all()
        )
        dirty = await GroupSettingsRepo(session).is_dirty(GROUP)
    assert discounted > (STORIES - 1) * LIKERS // 2  # the work was real
    for story_id, likes, genuine in counts:
        assert likes == (POPULAR if story_id == story_ids[0] else LIKERS)
        assert abs(genuine - sums[story_id]) < 1e-6
    assert not dirty
    print(f"\nLONGEST {probe.longest_cpu * 1000:.1f} ms")
    assert probe.longest_cpu < LIMIT, (
        f"the loop ran {probe.longest_cpu * 1000:.1f} ms of CPU without a break "
        f"(the timer fired up to {probe.longest_late * 1000:.1f} ms late)"
    )


# Several processes (or connections of one) write likes at once only on PostgreSQL: on
# SQLite the re-scoring holds the only write lock from before its read to its commit.
@pytest.mark.backends("postgresql")
async def test_a_like_given_while_its_group_is_rescored_is_scored_next_time(
    standin: StandIn, start_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The re-scoring reads the likes, then writes; a like committed in between was not
    read. Clearing the dirty flag at the end lost it from the scores for good (its weight
    stayed 1 however brushed it was): the group must stay dirty and the next run score it."""
    app = await start_bot(stories={"review_default": False}, likes={"rescore_seconds": 3600})
    await _story_and_like(standin)
    async with app.db.transaction() as session:
        await session.execute(
            insert(Like),
            [
                {
                    "story_id": 1,
                    "conversation_id": GROUP,
                    "staff_id": f"fresh{m}",
                    "created_at": START + timedelta(seconds=m),
                    "weight": 1.0,
                    "reasons": "",
                }
                for m in range(9)
            ],
        )
    run = domain.likes.WORKER.run
    late: list[int] = []

    async def like_lands_meanwhile(conversation_id: str, ctx: Any) -> Any:
        outcome = await run(conversation_id, ctx)  # the worker has read the likes
        if not late:
            # Another member's like, committed now, as the /赞 handler commits it.
            async with app.db.transaction() as session:
                story = await session.get(Story, 1)
                assert story is not None
                await LikeRepo(session).add(story, "fresh9", START + timedelta(seconds=9))
                await GroupSettingsRepo(session).mark_likes_dirty(GROUP, review_default=False)
                late.append(1)
        return outcome

    monkeypatch.setattr(domain.likes.WORKER, "run", like_lands_meanwhile)
    assert await app.jobs.run_job("likes-rescore")
    assert late

    async def state() -> tuple[bool, dict[str, float]]:
        async with app.db.transaction() as session:
            dirty = (
                await session.execute(
                    select(GroupSettings.likes_dirty).where(GroupSettings.conversation_id == GROUP)
                )
            ).scalar_one()
            weights = dict(
                (
                    await session.execute(
                        select(Like.staff_id, Like.weight).where(Like.story_id == 1)
                    )
                ).all()
            )
        return dirty, weights

    dirty, weights = await state()
    assert dirty, "the like that came during the re-scoring was forgotten"
    assert weights["fresh0"] < 1.0 and weights["fresh9"] == 1.0  # not scored yet
    assert await app.jobs.run_job("likes-rescore")
    dirty, weights = await state()
    assert not dirty
    assert weights["fresh9"] == weights["fresh0"] < 1.0  # the burst's tenth like, scored


async def test_a_like_starts_the_worker_so_the_board_does_not_wait_for_it(
    standin: StandIn, start_bot: BotFactory
) -> None:
    # A cold worker takes 1-3 s to start; a /故事榜 right after likes re-scores, and on
    # SQLite its transaction holds the only write lock meanwhile, so every push waits too.
    domain.likes.WORKER.stop()
    await start_bot(stories={"review_default": False})
    await standin.say("/故事 第一天 | 同事们帮我搬了家", sender="alice")
    await standin.wait_sent(2)
    assert not domain.likes.WORKER.running
    await standin.say("/赞 1", sender="bob")
    await standin.wait_sent(3)
    assert domain.likes.WORKER.running
