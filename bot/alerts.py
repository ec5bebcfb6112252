"""One error path for handler, card-click, job and delivery failures.

Every failure the bot cannot settle itself goes to ``ErrorPath.report``: it is logged with its
context, counted in ``community_bot_errors_total{kind}``, and handed to the error handlers
(the shape of python-telegram-bot's ``add_error_handler`` and aiogram's ``router.errors``).
The default handler tells the operators one to one, rate-limited: the first failure of a kind
and place is told at once, repeats within ``ops.alert_interval_seconds`` are counted and told
as one summary when the interval is over (a job failing every minute is one message an hour).

Reporting never raises and never waits for the database: it may be called inside a unit of
work (SQLite has one writer), so the handlers run as tasks of their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import uuid4

from bot import metrics
from bot.context import JobContext
from bot.errors import Failure, FailureKind
from bot.i18n import Text
from bot.replies import TextReply, ToMembers
from bot.scheduler import in_own_unit

if TYPE_CHECKING:
    from bot.app import Application

log = logging.getLogger(__name__)

ALERT_KEY_PREFIX = "alert:"
FLUSH_JOB = "ops-alerts"
FLUSH_KEY_PREFIX = f"job:{FLUSH_JOB}:"  # the summaries the periodic job writes
# Delivery routes as operators know them.
ROUTE_NAMES = {
    "webhook": "会话内回复",
    "group": "群消息",
    "members": "私聊消息",
    "card": "卡片",
    "card_update": "卡片更新",
}


ErrorHandler = Callable[[Failure], Awaitable[None]]


class T:
    """What operators are told (Chinese first; the logs hold the technical detail)."""

    handler = Text(
        "【社区助手】处理命令「{where}」时出错，成员已收到致歉。详情见日志（编号 {key}）。",
        "[community bot] Handling the command '{where}' failed; the member got an apology. "
        "See the logs (ref {key}).",
    )
    click = Text(
        "【社区助手】处理卡片按钮「{where}」时出错，点击的成员已看到提示。详情见日志（编号 {key}）。",
        "[community bot] Handling the card button '{where}' failed; the member saw a notice. "
        "See the logs (ref {key}).",
    )
    job = Text(
        "【社区助手】定时任务「{where}」执行失败，下次照常重试。详情见日志。",
        "[community bot] The scheduled job '{where}' failed; it runs again as usual. See the logs.",
    )
    delivery = Text(
        "【社区助手】一条回复多次发送失败，已放弃（{where}）。详情见日志（编号 {key}）。",
        "[community bot] A reply could not be delivered and was given up ({where}). "
        "See the logs (ref {key}).",
    )
    quota = Text(
        "【社区助手】本月钉钉开放接口的调用次数已用完：群消息、私聊消息和卡片发不出去，"
        "会话内的直接回复不受影响。请在钉钉开放平台提升额度。",
        "[community bot] This month's DingTalk API call quota is spent: group posts, one-to-one "
        "messages and cards cannot be sent (direct replies still work). Raise the quota in "
        "the DingTalk developer console.",
    )
    summary = Text(
        "【社区助手】此后 {minutes} 分钟内，同样的问题（{what}）又发生了 {count} 次。",
        "[community bot] In the {minutes} minutes since, the same problem ({what}) happened "
        "{count} more times.",
    )


TEXTS: dict[FailureKind, Text] = {
    "handler": T.handler,
    "click": T.click,
    "job": T.job,
    "delivery": T.delivery,
    "quota": T.quota,
}


@dataclass(slots=True)
class _Window:
    """One kind of failure in one place: when it was last told, and what came since."""

    told_at: datetime
    first: Failure
    since: int = 0


@dataclass(slots=True)
class _State:
    windows: dict[tuple[str, str], _Window] = field(default_factory=dict)


class ErrorPath:
    """Where every failure goes; ``add_error_handler`` adds to (or, with ``replace``,
    takes over from) the default, which tells the operators."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self._handlers: list[ErrorHandler] = [self.tell_operators]
        self._state = _State()
        self._tasks: set[asyncio.Task[None]] = set()

    def add_error_handler(self, handler: ErrorHandler, *, replace: bool = False) -> None:
        """Call ``handler`` for every failure (after logging and counting)."""
        if replace:
            self._handlers = []
        self._handlers.append(handler)

    # -- reporting -----------------------------------------------------------------------

    def report(self, failure: Failure) -> None:
        """Log, count, and hand ``failure`` to the error handlers (in tasks of their own)."""
        metrics.ERRORS.labels(kind=failure.kind).inc()
        extra = {
            "key": failure.key,
            "conversation": failure.conversation,
            "member": failure.member,
            "outbox_id": failure.outbox_id,
        }
        log.error(  # the traceback was logged where it happened; this is the summary
            "%s failure in %s%s",
            failure.kind,
            failure.where,
            f": {failure.detail}" if failure.detail else "",
            extra=extra,
        )
        for handler in self._handlers:
            task = asyncio.get_running_loop().create_task(self._call(handler, failure))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _call(self, handler: ErrorHandler, failure: Failure) -> None:
        try:
            await handler(failure)
        except Exception:
            # An error handler that fails must not start a loop of reports.
            log.exception("error handler %r failed", getattr(handler, "__name__", handler))

    async def drain(self) -> None:
        """Wait for the handlers still running (tests, and a clean stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- the default handler: tell the operators, rate-limited ---------------------------

    def operators(self) -> list[str]:
        """Who is told: ``ops.alert_staff_ids``, else the configured admins."""
        ops = self.app.settings.ops.alert_staff_ids
        return list(ops if ops is not None else self.app.settings.admins.staff_ids)

    async def tell_operators(self, failure: Failure) -> None:
        """Tell the operators now, or count the failure into the current window."""
        if failure.key.startswith((ALERT_KEY_PREFIX, FLUSH_KEY_PREFIX)):
            return  # an alert that could not be delivered is logged and counted, not told
        now = self.app.clock.now()
        slot = (failure.kind, failure.where)
        window = self._state.windows.get(slot)
        if window is not None and now - window.told_at < self._interval:
            window.since += 1
            return
        texts = [self._summary(window, now)] if window is not None and window.since else []
        self._state.windows[slot] = _Window(told_at=now, first=failure)
        texts.append(self._text(failure))
        await self._send(texts, slot)

    async def flush(self, ctx: JobContext) -> None:
        """The periodic job: sum up the windows that are over and had repeats (written in
        the job's own unit of work)."""
        now = ctx.now
        for slot, window in list(self._state.windows.items()):
            if now - window.told_at < self._interval:
                continue
            del self._state.windows[slot]
            if window.since:
                reply = self._reply(self._summary(window, now))
                if reply is not None:
                    ctx.reply(reply)
                    metrics.ALERTS.labels("sent").inc()

    @property
    def _interval(self) -> timedelta:
        return timedelta(seconds=self.app.settings.ops.alert_interval_seconds)

    def _text(self, failure: Failure) -> str:
        return TEXTS[failure.kind].render(
            "zh", where=_where(failure), key=failure.outbox_id or failure.key or "-"
        )

    def _summary(self, window: _Window, now: datetime) -> str:
        minutes = max(1, round((now - window.told_at).total_seconds() / 60))
        what = TEXTS[window.first.kind].render("zh", where=_where(window.first), key="-")
        what = what.removeprefix("【社区助手】").split("，")[0].split("。")[0]
        return T.summary.render("zh", minutes=minutes, what=what, count=window.since)

    def _reply(self, text: str) -> TextReply | None:
        staff_ids = self.operators()
        if not staff_ids:
            log.warning("no operators to tell (set ops.alert_staff_ids or admins.staff_ids)")
            metrics.ALERTS.labels("nobody").inc()
            return None
        return TextReply(content=text, to=ToMembers(staff_ids=staff_ids))

    async def _send(self, texts: list[str], slot: tuple[str, str]) -> None:
        replies = [r for r in (self._reply(text) for text in texts) if r is not None]
        if not replies:
            return
        key = f"{ALERT_KEY_PREFIX}{slot[0]}:{slot[1][:60]}:{uuid4().hex}"

        async def tell(ctx: JobContext) -> None:
            for reply in replies:
                ctx.reply(reply)

        rows = await in_own_unit(self.app, FLUSH_JOB, key, tell)
        metrics.ALERTS.labels("sent").inc(len(replies))
        self.app.sender.hand_over(rows)


def _where(failure: Failure) -> str:
    if failure.kind == "delivery":
        return ROUTE_NAMES.get(failure.where, "发送")
    return failure.where
