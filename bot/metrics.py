"""Prometheus metrics of one bot process (``prometheus-client``), served on ``/metrics``.

The counters and histograms are module-level, as prometheus-client intends: a process has
one set, and the modules that do the work call them directly (a metrics call is about a
microsecond). The gauges read from the database (inbox backlog, outbox pending and the age
of the oldest pending row) are refreshed by the ``/metrics`` handler just before it
renders, with an async query, so a scrape never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, generate_latest

from bot.errors import Throttled

PREFIX = "community_bot"

# Latencies of this bot run from about a millisecond (an ack) to seconds (a throttled send).
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)

FRAMES = Counter(f"{PREFIX}_frames_received", "Stream frames received, by type.", ["type"])
DUPLICATES = Counter(
    f"{PREFIX}_duplicates_dropped", "Robot messages pushed again (same msgId): acked, dropped."
)
ACKS = Counter(f"{PREFIX}_acks", "Acks sent on the stream, by topic.", ["topic"])
RECONNECTS = Counter(
    f"{PREFIX}_stream_connections",
    "Stream connections opened (each after the first is a reconnect).",
)
REPLIES = Counter(
    f"{PREFIX}_replies",
    "Outbox rows by the route they went by and the outcome of the attempt "
    "(sent, retry, throttled, deferred, given_up).",
    ["route", "outcome"],
)
DINGTALK_ERRORS = Counter(
    f"{PREFIX}_dingtalk_errors", "Error codes DingTalk answered with.", ["code"]
)
ERRORS = Counter(f"{PREFIX}_errors", "Failures through the one error path, by kind.", ["kind"])
ALERTS = Counter(
    f"{PREFIX}_alerts", "Messages to operators about failures, by what happened to them.", ["how"]
)
ACK_LATENCY = Histogram(
    f"{PREFIX}_ack_latency_seconds",
    "From a callback frame read to its ack written.",
    ["topic"],
    buckets=_BUCKETS,
)
CLICK_LATENCY = Histogram(
    f"{PREFIX}_card_click_latency_seconds", "Handling one card click.", buckets=_BUCKETS
)
SEND_LATENCY = Histogram(
    f"{PREFIX}_send_latency_seconds", "One delivery attempt to DingTalk.", buckets=_BUCKETS
)
JOB_LATENCY = Histogram(
    f"{PREFIX}_job_latency_seconds", "One run of a scheduled job.", ["job"], buckets=_BUCKETS
)
LOOP_LAG = Gauge(
    f"{PREFIX}_event_loop_lag_seconds", "How late the event loop woke a timer, latest sample."
)
LOOP_LAG_MAX = Gauge(
    f"{PREFIX}_event_loop_lag_max_seconds", "The worst event-loop lag since the last scrape."
)
INBOX_BACKLOG = Gauge(f"{PREFIX}_inbox_backlog", "Recorded pushes not yet processed.")
OUTBOX_PENDING = Gauge(f"{PREFIX}_outbox_pending", "Replies waiting to be delivered.")
OUTBOX_OLDEST = Gauge(
    f"{PREFIX}_outbox_oldest_pending_seconds", "Age of the oldest reply waiting to be delivered."
)
STREAM_UP = Gauge(f"{PREFIX}_stream_connected", "1 while the stream connection is open.")


# Where a failed call was going, read from the path its error names (bot/openapi.py).
_ROUTES = (
    ("webhook", "webhook"),
    ("groupMessages", "group"),
    ("oToMessages", "members"),
    ("createAndDeliver", "card"),
    ("card/instances", "card_update"),
)


def route_of(error: Exception) -> str:
    """The route a failed delivery attempt took, as far as its error tells."""
    text = str(error)
    return next((route for needle, route in _ROUTES if needle in text), "other")


def count_failed_send(error: Exception, *, given_up: bool) -> None:
    """Count a failed delivery attempt: throttled, retried, or given up."""
    if given_up:
        outcome = "given_up"
    elif isinstance(error, Throttled):
        outcome = "throttled"
    else:
        outcome = "retry"
    REPLIES.labels(route_of(error), outcome).inc()


@contextlib.contextmanager
def timed(histogram: Histogram, *labels: str) -> Iterator[None]:
    """Observe the block's duration in ``histogram`` (with ``labels`` when it has any)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        target = histogram.labels(*labels) if labels else histogram
        target.observe(time.perf_counter() - started)


class _Worst:
    """The worst loop lag since the last scrape (a gauge alone would show the latest only)."""

    value = 0.0


def render() -> bytes:
    """The text exposition of every metric of this process."""
    LOOP_LAG_MAX.set(_Worst.value)
    _Worst.value = 0.0
    return generate_latest(REGISTRY)


async def watch_loop_lag(interval: float = 0.25) -> None:
    """Sample how late the loop wakes a timer: a blocked loop shows here first."""
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(interval)
        lag = max(0.0, loop.time() - started - interval)
        LOOP_LAG.set(lag)
        _Worst.value = max(_Worst.value, lag)
