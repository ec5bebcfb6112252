"""The durable inbox, in one place: every push is recorded here before its ack.

A robot message is recorded (``record``, group-committed with the pushes that arrive
together), acked by the stream edge, queued (``put``) and handed in batches to the message
dispatcher by the workers (``worker``). A process that dies between the record and the
handling leaves the row ``received``: the sweep (``sweep_job``, and once at start-up) queues
it again, and the claim in ``InboxRepo.claim_many`` makes a second hand-out harmless. The
purge (``purge_job``) drops raw payloads after ``storage.inbox_retention_hours`` and the
de-duplication keys after ``storage.dedupe_retention_days``. A push that cannot be stored or
handled at all is kept as a dead letter, never retried forever.

Card clicks are recorded by ``bot.clicks`` in the transaction that handles them (their answer
travels in the ack), with the same keys and the same dead letters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot import metrics
from bot.batching import GroupCommit
from bot.clock import Clock
from bot.commands import CommandTable
from bot.config import Settings
from bot.context import JobContext
from bot.errors import FailureSink, brief, ignore_failure
from bot.events import BOT_MESSAGE_TOPIC, member_id, storable
from storage.db import INBOX_CHANNEL, Database, is_transient
from storage.models import OutboxMessage
from storage.repositories import InboxRepo, InboxRow

log = logging.getLogger(__name__)

BATCH = 64  # messages handled in one transaction when they queue up
RECORD_BATCH = 64  # pushes recorded in one transaction when they arrive together
SWEEP_SECONDS = 5.0  # how often rows left by a dead process are queued again
PURGE_SECONDS = 3600.0


def event_key(topic: str, data: dict[str, Any], frame_id: str) -> str:
    """The de-duplication key: the message's own ``msgId``; the frame id for card clicks."""
    msg_id = data.get("msgId")
    if topic == BOT_MESSAGE_TOPIC and isinstance(msg_id, str) and msg_id:
        return "msg:" + msg_id
    return "frame:" + frame_id


def inbox_row(
    topic: str, key: str, data: dict[str, Any], *, conversation_id: str, staff_id: str
) -> InboxRow:
    """The row a push is recorded as (``data`` already made storable)."""
    return {
        "key": key,
        "topic": topic,
        "conversation_id": conversation_id[:200],
        "staff_id": staff_id[:200],
        "payload": data,
    }


@dataclass(frozen=True, slots=True)
class Handling:
    """What handling events needs: settings, clock, database, the command table, the inbox,
    and where the outbox rows go once written (the sender, after the commit)."""

    settings: Settings
    clock: Clock
    db: Database
    commands: CommandTable
    inbox: Inbox
    on_outbox: Callable[[list[OutboxMessage]], None] = lambda rows: None


class Handler:
    """Base of the message dispatcher and the click handler: their shared parts, and where
    their failures go (``bot.alerts`` connects it)."""

    def __init__(self, parts: Handling) -> None:
        self.settings = parts.settings
        self.clock = parts.clock
        self.db = parts.db
        self.commands = parts.commands
        self.inbox = parts.inbox
        self.on_outbox = parts.on_outbox
        self.on_failure: FailureSink = ignore_failure


