"""Group commit: concurrent callers share one transaction instead of queueing for the lock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    """The first caller flushes everything submitted while it waited; the others just wait.

    ``flush`` gets a batch and returns one result per item, in order. No background task and
    no timer: an idle system flushes at once, a busy one in batches.
    """

    def __init__(
        self, flush: Callable[[list[Item]], Awaitable[Sequence[Result]]], *, max_batch: int = 256
    ) -> None:
        self._flush = flush
        self._max_batch = max_batch
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._flushing = False

    async def submit(self, item: Item) -> Result:
        """Add ``item`` to the next batch and wait for its result."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if not self._flushing:
            self._flushing = True
            try:
                # Let items that arrived in the same read from the socket join this batch.
                await asyncio.sleep(0)
                while self._pending:
                    batch = self._pending[: self._max_batch]
                    del self._pending[: self._max_batch]
                    await self._run(batch)
            finally:
                self._flushing = False
        return await future

    async def _run(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._flush([item for item, _ in batch])
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
