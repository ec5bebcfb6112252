"""Group commit: concurrent callers share one transaction instead of queueing for the lock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


async def one_turn() -> None:
    """Let everything the loop has ready run before going on: sockets with data, timers due.

    One ``asyncio.sleep(0)`` is not enough: the task is then first in the loop's next turn,
    ahead of the sockets and timers that became ready while it ran (asyncio puts what was
    scheduled before those). After a second one, they have all had their turn.
    """
    await asyncio.sleep(0)
    await asyncio.sleep(0)


class GroupCommit(Generic[Item, Result]):
    """Items submitted while a flush is under way wait for the next one, which takes them all.

    ``flush`` gets a batch and returns one result per item, in order. An idle system flushes
    at once (after letting items that arrived in the same read join), a busy one in batches.
    The flushing runs in a task of its own, so each caller resumes as soon as its own batch
    is done, in submission order, not when the whole burst is.
    """

    def __init__(
        self, flush: Callable[[list[Item]], Awaitable[Sequence[Result]]], *, max_batch: int = 256
    ) -> None:
        self._flush = flush
        self._max_batch = max_batch
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._flushing: list[tuple[Item, asyncio.Future[Result]]] = []  # the batch in hand
        self._flusher: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        """Whether items wait for a flush or a flush is under way."""
        return self._flusher is not None

    async def caught_up(self) -> None:
        """Wait until every item submitted so far has its result (or its failure): batches
        are flushed in submission order, so the last one's future says it. Items submitted
        meanwhile are not waited for, so a steady stream cannot keep the caller out."""
        waiting = self._pending or self._flushing
        if waiting:
            await asyncio.wait([waiting[-1][1]])

    async def submit(self, item: Item) -> Result:
        """Add ``item`` to the next batch and wait for its result."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_pending())
        return await future

    async def _flush_pending(self) -> None:
        try:
            # No wait to gather: this task first runs in the loop's turn after the one that
            # submitted, so items that arrived in the same read from the socket are here
            # already, and each turn of waiting would add a message's handling to every ack.
            first = True
            while self._pending:
                if not first:
                    # A flush on SQLite runs inline: between two batches of a burst, let
                    # the loop answer (pings, the acks of the batch just recorded).
                    await one_turn()
                first = False
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                self._flushing = batch
                await self._run(batch)
        finally:
            self._flusher = None
            self._flushing = []
            for _, future in self._pending:  # only if cancelled: nobody waits forever
                if not future.done():
                    future.cancel()
            self._pending.clear()

    async def _run(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._flush([item for item, _ in batch])
        except BaseException as exc:
            for _, future in batch:
                if not future.done():
                    if isinstance(exc, Exception):
                        future.set_exception(exc)
                    else:
                        future.cancel()
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
