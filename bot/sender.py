"""The sender: delivers outbox rows with leases, retries, backoff and a per-group pace.

Operational times (leases, retries, session expiry) use the real clock: they are about the
network, not about the community's calendar.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from bot import metrics, notices
from bot.answers import BatchResult
from bot.backoff import jittered
from bot.batching import one_turn
from bot.cards import fit_card_data
from bot.clock import Clock, SystemClock, utcnow
from bot.config import Settings
from bot.errors import (
    DeliveryFailed,
    Failure,
    FailureSink,
    NotConnected,
    PlatformError,
    QuotaExhausted,
    SessionExpired,
    Throttled,
    Unauthorised,
    ignore_failure,
)
from bot.events import is_staff_id
from bot.openapi import FILE_MIME, OpenAPI
from bot.outbox import parse_reply
from bot.replies import (
    CardReply,
    CardUpdate,
    FileReply,
    ImageReply,
    Reply,
    ToGroup,
    ToMembers,
)
from bot.wire import (
    CARD_REFUSALS,
    NO_STAFF_ID,
    QUOTA_NOTICE,
    Pace,
    as_message,
    card_body,
    to_members,
    webhook_body,
)
from storage.db import OUTBOX_CHANNEL, Database, is_transient, notify
from storage.members import MemberRepo
from storage.models import OutboxMessage
from storage.outbox import BEHIND, OrderKey, OutboxRow, lock_id, order_key
from storage.repositories import OutboxRepo, PaceRepo

log = logging.getLogger(__name__)

MARK_RETRY_SECONDS = 0.2
# Marks committed in one transaction at most: on SQLite a transaction runs inline, in one
# step of the loop; 64 marks are about 1 ms of the loop thread's CPU on a quiet machine
# (500 were 6.5 ms, 18-27 ms under load), and the flush yields a whole turn between two.
MARK_BATCH = 64

SESSION_MARGIN = timedelta(seconds=5)
# Waits for an API's rate that add up to more than this (or a quarter of the lease) give the
# row back (rescheduled) instead of keeping a send slot.
API_WAIT_MAX = 2.0
# Keys remembered with replies waiting behind one (``Sender.notified``); past this many the
# set is cleared, and such replies go by a poll.
BEHIND_KEPT = 10_000


class Sender:
    """Delivers due outbox rows; one instance per process, safe with several processes."""

    def __init__(
        self, settings: Settings, db: Database, api: OpenAPI, clock: Clock | None = None
    ) -> None:
        self.settings = settings
        # The community's clock (the one rows' created_at comes from): how old a reply is.
        self.clock: Clock = clock or SystemClock()
        self.cfg = settings.sender
        self.db = db
        self.api = api
        self.pace = Pace(self.cfg.group_messages_per_minute, self.cfg.group_burst)
        # Per OpenAPI at the app's rate, with a small burst (a quarter second's worth) so the
        # few sends of one answer are not spaced out. In the database on PostgreSQL, shared
        # by every process; in memory on SQLite, whose file has one process.
        rate = self.cfg.api_calls_per_second
        self.api_pace = Pace(int(rate * 60), max(1, int(rate / 4)))
        # No wait this sender sets is longer than this; a time further ahead was set before
        # the wall clock stepped back, and counts as come (see OutboxRepo.due).
        self.horizon = timedelta(
            seconds=max(
                self.cfg.backoff_max,
                self.cfg.lease_seconds,
                60.0 / self.cfg.group_messages_per_minute,
            )
            + 1.0
        )
        self._wake = asyncio.Event()
        self.on_failure: FailureSink = ignore_failure  # a reply given up (bot.alerts)
        self._slots = asyncio.Semaphore(self.cfg.concurrency)
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[int] = set()
        # Rows that must keep their order and are waiting (throttled, paced, failed): until
        # when. Later rows with the same key wait as long, so they never overtake.
        self._held: dict[tuple[str, str], datetime] = {}
        self._handed: list[OutboxMessage] = []
        self._next_poll = 0.0
        self._to_mark: list[tuple[int, str]] = []
        self._marked: dict[int, asyncio.Future[None]] = {}
        self._keys: dict[int, OrderKey] = {}  # the order keys of the rows to mark
        # Keys (lock ids) with replies written to wait behind an older one (``notified``).
        self._behind: set[int] = set()
        self._mark_wake = asyncio.Event()
        self._mark_task: asyncio.Task[None] | None = None
        self._flushing: asyncio.Future[bool] | None = None  # the mark commit in hand
        self._round: asyncio.Future[bool] | None = None  # the delivery round in hand
        self.stopping = False
        self._sessions: dict[str, tuple[str, str, datetime]] = {}
        self._group_sessions: dict[str, tuple[str, datetime]] = {}
        self._quota_told = False

    def wake(self) -> None:
        """Rows may be due: look now rather than at the next poll."""
        self._next_poll = 0.0
        self._wake.set()

    def notified(self, payload: str = "") -> None:
        """Another process's word on the outbox channel: rows for anyone (look now), or the
        keys (``lock_id``) of replies it wrote to wait behind an older one (``BEHIND``):
        if that one is this process's, it takes them when it marks it sent."""
        if not payload.startswith(BEHIND):
            self.wake()
            return
        try:
            self._note_behind(int(part) for part in payload[len(BEHIND) :].split(",") if part)
        except ValueError:
            self.wake()

    def _note_behind(self, ids: Iterable[int]) -> None:
        if len(self._behind) > BEHIND_KEPT:  # never marked here: their rows go by a poll
            self._behind.clear()
        self._behind.update(ids)

    def hand_over(self, rows: list[OutboxMessage]) -> None:
        """Rows this process just committed, already leased to it: send them without a read.

        Rows written unleased are left: this process sends nothing (the others take them),
        or they wait behind an older reply of their key (storage.outbox.order_key), and the
        sender that marks that reply takes them.
        """
        leased = [r for r in rows if r.lease_until is not None]
        if self.cfg.enabled and leased:
            self._handed.extend(leased)
            self._wake.set()
        if self.cfg.enabled and len(leased) < len(rows):
            self._note_behind(lock_id(order_key(r)) for r in rows if r.lease_until is None)

    def start(self) -> None:
        """Run the delivery loop in the background."""
        self._task = asyncio.create_task(self._run(), name="sender")
        self._mark_task = asyncio.create_task(self._mark_loop(), name="sender-marks")

    async def run(self) -> None:
        """The delivery and mark loops, for a supervisor; ends (raises) if either fails."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._run(), name="sender")
            group.create_task(self._mark_loop(), name="sender-marks")

    async def stop(self) -> None:
        """Stop the loops and commit the marks of what was sent (rows mid-send keep a lease)."""
        self.stopping = True
        for task in (self._task, self._mark_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._round is not None and not self._round.done():
            self._round.cancel()  # past the shutdown timeout: what is mid-send keeps a lease
            await asyncio.gather(self._round, return_exceptions=True)
        await self._settle_marks()

    async def finish(self) -> None:
        """Shutdown: start nothing new, let the sends in flight complete, commit their marks,
        and give back the leases of rows not started (so the next process sends them at
        once). Cancelling a send in flight could leave a message delivered but unmarked."""
        self.stopping = True
        if self._round is not None:
            # The mark loop went with the supervisor's tasks, and each send in the round
            # waits for its mark: commit the marks here while the round finishes.
            marks = asyncio.ensure_future(self._mark_loop())
            try:
                await asyncio.gather(self._round, return_exceptions=True)
            finally:
                marks.cancel()
                await asyncio.gather(marks, return_exceptions=True)
        handed, self._handed = self._handed, []
        for row in handed:
            await self._reschedule(row, utcnow())
        if handed:
            # The other processes' senders take them at once, not at their next poll.
            with contextlib.suppress(Exception):
                await self.db.notify(OUTBOX_CHANNEL)
        await self._settle_marks()

    async def _settle_marks(self) -> None:
        """Commit every mark: the one in hand (the mark loop's, shielded from its
        cancellation) and those gathered since."""
        if self._flushing is not None:
            await asyncio.gather(self._flushing, return_exceptions=True)
        await self._flush_marks()

    async def _run(self) -> None:
        while not self.stopping:
            try:
                # Shielded: stopping the loop must not cut a request to DingTalk in half
                # (the message may be delivered with no mark); ``finish`` waits for it.
                self._round = asyncio.ensure_future(self.deliver_due())
                busy = await asyncio.shield(self._round)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sender loop error")
                busy = False
            if busy:
                continue
            self._wake.clear()
            # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation
            # that arrives as the wake-up does, and the sender then never stops.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.cfg.poll_seconds):
                    await self._wake.wait()

    async def deliver_due(self, limit: int = 500) -> bool:
        """Lease and deliver what is due; return whether anything was found."""
        # A hold that ends lets its key's waiting rows go: they are due now, so this round
        # reads them, or a fresh reply handed over would overtake them.
        now = utcnow()
        ended = [k for k, until in self._held.items() if until <= now or until > now + self.horizon]
        for key in ended:
            del self._held[key]
        rows, self._handed = self._handed, []
        # Handed-over rows need no read; others (retries, leftovers of a dead process) are
        # polled, but not on every round while fresh rows keep coming.
        if len(rows) < limit and (not rows or ended or time.monotonic() >= self._next_poll):
            self._next_poll = time.monotonic() + self.cfg.poll_seconds
            rows += await self._lease_due(limit - len(rows), exclude={r.id for r in rows})
        if not rows:
            return False
        rows.sort(key=lambda r: r.id)
        in_order: dict[tuple[str, str], list[OutboxMessage]] = defaultdict(list)
        for row in rows:
            self._inflight.add(row.id)
            in_order[(row.conversation_id, row.reply_staff_id)].append(row)
        # Order is kept among the replies to one member in one conversation (and among a
        # group's own posts, which answer nobody); the rest go in parallel, so one slow or
        # throttled reply does not hold up everyone else's in a busy group.
        await asyncio.gather(
            *(self._deliver_in_order(key, batch) for key, batch in in_order.items())
        )
        return True

    async def _lease_due(self, limit: int, exclude: set[int]) -> list[OutboxMessage]:
        """Take a lease on due rows nobody holds (left by a restart, a retry or another process)."""
        now = utcnow()
        until = now + timedelta(seconds=self.cfg.lease_seconds)
        async with self.db.transaction() as session:
            repo = OutboxRepo(session)
            skip = self._inflight | exclude
            rows = [r for r in await repo.due(now, limit, self.horizon) if r.id not in skip]
            if not rows:
                return []
            owned = set(await repo.lease([r.id for r in rows], now, until, self.horizon))
        for row in rows:
            if row.id in owned:
                row.lease_until = until
        return [r for r in rows if r.id in owned]

    async def _deliver_in_order(self, key: tuple[str, str], rows: list[OutboxMessage]) -> None:
        """Send rows that must keep their order. When one must wait (throttled, paced, a
        transient error), the rows after it wait too, so members never read part 2 first;
        rows with the same key that come later wait as well."""
        held_until = self._held.get(key)
        for row in rows:
            if self.stopping:  # shutting down: give the row back for the next process
                held_until = held_until or utcnow()
            if held_until is not None:
                await self._reschedule(row, held_until)
                self._inflight.discard(row.id)
                continue
            async with self._slots:
                if not await self._keep_lease(row):
                    # Its lease lapsed while it waited and another sender has it (or sent
                    # it): sending it here too would double it. The rows after it wait, so
                    # they do not overtake it.
                    self._inflight.discard(row.id)
                    held_until = utcnow()
                    continue
                outcome = await self._deliver(row)
            if not isinstance(outcome, str):
                self._inflight.discard(row.id)
                held_until = outcome
                if outcome is not None:
                    self._held[key] = outcome
                continue
            # A reply sent but not yet marked is sent again if the process dies now: the
            # mark is committed at once (marks that arrive meanwhile share the commit), and
            # the member's next reply waits for it, so at most one reply per member and
            # process is ever in that window.
            marked = asyncio.get_running_loop().create_future()
            self._marked[row.id] = marked
            self._keys[row.id] = order_key(row)
            self._to_mark.append((row.id, outcome))
            self._mark_wake.set()
            with contextlib.suppress(TimeoutError):
                # Bounded: if the mark loop is not running, the lease still guards the row.
                await asyncio.wait_for(asyncio.shield(marked), self.cfg.lease_seconds)

    async def _keep_lease(self, row: OutboxMessage) -> bool:
        """Whether this sender still holds ``row``, renewing a lease that is half gone (the
        row waited for a send slot or the API's rate): sending on a lapsed lease doubles
        the reply when another process took the row meanwhile."""
        held, now = row.lease_until, utcnow()
        lease = timedelta(seconds=self.cfg.lease_seconds)
        if held is None or now + lease / 2 < held <= now + self.horizon:
            return True
        try:
            async with self.db.transaction() as session:
                kept = await OutboxRepo(session).renew(row.id, held, now + lease)
        except Exception as exc:
            if not is_transient(exc):
                raise
            return False  # unsure: the row's lease lapses and a poll sends it
        if kept:
            row.lease_until = now + lease
        return kept

    async def _mark_loop(self) -> None:
        if self._to_mark:
            # Restarted after a crash (the supervisor): marks gathered before it are still
            # owed, and replies of the same member wait behind them (the reply order).
            self._mark_wake.set()
        while True:
            await self._mark_wake.wait()
            # No gathering delay: a kill -9 between a send and its mark doubles the reply,
            # so the window is one commit long. Marks queued while a commit runs share the
            # next one (group commit), which keeps the cost low under load.
            self._mark_wake.clear()
            # Shielded: a shutdown cancels this loop, and a flush cut off mid-transaction
            # would roll its marks back after the replies went out, so the next process
            # would send them again. ``finish`` and ``stop`` wait for the flush instead.
            self._flushing = asyncio.ensure_future(self._flush_marks())
            if not await asyncio.shield(self._flushing):
                # The database is away for a moment (a restart, a failover): try the marks
                # again soon, while the rows' leases still keep other senders off them; a
                # mark that comes too late means the reply is sent twice.
                await asyncio.sleep(MARK_RETRY_SECONDS)
                self._mark_wake.set()

    async def _flush_marks(self) -> bool:
        """Commit the gathered marks; False when the database could not take them now (the
        marks not committed are kept for another try).

        In transactions of at most ``MARK_BATCH`` marks, with a whole turn of the loop
        between two: on SQLite a transaction runs inline, in one step of the loop, and a
        backlog of 500 marks held it 6.5 ms on a quiet machine (18-27 ms under load, issue
        15). Each batch resolves its own rows' waiters when it commits, in the order the
        marks came, so a member's next reply still waits only for its own mark."""
        batch, self._to_mark = self._to_mark, []
        for start in range(0, len(batch), MARK_BATCH):
            if start:
                await one_turn()
            if not await self._commit_marks(batch[start : start + MARK_BATCH], batch[start:]):
                return False
        return True

    async def _commit_marks(
        self, chunk: list[tuple[int, str]], rest: list[tuple[int, str]]
    ) -> bool:
        """Commit the marks of ``chunk`` (the first of ``rest``, the marks of this flush not
        committed yet): False when the database could not take them now; then ``rest`` is
        kept, ahead of marks gathered since, for another try."""
        # Keys some process said it wrote replies behind (``notified``): those may go once
        # these rows are marked, and this sender takes them on, as if handed to it. (A word
        # that comes after the mark leaves them to a poll, ``sender.poll_seconds``.)
        behind: set[OrderKey] = set()
        if self._behind:
            keys = {self._keys[oid] for oid, _ in chunk if oid in self._keys}
            behind = {k for k in keys if lock_id(k) in self._behind}
        follow: list[OutboxMessage] = []
        try:
            async with self.db.transaction() as session:
                repo = OutboxRepo(session)
                await repo.mark_sent(chunk, utcnow())
                follow = await self._take_next(repo, behind)
        except asyncio.CancelledError:
            # Cut off (a second signal): keep the marks for whoever flushes next; marking a
            # row twice is harmless, dropping its mark sends the reply again.
            self._to_mark = rest + self._to_mark
            raise
        except Exception as exc:
            if is_transient(exc):
                log.warning("%d sent replies not marked yet (%s); retrying", len(rest), exc)
                self._to_mark = rest + self._to_mark
                return False
            log.exception("%d replies sent but not marked; their leases will lapse", len(chunk))
        else:
            self._behind.difference_update(lock_id(k) for k in behind)
            if follow:
                self._handed.extend(follow)
                self._wake.set()
        for message_id, _ in chunk:
            self._keys.pop(message_id, None)
            self._inflight.discard(message_id)
            marked = self._marked.pop(message_id, None)
            if marked is not None and not marked.done():
                marked.set_result(None)
        return True

    async def _take_next(self, repo: OutboxRepo, keys: set[OrderKey]) -> list[OutboxMessage]:
        """Lease the replies that waited behind rows of ``keys`` and may go now; when
        stopping, leave them to the other processes and tell them."""
        if not keys:
            return []
        behind = await repo.waiting(keys)
        if not behind:
            return []
        if self.stopping:
            await notify(repo.session, OUTBOX_CHANNEL)
            return []
        now = utcnow()
        until = now + timedelta(seconds=self.cfg.lease_seconds)
        rows = [
            r
            for r in await repo.due(now, 100, self.horizon, keys=behind)
            if r.id not in self._inflight
        ]
        if not rows:
            return []
        owned = set(await repo.lease([r.id for r in rows], now, until, self.horizon))
        taken = [r for r in rows if r.id in owned]
        for row in taken:
            row.lease_until = until
        return taken

    async def _deliver(self, row: OutboxMessage) -> str | datetime | None:
        """Send one row: the route it went by; when it must wait, the time of its next try;
        None when it was given up."""
        self._remember_session(row)
        try:
            with metrics.timed(metrics.SEND_LATENCY):
                reply = parse_reply(row.reply)
                route = await self._send(row, reply)
        except _Deferred as wait:
            metrics.REPLIES.labels("group", "deferred").inc()
            at = utcnow() + timedelta(seconds=wait.seconds)
            await self._reschedule(row, at)
            return at
        except PlatformError as exc:
            return await self._failed_attempt(row, exc)
        except Exception as exc:  # a bug: keep the row, log loudly, try again later
            log.exception(
                "outbox %s (%s) could not be sent", row.id, row.idem_key, extra=_fields(row)
            )
            return await self._failed_attempt(row, DeliveryFailed(f"{type(exc).__name__}: {exc}"))
        metrics.REPLIES.labels(route, "sent").inc()
        log.debug(
            "outbox %s (%s) sent via %s", row.id, row.idem_key, route, extra=_fields(row, route)
        )
        if route != "webhook":
            self._quota_told = False  # the OpenAPI answers again: tell again if it runs out
        return route

    async def _send(self, row: OutboxMessage, reply: Reply) -> str:
        if isinstance(reply, CardUpdate):
            # 更新卡片 has the same 100 B key / 1 KB value limits as 创建并投放卡片.
            await self.take_api("card/update")
            await self.api.card_update(reply.out_track_id, fit_card_data(reply.data))
            return "card_update"
        # A member known only by the encrypted senderId has no staff id, and no OpenAPI call
        # may name them (batchSend: staffId.notExisted, openclaw-connector #431): no one-to-one
        # card (IM_ROBOT.<staffId>) for them, the markdown goes by the session webhook.
        private_ok = is_staff_id(row.reply_staff_id)
        if (
            isinstance(reply, CardReply)
            and reply.template_id
            and (row.conversation_type != "1" or private_ok)
        ):
            try:
                await self.take_api("card/createAndDeliver")
                await self.api.card_deliver(card_body(self.settings, row, reply))
                return "card"
            except DeliveryFailed as exc:
                if exc.code == "param.cardAlreadyExist" and row.attempts > 0:
                    # Our outTrackIds are unique forever, so it is our own earlier attempt
                    # whose answer was lost: the card is there.
                    return "card"
                fix = CARD_REFUSALS.get(exc.code or "")
                if fix is None:
                    raise
                log.warning(
                    "outbox %s: card %r refused (%s): %s; sent as markdown instead",
                    row.id,
                    reply.kind,
                    exc.code,
                    fix,
                )
        msg_key, param, at_ids = as_message(reply)
        at_ids = [sid for sid in at_ids if is_staff_id(sid)]
        to = reply.to
        if isinstance(reply, ImageReply):
            # Robots send pictures by media id from the media upload API (robot message
            # types: sampleImageMsg {"photoURL": media_id}); a session webhook takes text,
            # markdown and action cards only, so a picture always goes by the OpenAPI. A
            # media id is reusable, but uploading again on a retry keeps no state to lose.
            png = base64.b64decode(reply.png_base64)
            await self.take_api("media/upload")
            param = {"photoURL": await self.api.media_upload(png, "chart.png", "image/png")}
        if isinstance(reply, FileReply):
            # A file goes the same way: uploaded as media of type "file", then the robot's
            # file message by its media id (sampleFile; sources in bot.openapi.media_upload).
            data = base64.b64decode(reply.data_base64)
            await self.take_api("media/upload")
            media_id = await self.api.media_upload(
                data, reply.file_name, FILE_MIME.get(reply.file_type, ""), kind="file"
            )
            param = {**param, "mediaId": media_id}
        if isinstance(to, ToMembers):
            return await self._members(row, reply, to.staff_ids, msg_key, param)
        if (
            not isinstance(to, ToGroup)
            and not isinstance(reply, ImageReply | FileReply)
            and row.session_webhook
            and self._session_valid(row)
        ):
            try:
                await self.api.webhook_send(
                    row.session_webhook, webhook_body(msg_key, param, at_ids)
                )
                return "webhook"
            except SessionExpired:
                log.info("outbox %s: session expired, using the OpenAPI", row.id)
            except NotConnected as exc:
                # Nothing was sent: fall back at once instead of retrying a dead host.
                log.warning("outbox %s: webhook unreachable (%s), using the OpenAPI", row.id, exc)
            except DeliveryFailed as exc:
                log.warning("outbox %s: webhook failed (%s), using the OpenAPI", row.id, exc)
        if row.conversation_type == "1" and not isinstance(to, ToGroup):
            if not private_ok:
                raise DeliveryFailed(NO_STAFF_ID)
            return await self._members(row, reply, [row.reply_staff_id], msg_key, param)
        wait = await self.take_pace(row.conversation_id)
        if wait > 0:
            raise _Deferred(wait)
        await self.take_api("groupMessages/send")
        await self.api.group_send(row.conversation_id, msg_key, param)
        return "group"

    async def take_pace(self, conversation_id: str) -> float:
        """A token of the group's send pace; 0 when granted, else the seconds to wait.

        The bucket lives in the database, shared by every process: N processes together
        post at the group's rate, not N times it (DingTalk throttles a robot at 20 messages
        a minute per group: DINGTALK.md "Errors and limits").
        """
        async with self.db.transaction() as session:
            return await PaceRepo(session).take(
                "group:" + conversation_id, utcnow().timestamp(), self.pace.rate, self.pace.burst
            )

    async def take_api(self, api: str) -> None:
        """Wait for a call of ``api`` within the app-wide rate (``api_calls_per_second``).

        N processes together call each API at that rate, not N times it: on PostgreSQL the
        bucket is a row every process takes from. A long wait gives the row back instead.
        """
        waited, most = 0.0, min(API_WAIT_MAX, self.cfg.lease_seconds / 4)
        while True:
            if self.db.is_sqlite:
                wait = self.api_pace.take("api:" + api)
            else:
                async with self.db.transaction() as session:
                    wait = await PaceRepo(session).take(
                        "api:" + api,
                        utcnow().timestamp(),
                        self.api_pace.rate,
                        self.api_pace.burst,
                    )
            if wait <= 0:
                return
            if waited + wait > most:
                raise _Deferred(wait)
            waited += wait
            await asyncio.sleep(wait)

    def _session_valid(self, row: OutboxMessage) -> bool:
        expires = row.session_expires_at
        return expires is None or expires - SESSION_MARGIN > utcnow()

    async def _members(
        self,
        row: OutboxMessage,
        reply: Reply,
        staff_ids: list[str],
        msg_key: str,
        msg_param: dict[str, Any],
    ) -> str:
        """oToMessages/batchSend, whose HTTP 200 may still refuse some of the users."""
        # Members known only by their encrypted senderId are no userIds: batchSend answers
        # staffId.notExisted for them (openclaw-connector #431), so they are never sent.
        staff = [sid for sid in staff_ids if is_staff_id(sid)]
        if len(staff) < len(staff_ids):
            log.warning(
                "outbox %s: %d recipient(s) without a staff id left out of a one-to-one send"
                " (external contacts, or the app is not published)",
                row.id,
                len(staff_ids) - len(staff),
            )
        if not staff:
            raise DeliveryFailed(NO_STAFF_ID)
        staff_ids = staff
        await self.take_api("oToMessages/batchSend")
        result = await self.api.members_send(staff_ids, msg_key, msg_param)
        if result.complete:
            return "members"
        await self._settle_partial(row, reply, staff_ids, result)
        return "members"

    async def _settle_partial(
        self, row: OutboxMessage, reply: Reply, staff_ids: list[str], result: BatchResult
    ) -> None:
        """Split a partly refused batchSend (robot_1_0 BatchSendOTOResponseBody): the row keeps
        the users who got it; the flow-controlled get a row of their own, retried later; the
        invalid and filtered get rows recorded as failed with the reason, never as delivered.
        When nobody got it, the row itself is retried (flow control) or failed."""
        refused = {
            "invalidStaffIdList": [u for u in staff_ids if u in result.invalid],
            "filteredStaffIdList": [
                u for u in staff_ids if u in result.filtered and u not in result.invalid
            ],
        }
        bad = {u for ids in refused.values() for u in ids}
        flow = [u for u in staff_ids if u in result.flow_controlled and u not in bad]
        delivered = [u for u in staff_ids if u not in bad and u not in flow]
        now = utcnow()
        groups = [(reason, ids) for reason, ids in refused.items() if ids]
        for reason, ids in groups:
            log.warning(
                "outbox %s: batchSend refused %d user(s) (%s); recorded as failed",
                row.id,
                len(ids),
                reason,
            )
        keep = delivered or flow
        # When nobody got it and nobody waits, the row itself records the first refusal.
        own = groups.pop(0) if not keep else None
        extra = [
            self._derived_row(row, reply, ids, f"#{reason}", now, "failed", reason)
            for reason, ids in groups
        ]
        if delivered and flow:
            at = now + timedelta(seconds=self.backoff(row.attempts + 1, throttled=True))
            extra.append(
                self._derived_row(
                    row, reply, flow, f"#flow{row.attempts}", at, "pending", "flowControlled"
                )
            )
        async with self.db.transaction() as session:
            repo = OutboxRepo(session)
            narrowed = keep or (own[1] if own else staff_ids)
            if narrowed != staff_ids:
                # In memory too: a give-up reads the row (bot.notices names its members).
                row.reply = to_members(reply, narrowed).model_dump_json()
                await repo.rewrite(row.id, row.reply)
            written = await repo.add_many(extra)
        if extra:
            self.wake()
        if notices.important(reply) is not None:
            # Refused for good for these members (not in the app's range, left the
            # organisation…): an important notice takes its next route at once.
            for derived in written:
                if derived.status == "failed":
                    refused_reply = parse_reply(derived.reply)
                    await self._important_given_up(
                        derived, refused_reply, DeliveryFailed(derived.last_error)
                    )
        if not delivered and flow:
            raise Throttled(f"batchSend flow-controlled {len(flow)} user(s)")
        if own is not None:
            raise DeliveryFailed(own[0], code="batchSend.refused")

    def _derived_row(
        self,
        row: OutboxMessage,
        reply: Reply,
        staff_ids: list[str],
        suffix: str,
        at: datetime,
        status: str,
        error: str,
    ) -> OutboxRow:
        """An outbox row for some of ``row``'s users (a part of a batchSend answer)."""
        return {
            "idem_key": f"{row.idem_key}{suffix}"[:200],
            "conversation_id": row.conversation_id,
            "conversation_type": "1",
            "reply": to_members(reply, staff_ids).model_dump_json(),
            "reply_staff_id": row.reply_staff_id,
            "session_webhook": "",
            "session_expires_at": None,
            "status": status,
            "attempts": 0,
            "next_attempt_at": at,
            "lease_until": None,
            "last_error": error,
            "route": row.route,  # keeps an erasure's scrub-after-delivery flag
            "created_at": at,
            "sent_at": None,
        }

    async def _reschedule(self, row: OutboxMessage, at: datetime) -> None:
        """Try again at ``at`` without counting an attempt (paced, or held behind another).
        A row whose lease lapsed meanwhile is left to whoever took it: the fault run found
        replies sent twice when a row another process had sent and marked was set back to
        pending here (its webhook blanked, so it went again through the group API)."""
        async with self.db.transaction() as session:
            await OutboxRepo(session).mark_retry(
                row.id, row.attempts, at, row.last_error, failed=False, held=row.lease_until
            )

    async def _failed_attempt(self, row: OutboxMessage, exc: PlatformError) -> datetime | None:
        """Count a failed attempt; the time of the next one, or None when given up."""
        attempts = row.attempts + 1
        if isinstance(exc, Unauthorised):
            self.api.invalidate_token()
        if isinstance(exc, Throttled):
            # Waited out while the reply is still useful (issue: 9 of 10 replies were lost
            # after five minutes of QpsLimit when throttling counted towards max_attempts).
            give_up = self.clock.now() - row.created_at >= self._horizon(row)
        else:
            give_up = not exc.retryable or attempts >= self.cfg.max_attempts
        if isinstance(exc, QuotaExhausted):
            await self._quota_exhausted(row)
            delay = self.cfg.backoff_max  # nothing comes back soon: the longest wait
        else:
            delay = self.backoff(attempts, throttled=isinstance(exc, Throttled))
        metrics.count_failed_send(exc, given_up=give_up)
        level = logging.ERROR if give_up else logging.WARNING
        log.log(
            level,
            "outbox %s (%s) attempt %d failed: %s%s",
            row.id,
            row.idem_key,
            attempts,
            exc,
            " - giving up" if give_up else f" - retry in {delay:.2f}s",
            extra=_fields(row, metrics.route_of(exc)),
        )
        at = utcnow() + timedelta(seconds=delay)
        async with self.db.transaction() as session:
            ours = await OutboxRepo(session).mark_retry(
                row.id, attempts, at, str(exc), failed=give_up, held=row.lease_until
            )
        if not ours:
            # The lease lapsed during the attempt and another sender has the row now.
            log.info("outbox %s: taken over by another sender during a failed attempt", row.id)
            return at
        if give_up:
            self.on_failure(
                Failure(
                    "delivery",
                    metrics.route_of(exc),
                    exc,
                    key=row.idem_key,
                    conversation=row.conversation_id,
                    member=row.reply_staff_id,
                    outbox_id=row.id,
                    detail=str(exc),
                )
            )
            await self._another_route(row, exc)
            self.wake()  # the replies waiting behind it (its order key) may go now
            return None
        asyncio.get_running_loop().call_later(delay, self.wake)
        return at

    def _horizon(self, row: OutboxMessage) -> timedelta:
        """How long throttling is waited out: a reply to a message, or a post or notice."""
        answers = bool(row.session_webhook) and row.conversation_type == "2"
        hours = self.cfg.throttled_reply_hours if answers else self.cfg.throttled_post_hours
        return timedelta(hours=hours)

    async def _another_route(self, row: OutboxMessage, exc: PlatformError) -> None:
        """A reply given up in the group goes to its member one to one (webhook, OpenAPI,
        then one to one); one given up one to one is left to operators, loudly."""
        metrics.ERRORS.labels(kind="reply_given_up").inc()
        try:
            reply = parse_reply(row.reply)
        except Exception:
            reply = None
        if reply is not None and (notices.important(reply) or notices.route_of(row.idem_key)):
            await self._important_given_up(row, reply, exc)
            return
        member = row.reply_staff_id
        if (
            reply is None
            or isinstance(reply, CardUpdate)
            or isinstance(reply.to, ToMembers)
            or row.conversation_type == "1"
            or not member
            # An encrypted senderId is not a userId: batchSend would refuse it (bot.events).
            or not is_staff_id(member)
        ):
            log.error(
                "outbox %s (%s) given up with no other route (%s): operators, please look",
                row.id,
                row.idem_key,
                exc,
                extra=_fields(row),
            )
            return
        derived = self._derived_row(
            row, reply, [member], "#o2o", utcnow(), "pending", f"group route gave up: {exc}"
        )
        derived["created_at"] = self.clock.now()  # a fresh horizon for the new route
        async with self.db.transaction() as session:
            await OutboxRepo(session).add_many([derived])
        log.error(
            "outbox %s (%s) given up in the group (%s); sent to its member one to one instead",
            row.id,
            row.idem_key,
            exc,
            extra=_fields(row),
        )
        self.wake()

    async def _important_given_up(
        self, row: OutboxMessage, reply: Reply, exc: PlatformError
    ) -> None:
        """An important notice given up on its route takes the next (bot.notices): one to
        one → its group, naming the members → the operators, with the members' names."""
        route = notices.route_of(row.idem_key)
        if route == "ops" or isinstance(reply, CardUpdate):
            log.error(
                "outbox %s (%s): the operators could not be told that a member missed an "
                "important notice (%s)",
                row.id,
                row.idem_key,
                exc,
                extra=_fields(row),
            )
            return
        why = f"{route or 'one-to-one'} route gave up: {exc}"
        now, new = utcnow(), None
        async with self.db.transaction() as session:
            members = MemberRepo(session)
            to = notices.important(reply)
            if to is not None and to.group:
                # One to one failed: one post in the group, naming (mentioning) them all.
                seen = await members.nicks(to.group, to.staff_ids)
                names = {s: seen.get(s) or notices.T.someone.zh for s in to.staff_ids}
                new = notices.group_row(
                    row.idem_key,
                    to,
                    names,
                    notices.notice_text(reply),
                    now,
                    why,
                    self._group_session(to.group),
                )
            else:
                # The group failed too (or the notice has no group): the operators.
                group = to.group if to is not None else row.conversation_id
                ids = to.staff_ids if to is not None else getattr(reply, "at_staff_ids", [])
                seen = await members.nicks(group, ids) if group else {}
                text = notices.notice_text(reply)
                if to is not None:  # no group: what the group would have read
                    text = notices.group_text(to, [seen.get(s, "") for s in ids], text)
                new = notices.ops_row(
                    row.idem_key,
                    ids[0] if len(ids) == 1 else "",
                    [seen.get(s) or notices.T.someone.zh for s in ids],
                    await members.title(group) if group else "",
                    text,
                    now,
                    why,
                    self.settings,
                )
            if new is not None:
                new["created_at"] = self.clock.now()  # a fresh horizon for the new route
                await OutboxRepo(session).add_many([new])
        log.error(
            "outbox %s (%s): an important notice given up (%s); %s",
            row.id,
            row.idem_key,
            exc,
            "trying the next route" if new is not None else "no operators to tell",
            extra=_fields(row),
        )
        self.wake()

    def _group_session(self, conversation_id: str) -> tuple[str, datetime] | None:
        """An open session webhook of the group (the one route with a real @mention)."""
        session = self._group_sessions.get(conversation_id)
        if session is None or session[1] - SESSION_MARGIN <= utcnow():
            return None
        return session

    async def _quota_exhausted(self, row: OutboxMessage) -> None:
        """Say once what ``ApiCountLimitForOrg`` means: in the log, and to an admin through a
        session webhook (which is not an OpenAPI call, so it still works) where one is open."""
        if self._quota_told:
            return
        self._quota_told = True
        self.on_failure(
            Failure(
                "quota",
                "OpenAPI",
                key=row.idem_key,
                outbox_id=row.id,
                detail="Forbidden.AccessDenied.ApiCountLimitForOrg",
            )
        )
        log.error(
            "DingTalk answered Forbidden.AccessDenied.ApiCountLimitForOrg: the organisation's "
            "monthly OpenAPI call quota is used up (10,000 calls a month on the standard "
            "edition). Group posts, one-to-one messages and cards fail until it renews next "
            "month or the organisation upgrades; replies through session webhooks still work. "
            "Retrying every %.0f s.",
            self.cfg.backoff_max,
        )
        now = utcnow()
        admins = set(self.settings.admins.staff_ids)
        candidates = [s for s in reversed(self._sessions.values()) if s[0] in admins]
        if row.session_webhook and row.session_expires_at:
            candidates.append((row.reply_staff_id, row.session_webhook, row.session_expires_at))
        for staff_id, url, expires in candidates:
            if expires - SESSION_MARGIN <= now:
                continue
            body = webhook_body("sampleText", {"content": QUOTA_NOTICE}, [])
            try:
                await self.api.webhook_send(url, body)
            except PlatformError as exc:
                log.warning("could not tell about the API quota through a session: %s", exc)
                continue
            log.info("told about the API quota through %s's session", staff_id)
            return

    def _remember_session(self, row: OutboxMessage) -> None:
        """Keep the newest open session webhook per member (to reach an admin without the
        OpenAPI when its quota is used up)."""
        if not row.session_webhook or row.session_expires_at is None:
            return
        if row.conversation_type == "2":  # a route into the group for bot.notices
            self._group_sessions.pop(row.conversation_id, None)
            self._group_sessions[row.conversation_id] = (
                row.session_webhook,
                row.session_expires_at,
            )
            if len(self._group_sessions) > 1000:
                self._group_sessions.pop(next(iter(self._group_sessions)))
        if not row.reply_staff_id:
            return
        self._sessions.pop(row.reply_staff_id, None)
        self._sessions[row.reply_staff_id] = (
            row.reply_staff_id,
            row.session_webhook,
            row.session_expires_at,
        )
        if len(self._sessions) > 1000:
            self._sessions.pop(next(iter(self._sessions)))

    def backoff(self, attempts: int, *, throttled: bool = False) -> float:
        """Exponential backoff with full jitter, capped; throttling starts a step higher."""
        step = attempts + (1 if throttled else 0)
        return jittered(step, initial=self.cfg.backoff_initial, cap=self.cfg.backoff_max)


def _fields(row: OutboxMessage, route: str = "") -> dict[str, object]:
    """The context of a log line about an outbox row (fields in JSON logs)."""
    return {
        "outbox_id": row.id,
        "key": row.idem_key,
        "conversation": row.conversation_id,
        "member": row.reply_staff_id,
        "route": route,
    }


class _Deferred(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"paced for {seconds:.2f}s")
        self.seconds = seconds


__all__ = ["Pace", "Sender", "as_message", "webhook_body"]
