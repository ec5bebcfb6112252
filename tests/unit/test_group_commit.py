"""The recorder's group commit (``bot.batching.GroupCommit``) and the loop.

Every push is acked only once recorded (TEAM.md: record before ack), so each turn of the
loop between a push and its record is a turn in which the dispatcher may handle a whole
message first: the flush starts in the turn right after the submit. A burst is recorded in
batches with a turn of the loop between two, so a burst of hundreds of pushes (the mix
benchmark pushes them as fast as they are acked) does not hold the loop for all of them at
once (a 256-push batch held it 10 ms; with the frames' own work, over 20 ms).
"""

from __future__ import annotations

import asyncio

from bot.batching import GroupCommit
from bot.inbox import RECORD_BATCH


async def test_a_flush_starts_in_the_turn_after_the_submit() -> None:
    flushed: list[list[int]] = []

    async def flush(items: list[int]) -> list[int]:
        flushed.append(items)
        return items

    commit: GroupCommit[int, int] = GroupCommit(flush)
    loop = asyncio.get_running_loop()
    # Both submitted in this turn: they share the batch.
    first = loop.create_task(commit.submit(1))
    second = loop.create_task(commit.submit(2))
    await asyncio.sleep(0)  # turn 1: the submits run and start the flusher
    assert flushed == []
    await asyncio.sleep(0)  # turn 2: the flusher flushes at once
    assert flushed == [[1, 2]]
    assert await first == 1 and await second == 2


async def test_a_burst_is_flushed_in_batches_with_a_turn_of_the_loop_between() -> None:
    loop = asyncio.get_running_loop()
    ran: list[str] = []
    seen: list[list[str]] = []

    async def flush(items: list[int]) -> list[int]:
        seen.append(list(ran))
        # Something the loop must run soon (a ping, a timer, an ack) becomes due now.
        loop.call_later(0, ran.append, f"after {len(seen)}")
        return items

    commit: GroupCommit[int, int] = GroupCommit(flush, max_batch=RECORD_BATCH)
    results = await asyncio.gather(*(commit.submit(i) for i in range(2 * RECORD_BATCH + 1)))
    assert results == list(range(2 * RECORD_BATCH + 1))
    # Three batches; before each of the later ones, what came due during the one before ran.
    assert seen == [[], ["after 1"], ["after 1", "after 2"]]


def test_pushes_are_recorded_in_batches_of_at_most_64() -> None:
    assert RECORD_BATCH <= 64
