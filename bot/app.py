"""The application: storage, router, dispatcher, sender, scheduler and the stream edge."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Sequence
from datetime import timedelta

from bot import metrics
from bot.alerts import FLUSH_JOB, ErrorPath
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import Context
from bot.dispatch import Dispatcher
from bot.http import make_client
from bot.openapi import OpenAPI
from bot.ops import OpsServer, Probes
from bot.router import CommandTable, Router
from bot.scheduler import JobQueue
from bot.sender import Sender
from bot.stream import StreamEdge
from bot.supervise import Supervisor
from storage.db import INBOX_CHANNEL, OUTBOX_CHANNEL, Database
from storage.repositories import InboxRepo

log = logging.getLogger(__name__)

SWEEP_SECONDS = 5.0
ALERT_FLUSH_SECONDS = 60.0  # how often repeated failures are summed up for the operators
BATCH = 64  # pushes handled in one transaction when they queue up


class Application:
    """Everything one bot process runs; ``start`` / ``stop`` or ``run_forever``."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        routers: Sequence[Router] | None = None,
    ) -> None:
        from handlers import default_routers

        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.db = Database(
            settings.storage.url,
            pool_size=settings.storage.pool_size,
            max_overflow=settings.storage.max_overflow,
        )
        root = Router("root")
        for router in routers if routers is not None else default_routers():
            root.include_router(router)
        self.commands = CommandTable(root)
        # One HTTP client for every outbound call (OpenAPI, webhooks, connections/open).
        self.http = make_client(settings)
        self.api = OpenAPI(settings, client=self.http)
        self.sender = Sender(settings, self.db, self.api, clock=self.clock)
        self.dispatcher = Dispatcher(
            settings=settings,
            clock=self.clock,
            db=self.db,
            commands=self.commands,
            on_outbox=self.sender.hand_over,
        )
        self.jobs = JobQueue(self)
        # One error path: handler, click, job and delivery failures are logged, counted and
        # told to the operators (``self.errors.add_error_handler`` adds handlers of your own).
        self.errors = ErrorPath(self)
        self.dispatcher.on_failure = self.errors.report
        self.sender.on_failure = self.errors.report
        self.jobs.on_failure = self.errors.report
        self.jobs.run_repeating(FLUSH_JOB, self.errors.flush, interval=ALERT_FLUSH_SECONDS)
        self.jobs.run_repeating("inbox-retention", self._purge_inbox, interval=3600)
        self.jobs.run_repeating("inbox-sweep", self._sweep_inbox, interval=SWEEP_SECONDS)
        for job in root.all_jobs():
            self.jobs.run_repeating(job.id, job.callback, interval=job.every(settings))
        self.queue: asyncio.Queue[int] = asyncio.Queue()
        self.edge = StreamEdge(
            settings,
            record=self.dispatcher.record,
            recorded=self.queue.put_nowait,
            click=self.dispatcher.click,
            http=self.http,
        )
        self.supervisor = Supervisor(
            backoff_initial=settings.stream.backoff_initial, backoff_max=settings.stream.backoff_max
        )
        self.ops = OpsServer(
            settings,
            self.db,
            Probes(stream_connected=self.edge.connected.is_set, stream_ping=self.edge.ping),
        )
        self._stopped = asyncio.Event()
        self._in_hand: set[asyncio.Future[None]] = set()
        self._sweeping: asyncio.Task[None] | None = None

    async def start(self, *, connect: bool = True) -> None:
        """Migrate, recover unprocessed pushes, start workers, sender, jobs and the stream."""
        await self.ops.start()
        self.supervisor.spawn("loop-lag", metrics.watch_loop_lag)
        await self.db.migrate()
        async with self.db.transaction() as session:
            await self._sweep_ids(InboxRepo(session))
        # Every long-running part is supervised: one that crashes is logged with its
        # traceback and restarted, so the process never looks alive while doing nothing.
        for n in range(self.settings.bot.workers):
            self.supervisor.spawn(f"worker-{n}", self._worker)
        if self.settings.sender.enabled:
            self.supervisor.spawn("sender", self.sender.run)
        if not self.db.is_sqlite:
            # Another process that leaves work (outbox rows nobody holds, pushes recorded but
            # not handled) says so; this one takes it at once instead of at its next poll.
            handlers = {OUTBOX_CHANNEL: self.sender.wake, INBOX_CHANNEL: self._sweep_soon}
            self.supervisor.spawn("listen", lambda: self.db.listen(handlers))
        self.supervisor.spawn("scheduler", self.jobs.run)
        if connect:
            self.supervisor.spawn("stream", self.edge.run)
        _freeze_startup_objects()
        log.info("bot started (%d commands)", len(self.commands.routes))

    async def stop(self, *, grace: float | None = None) -> None:
        """Stop: close the stream so DingTalk pushes elsewhere or later, finish the message
        batches and the sends in hand, commit sent-marks, then close everything. After
        ``grace`` seconds (``ops.shutdown_timeout``) what is still in hand is cut off; recorded
        pushes and unsent replies stay in the database for the next start."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.settings.ops.shutdown_timeout if grace is None else grace)
        self.jobs.shutdown()
        await self.supervisor.cancel("stream")  # no new pushes from here on
        await self.edge.aclose()  # frames in hand are recorded (their acks may not get out)
        self.sender.stopping = True
        await self.supervisor.stop()  # idle workers stop; batches in hand go on (shielded)
        try:
            async with asyncio.timeout(max(0.0, deadline - loop.time())):
                if self._in_hand:
                    await asyncio.gather(*self._in_hand, return_exceptions=True)
                await self.sender.finish()
                await self.errors.drain()
        except TimeoutError:
            log.warning("shutdown timeout: stopping with work in hand (redone on the next start)")
            for batch in self._in_hand:
                batch.cancel()
        if self._sweeping is not None:
            self._sweeping.cancel()
        if not self.queue.empty() and not self.db.is_sqlite:
            # Pushes recorded (and acked) but not handled here: the other processes take
            # them now rather than at their next sweep.
            with contextlib.suppress(Exception):
                await self.db.notify(INBOX_CHANNEL)
        # A job still running finishes (or is cancelled) before the database closes: a
        # connection closed under a unit of work can hang its clean-up.
        await self.jobs.drain()
        await self.sender.stop()
        await self.ops.stop()
        await self.api.aclose()
        await self.http.aclose()
        await self.db.dispose()
        self._stopped.set()
        log.info("bot stopped")

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        """Start and run until ``stop`` is set (SIGTERM / SIGINT in the CLI) or cancelled;
        then stop gracefully.

        Raises:
            RuntimeError: a supervised task could not be kept running (exit non-zero).
        """
        await self.start()
        stop = stop or asyncio.Event()
        try:
            stopped = asyncio.ensure_future(stop.wait())
            failed = asyncio.ensure_future(self.supervisor.failed.wait())
            try:
                await asyncio.wait({stopped, failed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopped.cancel()
                failed.cancel()
            if self.supervisor.failed.is_set():
                raise RuntimeError("a supervised task could not be kept running")
        finally:
            await self.stop()

    async def _worker(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            # Shielded: a shutdown lets the batch in hand finish (``stop`` waits for it).
            work = asyncio.ensure_future(self.dispatcher.process_batch(batch))
            self._in_hand.add(work)
            work.add_done_callback(self._in_hand.discard)
            try:
                await asyncio.shield(work)
            finally:
                for _ in batch:
                    self.queue.task_done()

    async def drain(self) -> None:
        """Wait until every queued push has been processed (tests and the sandbox)."""
        await self.queue.join()

    async def _sweep_ids(self, inbox: InboxRepo) -> None:
        # Rows this process already queued are on their way; a row being handled right now
        # may be queued again, and its claim makes that harmless.
        queued = set(self.queue._queue)  # type: ignore[attr-defined]
        ids = [i for i in await inbox.unprocessed_ids() if i not in queued]
        for event_id in ids:
            self.queue.put_nowait(event_id)
        if ids:
            log.info("queued %d recorded but unprocessed pushes", len(ids))

    def _sweep_soon(self) -> None:
        """Look for recorded but unprocessed pushes now (another process left some)."""
        if self._sweeping is None or self._sweeping.done():
            self._sweeping = asyncio.create_task(self._sweep_now(), name="inbox-sweep-now")

    async def _sweep_now(self) -> None:
        try:
            async with self.db.transaction() as session:
                await self._sweep_ids(InboxRepo(session))
        except Exception as exc:  # the periodic sweep tries again
            log.warning("inbox sweep failed: %s", exc)

    async def _sweep_inbox(self, ctx: Context) -> None:
        # Pushes recorded by a process that died before handling them.
        await self._sweep_ids(ctx.repos.inbox)

    async def _purge_inbox(self, ctx: Context) -> None:
        hours = self.settings.storage.inbox_retention_hours
        days = self.settings.storage.dedupe_retention_days
        removed = await ctx.repos.inbox.purge_before(
            ctx.now - timedelta(hours=hours), ctx.now - timedelta(days=max(days, hours / 24))
        )
        if removed:
            ctx.log.info("purged %d raw inbound payloads older than %sh", removed, hours)


_frozen = False


def _freeze_startup_objects() -> None:
    """Move what start-up built (modules, routers, compiled statements, dictionaries) out of
    the cyclic collector's sight, once per process. A full collection then scans only what
    the running bot creates: about 60 ms less in the middle of a burst of clicks."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()
