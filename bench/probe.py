"""A loop-lag probe: the longest piece of work the event loop ran without a break.

A task wakes on a short timer and, at each wake-up, reads two clocks:

* the CPU time of the loop's own thread since the last wake-up (``time.thread_time``): the
  longest such stretch is the longest the loop was held by work, whatever else the machine
  runs (a descheduled process, or a worker thread holding the GIL, spends none of it);
* how late the timer fired (wall clock): what a ping or an ack would have waited, which on
  a busy shared machine is mostly the machine.

The benchmarks report both; the test of the 20 ms limit asserts the first.
"""

from __future__ import annotations

import asyncio
import contextlib
import time


class LoopProbe:
    """Wakes every ``period`` seconds; ``longest_cpu``, ``longest_late`` and ``over_20ms``.

    ``period=0`` wakes at every turn of the loop (``asyncio.sleep(0)``): the stretch is then
    one turn's work, not the two or three steps of a task that fit between timer wake-ups;
    it keeps the loop busy, so it is for tests, not for long benchmarks.
    """

    def __init__(self, period: float = 0.001) -> None:
        self.period = period
        self.longest_cpu = 0.0  # seconds of the loop thread's CPU between two wake-ups
        self.longest_late = 0.0  # seconds the timer fired late (wall clock)
        self.over_20ms = 0  # stretches of more than 20 ms of CPU
        self._running = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> LoopProbe:
        """Start probing; returns once the probe has taken its first reading (a probe task
        that first runs after the work measured would measure nothing)."""
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._running.wait(), timeout=10)
        return self

    async def stop(self) -> None:
        """Stop probing (the figures stay)."""
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def __aenter__(self) -> LoopProbe:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        cpu = time.thread_time()
        self._running.set()
        while True:
            woke = loop.time()
            await asyncio.sleep(self.period)
            now_cpu = time.thread_time()
            stretch = now_cpu - cpu
            cpu = now_cpu
            self.longest_cpu = max(self.longest_cpu, stretch)
            self.longest_late = max(self.longest_late, loop.time() - woke - self.period)
            self.over_20ms += stretch > 0.020
