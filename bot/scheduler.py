"""A small job queue over APScheduler 3: stable ids, the handlers' context, one error path.

Jobs run on APScheduler's real-time triggers, but what a job does is decided by the
application clock inside the job (``ctx.now``), so tests move the clock and call
``run_job`` instead of sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import metrics
from bot.context import JobContext
from bot.errors import Failure, FailureSink, ignore_failure
from bot.outbox import write_replies
from storage.models import OutboxMessage

if TYPE_CHECKING:
    from bot.app import Application

log = logging.getLogger(__name__)

JobCallback = Callable[[JobContext], Awaitable[None]]

WATCH_SECONDS = 5.0
# A job that has not started for this many of its intervals (plus a minute's slack for a
# busy machine) means the scheduler has stopped firing.
STALE_INTERVALS = 3


@dataclass(slots=True)
class Job:
    """A registered job."""

    id: str
    callback: JobCallback
    interval: float


DRAIN_SECONDS = 10.0  # how long stopping waits for a running job before cancelling it


class JobQueue:
    """Repeating jobs that get a ``JobContext`` inside a unit of work, like handlers do."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.jobs: dict[str, Job] = {}
        self.on_failure: FailureSink = ignore_failure  # a job that failed (bot.alerts)
        self._scheduler: AsyncIOScheduler | None = None
        self._last_start: dict[str, float] = {}
        self._running: set[str] = set()
        self._tasks: set[asyncio.Task[object]] = set()
        self._cancelled_at_stop = False  # drain() cancelled the jobs still running

    def run_repeating(self, job_id: str, callback: JobCallback, *, interval: float) -> None:
        """Run ``callback`` every ``interval`` seconds (and on demand with ``run_job``)."""
        if job_id in self.jobs:
            raise ValueError(f"job {job_id!r} registered twice")
        self.jobs[job_id] = Job(job_id, callback, interval)
        if self._scheduler is not None:
            self._add(self.jobs[job_id])

    def start(self) -> None:
        """Start the APScheduler loop with every registered job."""
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        for job in self.jobs.values():
            self._add(job)
        self._scheduler.start()

    async def run(self) -> None:
        """Run the scheduler and watch it, for a supervisor: raises when it stopped firing."""
        self.start()
        started = time.monotonic()
        try:
            while True:
                await asyncio.sleep(WATCH_SECONDS)
                if self._scheduler is None or not self._scheduler.running:
                    raise RuntimeError("the job scheduler is not running")
                now = time.monotonic()
                for job in self.jobs.values():
                    last = max(self._last_start.get(job.id, started), started)
                    if job.id not in self._running and (
                        now - last > STALE_INTERVALS * job.interval + 60
                    ):
                        raise RuntimeError(f"job {job.id} has not run for {now - last:.0f}s")
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        """Stop scheduling (a running job goes on: ``drain`` waits for it)."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None

    def _add(self, job: Job) -> None:
        assert self._scheduler is not None
        self._scheduler.add_job(
            self._fire,
            "interval",
            seconds=job.interval,
            args=[job.id],
            id=job.id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            # Run once at start-up too: what fell due while the bot was down goes out now.
            next_run_time=datetime.now(UTC),
        )

    async def _fire(self, job_id: str) -> None:
        """APScheduler's turn of a job: starts it in a task of this queue's and returns.
        APScheduler's asyncio executor cancels the tasks it runs when it shuts down
        (``AsyncIOExecutor.shutdown``), which would cut a running job short at every stop;
        a task of ours is waited for by ``drain``."""
        if job_id in self._running:
            return  # still running from an earlier turn: one at a time, as before
        task = asyncio.create_task(self.run_job(job_id), name=f"job:{job_id}")
        self._tasks.add(task)  # from now: ``drain`` waits for it even before it starts
        task.add_done_callback(self._tasks.discard)

    async def run_job(self, job_id: str) -> bool:
        """Run a job now in its own unit of work; errors are logged, never raised."""
        job = self.jobs[job_id]
        app = self.app
        self._last_start[job_id] = time.monotonic()
        self._running.add(job_id)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            return await self._run_job(job, app)
        except asyncio.CancelledError:
            if not self._cancelled_at_stop:
                raise
            # Cancelled by ``drain``: its unit of work was rolled back. Said once, as a
            # warning: the executor would log the cancellation as an error with a traceback.
            log.warning(
                "job %s was still running at shutdown and was stopped; nothing of it was "
                "kept, and it runs again after the next start",
                job_id,
            )
            return False
        finally:
            self._running.discard(job_id)
            if task is not None:
                self._tasks.discard(task)

    async def drain(self) -> None:
        """Wait for running jobs (cancelled after ``DRAIN_SECONDS``) so nothing is still in a
        unit of work when the database is disposed: an aiosqlite connection closed under a
        running job leaves the job's clean-up awaiting a thread that is gone."""
        others = {t for t in self._tasks if t is not asyncio.current_task()}
        if not others:
            return
        _, pending = await asyncio.wait(others, timeout=DRAIN_SECONDS)
        self._cancelled_at_stop = bool(pending)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=DRAIN_SECONDS)

    async def _run_job(self, job: Job, app: Application) -> bool:
        job_id = job.id
        key = f"job:{job_id}:{app.clock.now().isoformat()}"
        try:
            with metrics.timed(metrics.JOB_LATENCY, job_id):
                rows = await self._run_in_transaction(job, key)
        except Exception as exc:
            log.exception("job %s failed", job_id)
            self.on_failure(Failure("job", job_id, exc, key=key, detail=type(exc).__name__))
            return False
        if rows:
            app.sender.hand_over(rows)
        return True

    async def _run_in_transaction(self, job: Job, key: str) -> list[OutboxMessage]:
        return await in_own_unit(self.app, job.id, key, job.callback)


async def in_own_unit(
    app: Application, job_id: str, key: str, work: JobCallback
) -> list[OutboxMessage]:
    """Run ``work`` with a ``JobContext`` in a unit of work of its own; its replies go to the
    outbox in the same transaction. The rows written, for the sender (``hand_over``): the
    one way a job, or anything else the bot does on its own (alerts), speaks."""
    async with app.db.transaction() as session:
        ctx = JobContext.create(
            settings=app.settings,
            clock=app.clock,
            session=session,
            commands=app.commands,
            job_id=job_id,
            key=key,
        )
        await work(ctx)
        return await write_replies(ctx)
