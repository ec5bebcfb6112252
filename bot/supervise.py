"""Supervision of the process's long-running tasks (stream, workers, sender, scheduler).

Each of them is meant to run until the process stops. One that ends anyway, by an exception
or by returning, is logged with its traceback and started again after a capped backoff, so
a bot never looks alive while one of its parts is doing nothing. Should the supervision
itself fail, ``failed`` is set and the application exits non-zero.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.backoff import jittered

log = logging.getLogger(__name__)

# A task that ran this long before failing starts its backoff from the beginning again.
HEALTHY_SECONDS = 60.0


class Supervisor:
    """Keeps named coroutines running; restarts them when they end."""

    def __init__(self, *, backoff_initial: float = 0.5, backoff_max: float = 30.0) -> None:
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.failed = asyncio.Event()
        self.restarts: dict[str, int] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stopping = False

    def spawn(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        """Run ``run()`` as the task ``name`` and restart it whenever it ends."""
        if name in self._tasks:
            raise ValueError(f"task {name!r} is already supervised")
        self.restarts[name] = 0
        task = asyncio.create_task(self._keep(name, run), name=name)
        task.add_done_callback(self._ended)
        self._tasks[name] = task

    async def _keep(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        loop = asyncio.get_running_loop()
        failures = 0
        while True:
            started = loop.time()
            try:
                await run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("task %s crashed; restarting it", name)
            else:
                log.error("task %s returned although it should run forever; restarting it", name)
            failures = 1 if loop.time() - started > HEALTHY_SECONDS else failures + 1
            self.restarts[name] += 1
            await asyncio.sleep(
                jittered(failures, initial=self.backoff_initial, cap=self.backoff_max)
            )

    def _ended(self, task: asyncio.Task[None]) -> None:
        if self._stopping or task.cancelled():
            return
        # Only a BaseException (SystemExit, KeyboardInterrupt, …) gets past ``_keep``.
        log.critical("supervised task %s ended: %r; stopping", task.get_name(), task.exception())
        self.failed.set()

    async def cancel(self, name: str) -> None:
        """Stop one task for good (a shutdown closes the stream before anything else)."""
        task = self._tasks.pop(name, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def stop(self) -> None:
        """Cancel every task and wait for them."""
        self._stopping = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
