"""Health and metrics over HTTP: ``/livez``, ``/readyz`` and ``/metrics``, in the bot's loop.

aiohttp serves them on ``[ops] listen``; each handler awaits (database queries, a WebSocket
ping) and never blocks the loop, so a scrape during a burst costs the bot nothing but the
queries themselves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot import metrics
from bot.clock import utcnow
from bot.config import Settings
from storage.db import Database
from storage.ops import backlog

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Probes:
    """What readiness asks of the rest of the bot."""

    stream_connected: Callable[[], bool]
    stream_ping: Callable[[], Awaitable[bool]]


class OpsServer:
    """The health and metrics endpoints of one bot process."""

    def __init__(self, settings: Settings, db: Database, probes: Probes) -> None:
        self.settings = settings
        self.db = db
        self.probes = probes
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        """Listen on ``[ops] listen``; a port that is taken is logged, not fatal (the bot
        still serves members; the orchestrator's probe will say the endpoint is missing)."""
        where = self.settings.ops.host_port
        if where is None:
            return
        host, port = where
        app = web.Application()
        app.router.add_get("/livez", self._livez)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            log.error("ops endpoints off: cannot listen on %s:%s (%s)", host, port, exc.strerror)
            await runner.cleanup()
            return
        self._runner = runner
        addresses = runner.addresses
        self.port = int(addresses[0][1]) if addresses else port
        log.info("health and metrics on http://%s:%s/", host, self.port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _livez(self, request: web.Request) -> web.Response:
        # Answering at all proves the event loop runs.
        return web.Response(text="ok\n")

    async def _readyz(self, request: web.Request) -> web.Response:
        reasons = await self.not_ready()
        if reasons:
            return web.Response(status=503, text="not ready: " + "; ".join(reasons) + "\n")
        return web.Response(text="ready\n")

    async def not_ready(self) -> list[str]:
        """Why this process should not get traffic now; empty when it is ready."""
        timeout = self.settings.ops.ready_timeout
        reasons: list[str] = []
        if not self.probes.stream_connected():
            reasons.append("stream not connected")
        else:
            try:
                async with asyncio.timeout(timeout):
                    answered = await self.probes.stream_ping()
            except TimeoutError:
                answered = False
            if not answered:
                reasons.append(f"stream gave no pong within {timeout:g}s")
        try:
            await asyncio.wait_for(self._refresh(), timeout)
        except Exception as exc:
            reasons.append(f"database does not answer ({type(exc).__name__})")
        return reasons

    async def _refresh(self) -> None:
        async with self.db.transaction() as session:
            stats = await backlog(session, utcnow())
        metrics.INBOX_BACKLOG.set(stats.inbox_backlog)
        metrics.OUTBOX_PENDING.set(stats.outbox_pending)
        metrics.OUTBOX_OLDEST.set(stats.outbox_oldest_seconds)

    async def _metrics(self, request: web.Request) -> web.Response:
        try:
            await asyncio.wait_for(self._refresh(), self.settings.ops.ready_timeout)
        except Exception as exc:
            # The counters are still worth having; the stale gauges show the last reading.
            log.warning("metrics: database gauges not refreshed (%s)", type(exc).__name__)
        metrics.STREAM_UP.set(1 if self.probes.stream_connected() else 0)
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})
