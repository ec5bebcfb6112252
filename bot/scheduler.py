"""A small job queue over APScheduler 3: stable ids, the handlers' context, one error path.

Jobs run on APScheduler's real-time triggers, but what a job does is decided by the
application clock inside the job (``ctx.now``), so tests move the clock and call
``run_job`` instead of sleeping.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import metrics
from bot.context import Context
from bot.outbox import write_replies
from storage.models import OutboxMessage

if TYPE_CHECKING:
    from bot.app import Application

log = logging.getLogger(__name__)

JobCallback = Callable[[Context], Awaitable[None]]


@dataclass(slots=True)
class Job:
    """A registered job."""

    id: str
    callback: JobCallback
    interval: float


class JobQueue:
    """Repeating jobs that get a ``Context`` inside a unit of work, like handlers do."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.jobs: dict[str, Job] = {}
        self._scheduler: AsyncIOScheduler | None = None

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

    def shutdown(self) -> None:
        """Stop scheduling (a running job finishes)."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None

    def _add(self, job: Job) -> None:
        assert self._scheduler is not None
        self._scheduler.add_job(
            self.run_job,
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

    async def run_job(self, job_id: str) -> bool:
        """Run a job now in its own unit of work; errors are logged, never raised."""
        job = self.jobs[job_id]
        app = self.app
        key = f"job:{job_id}:{app.clock.now().isoformat()}"
        try:
            with metrics.timed(metrics.JOB_LATENCY, job_id):
                rows = await self._run_in_transaction(job, key)
        except Exception:
            log.exception("job %s failed", job_id)
            return False
        if rows:
            app.sender.hand_over(rows)
        return True

    async def _run_in_transaction(self, job: Job, key: str) -> list[OutboxMessage]:
        app = self.app
        async with app.db.transaction() as session:
            ctx = Context.from_job(
                settings=app.settings,
                clock=app.clock,
                session=session,
                commands=app.commands,
                job_id=job.id,
                key=key,
            )
            await job.callback(ctx)
            return await write_replies(ctx)