class Inbox:
    """Records pushes, queues them, and runs the workers that hand them to ``process``."""

    def __init__(
        self,
        *,
        settings: Settings,
        clock: Clock,
        db: Database,
        process: Callable[[list[int]], Awaitable[None]],
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.db = db
        self.process = process
        # Batches of at most RECORD_BATCH, with a turn of the loop between two: a burst of
        # 256 pushes recorded at once held the loop 10 ms, and the first acks waited for it.
        self._recorder: GroupCommit[InboxRow, int | None] = GroupCommit(
            self._record_batch, max_batch=RECORD_BATCH
        )
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._queued: set[int] = set()  # ids in the queue, not yet taken by a worker
        # Batches being handled, so a shutdown can let them finish (``finish``).
        self.in_hand: set[asyncio.Future[None]] = set()
        # Pushes acked but kept as dead letters (they could not be stored or handled) since
        # this process started; the inbox rows with status "dead" are the durable count.
        self.dead_letters = 0
        self._sweeping: asyncio.Task[None] | None = None

    # -- recording (before the ack) --------------------------------------------------------

    async def record(self, topic: str, data: dict[str, Any], frame_id: str) -> int | None:
        """Store a push durably; return its inbox id, or None for a duplicate or a push kept
        as a dead letter (both are acked and not handled). Raises only when nothing could be
        written at all (the database is down): then the push stays unacked and comes again."""
        data = storable(data)
        row = inbox_row(
            topic,
            event_key(topic, data, frame_id),
            data,
            conversation_id=str(data.get("conversationId", "")),
            staff_id=member_id(
                str(data.get("senderStaffId") or ""), str(data.get("senderId") or "")
            ),
        )
        return await self._recorder.submit(row)

    @property
    def recording(self) -> bool:
        """Whether pushes are waiting to be recorded (their acks wait for it)."""
        return self._recorder.busy

    async def recorded(self) -> None:
        """Wait until the pushes submitted so far are recorded (not those arriving later)."""
        await self._recorder.caught_up()

    async def _record_batch(self, rows: list[InboxRow]) -> list[int | None]:
        try:
            async with self.db.transaction() as session:
                return await InboxRepo(session).record_many(rows, self.clock.now())
        except Exception as exc:
            if is_transient(exc):
                raise  # the database is away: leave the pushes unacked, DingTalk redelivers
            if len(rows) == 1:
                await self.dead_letter(rows[0], exc)
                return [None]
            # One push must never take its neighbours down: record them one by one.
            log.warning("recording %d pushes failed (%s); one by one", len(rows), brief(exc))
        return [await self._record_alone(row) for row in rows]

    async def _record_alone(self, row: InboxRow) -> int | None:
        try:
            async with self.db.transaction() as session:
                [event_id] = await InboxRepo(session).record_many([row], self.clock.now())
            return event_id
        except Exception as exc:
            if is_transient(exc):
                raise
            await self.dead_letter(row, exc)
            return None

    async def dead_letter(self, row: InboxRow, exc: BaseException) -> None:
        """Keep a push that cannot be recorded or handled as a dead letter (then it is
        acked). If even that fails the database itself is failing: raise, and the push is
        redelivered."""
        async with self.db.transaction() as session:
            await InboxRepo(session).record_dead(row, brief(exc), self.clock.now())
        self._count_dead()
        log.error(
            "push %s (%s) could not be recorded (%s); acked and kept as a dead letter",
            row["key"],
            row["topic"],
            brief(exc),
        )

    async def bury(self, event_id: int, error: str) -> None:
        """A recorded event that can be neither handled nor apologised for becomes a dead
        letter, so the sweep never retries it (it would fail the same way, forever)."""
        try:
            async with self.db.transaction() as session:
                await InboxRepo(session).mark(event_id, "dead", self.clock.now(), error)
        except Exception:
            log.exception("inbox event %s could not be marked dead", event_id)
            return
        self._count_dead()
        log.error("inbox event %s kept as a dead letter: %s", event_id, error)

    def _count_dead(self) -> None:
        self.dead_letters += 1
        metrics.ERRORS.labels(kind="dead_letter").inc()

    # -- the queue and its workers (after the ack) -----------------------------------------

    def put(self, event_id: int) -> None:
        """Queue a recorded message for the workers (once: a message the sweep found
        between its recorder's commit and the recorder's own ``put`` is queued already)."""
        if event_id in self._queued:
            return
        self._queued.add(event_id)
        self._queue.put_nowait(event_id)

    def _take(self) -> int:
        event_id = self._queue.get_nowait()
        self._queued.discard(event_id)
        return event_id

    @property
    def idle(self) -> bool:
        """Whether nothing is queued."""
        return self._queue.empty()

    async def worker(self) -> None:
        """Hand queued messages to ``process`` in batches of up to ``BATCH``, forever."""
        while True:
            event_id = await self._queue.get()
            self._queued.discard(event_id)
            batch = [event_id]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._take())
            # Shielded: a shutdown lets the batch in hand finish (``finish`` waits for it).
            work = asyncio.ensure_future(self.process(batch))
            self.in_hand.add(work)
            work.add_done_callback(self.in_hand.discard)
            try:
                await asyncio.shield(work)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def drain(self) -> None:
        """Wait until every queued message has been processed (tests and the sandbox)."""
        await self._queue.join()

    async def finish(self) -> None:
        """Wait for the batches in hand (a shutdown; cancelled by ``cancel`` on timeout)."""
        if self.in_hand:
            await asyncio.gather(*self.in_hand, return_exceptions=True)

    def cancel(self) -> None:
        """Cut off the batches in hand (they are redone from the inbox on the next start)."""
        for batch in self.in_hand:
            batch.cancel()

    # -- sweep and purge (jobs) ------------------------------------------------------------

    async def sweep(self, inbox: InboxRepo) -> None:
        """Queue the messages recorded but not handled (a process died, or the database was
        away while they were handled)."""
        # Rows this process already queued are on their way; a row being handled right now
        # may be queued again, and its claim makes that harmless.
        ids = [i for i in await inbox.unprocessed_ids() if i not in self._queued]
        for event_id in ids:
            self.put(event_id)
        if ids:
            log.info("queued %d recorded but unprocessed pushes", len(ids))

    def sweep_soon(self) -> None:
        """Look for recorded but unprocessed pushes now (another process left some: on
        PostgreSQL it says so on ``INBOX_CHANNEL``)."""
        if self._sweeping is None or self._sweeping.done():
            self._sweeping = asyncio.create_task(self._sweep_now(), name="inbox-sweep-now")

    async def _sweep_now(self) -> None:
        try:
            async with self.db.transaction() as session:
                await self.sweep(InboxRepo(session))
        except Exception as exc:  # the periodic sweep tries again
            log.warning("inbox sweep failed: %s", exc)

    async def hand_back(self) -> None:
        """At shutdown: stop a sweep under way, and tell the other processes (PostgreSQL) of
        pushes recorded (and acked) here but not handled, so they take them now rather than
        at their next sweep."""
        if self._sweeping is not None:
            self._sweeping.cancel()
        if not self.idle and not self.db.is_sqlite:
            with contextlib.suppress(Exception):
                await self.db.notify(INBOX_CHANNEL)

    async def sweep_job(self, ctx: JobContext) -> None:
        """The repeating sweep (pushes recorded by a process that died before handling them)."""
        await self.sweep(ctx.repos.inbox)

    async def purge_job(self, ctx: JobContext) -> None:
        """Drop raw payloads past their retention, and de-duplication keys past theirs."""
        hours = self.settings.storage.inbox_retention_hours
        days = self.settings.storage.dedupe_retention_days
        removed = await ctx.repos.inbox.purge_before(
            ctx.now - timedelta(hours=hours), ctx.now - timedelta(days=max(days, hours / 24))
        )
        if removed:
            ctx.log.info("purged %d raw inbound payloads older than %sh", removed, hours)
