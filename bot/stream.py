"""The platform edge: the only module that imports ``dingtalk_stream``.

The SDK's frame classes and handlers parse frames and build acks; this module replaces the
SDK's connection loop (which sleeps 10 s after a drop and never notices a half-open socket)
with one that reconnects at once, backs off with jitter while the gateway refuses, and lets
WebSocket keepalive pings expose dead sockets. Each callback is recorded durably before its
ack is sent; processing happens afterwards, from the inbox.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import dingtalk_stream
import httpx
from dingtalk_stream.frames import AckMessage, CallbackMessage, SystemMessage

# Imported by name: ``websockets.exceptions`` is not an attribute of the package until some
# submodule has imported it, and referring to it in an ``except`` clause of a fresh
# interpreter killed the connection loop with an AttributeError (issue 11).
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from bot import __version__, metrics
from bot.backoff import jittered
from bot.batching import one_turn
from bot.config import Settings
from bot.events import BOT_MESSAGE_TOPIC, CARD_CALLBACK_TOPIC
from bot.http import make_client, proxy_config
from bot.stream_errors import (
    GatewayRefused,
    StreamCheckFailed,
    local_ip,
    network_cause,
    ticket_url,
    without_credentials,
    ws_brief,
)
from storage.db import is_transient

log = logging.getLogger(__name__)

Recorder = Callable[[str, dict[str, Any], str], Awaitable[int | None]]
Clicker = Callable[[dict[str, Any], str], Awaitable[dict[str, Any]]]


def _db_brief(exc: BaseException) -> str:
    """A database error in one short line (the driver's message, not SQLAlchemy's dump)."""
    inner = getattr(exc, "orig", None) or exc
    return f"{type(inner).__name__}: {str(inner).splitlines()[0][:200] if str(inner) else ''}"


# Pushes are recorded again when none has failed for this long.
RECOVERED_AFTER = 5.0

# A burst (hundreds of frames in one read after a pause) is taken in hand a part at a time.
# At most FRAMES_IN_HAND frames are being handled at once, each a task (~11 KB while it
# waits for its record or its click's batch); the others wait as the text they came as
# (~2 KB). Enough for the batches behind them to stay full: the inbox records 64 a
# transaction (bot.inbox.RECORD_BATCH) and the card clicks 128 (bot.clicks); with 64 in
# hand a storm of 1,000 clicks cost 0.40-0.45 ms of CPU a click instead of 0.28-0.38.
FRAMES_IN_HAND = 256
# Frames started in one turn of the loop: each first step (parse, hand to the recorder or
# to the click batch) is ~50 us, so 64 of them are ~3 ms; before, a read of ~250 frames
# started them all in one turn (12-21 ms).
FRAMES_PER_TURN = 64
# Frames read from the socket between two whole turns of the loop: the reader never waits
# on the frames in hand, but it lets the loop turn, so the frames started, acks and timers
# get in between. It must keep reading: websockets answers a peer's Ping with a Pong and
# matches our keepalive's Pongs as the bytes arrive (``Connection.data_received``; the FAQ
# "How do I respond to pings?": "websockets takes care of responding to pings with pongs";
# websockets/protocol.py, RFC 6455 5.5.2), but it stops reading the socket while more than
# ``max_queue`` (16) messages wait unread (``pause_reading`` until 4 are left; asyncio client
# reference, ``max_queue``). A reader that waited for room in hand would leave Pongs unread
# and the keepalive would drop the connection (tests/scenario/test_stream_burst.py).
READ_TURN = 64

# A metric's child per label value, looked up once: ``labels()`` hashes and validates its
# arguments under a lock on every call, three times a frame, which a storm of 1,000 clicks
# felt. Only the frame types and topics seen are kept (the types cut to 20 characters, as
# the metric's label values always were).
_CHILDREN: dict[tuple[int, str], Any] = {}


def _child(metric: Any, label: str) -> Any:
    """``metric.labels(label)`` (prometheus_client's public API), remembered."""
    key = (id(metric), label)
    child = _CHILDREN.get(key)
    if child is None:
        child = _CHILDREN[key] = metric.labels(label)
    return child


class _MessageHandler(dingtalk_stream.CallbackHandler):  # type: ignore[misc]
    """Robot messages: record in the inbox, then ack; the dispatcher works from the inbox."""

    def __init__(self, record: Recorder, recorded: Callable[[int], None]) -> None:
        super().__init__()
        self._record = record
        self._recorded = recorded

    async def process(self, message: CallbackMessage) -> tuple[int, str]:
        data = message.data if isinstance(message.data, dict) else {}
        event_id = await self._record(BOT_MESSAGE_TOPIC, data, message.headers.message_id or "")
        if event_id is None:
            metrics.DUPLICATES.inc()
            log.info("duplicate push msgId=%s acked and dropped", data.get("msgId"))
        else:
            self._recorded(event_id)
        return AckMessage.STATUS_OK, "OK"


class _CardHandler(dingtalk_stream.CallbackHandler):  # type: ignore[misc]
    """Card clicks: handled inside the ack so the card updates within DingTalk's 2 s."""

    def __init__(self, click: Clicker) -> None:
        super().__init__()
        self._click = click

    async def process(self, message: CallbackMessage) -> tuple[int, dict[str, Any]]:
        data = message.data if isinstance(message.data, dict) else {}
        response = await self._click(data, message.headers.message_id or "")
        return AckMessage.STATUS_OK, response


class StreamEdge(dingtalk_stream.DingTalkStreamClient):  # type: ignore[misc]
    """A stream-mode connection that records every push before acknowledging it."""

    def __init__(
        self,
        settings: Settings,
        *,
        record: Recorder,
        recorded: Callable[[int], None],
        click: Clicker,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        cfg = settings.dingtalk
        super().__init__(
            dingtalk_stream.Credential(cfg.client_id, cfg.client_secret.get_secret_value()),
            logger=logging.getLogger("dingtalk_stream.client"),
        )
        self.settings = settings
        self.register_callback_handler(BOT_MESSAGE_TOPIC, _MessageHandler(record, recorded))
        self.register_callback_handler(CARD_CALLBACK_TOPIC, _CardHandler(click))
        self._owns_http = http is None
        self._http = http or make_client(settings)
        # The WebSocket goes through the same proxy as the HTTP calls (stream FAQ: the
        # gateway is wss-open-connection.dingtalk.com:443; websockets >= 15 speaks CONNECT).
        self._proxy = proxy_config(settings.network.proxy, settings.network.no_proxy)
        self._frames: set[asyncio.Task[None]] = set()  # in hand (at most FRAMES_IN_HAND)
        # Read, not yet in hand: (socket, text). Their acks go out on the socket they came on.
        self._waiting: deque[tuple[Any, str | bytes]] = deque()
        self._taking: asyncio.Handle | None = None  # the next turn's _take_frames
        self._ws: Any = None
        self.connected = asyncio.Event()
        self.connections = 0
        self._announced = False
        # Pushes left unacked since the database stopped taking them (disk full, restarting):
        # said in one line when it starts and one when it ends, not a traceback per frame.
        self.unrecorded = 0
        self._last_unrecorded = 0.0
        self._recovery: asyncio.TimerHandle | None = None

    # -- the connection loop ----------------------------------------------------------------

    async def run(self) -> None:
        """Connect, read frames, and reconnect at once when the socket goes away."""
        self.pre_start()
        failures = 0
        cfg = self.settings.stream
        while True:
            try:
                uri = await self._open()
                async with ws_connect(
                    uri,
                    ping_interval=cfg.ping_interval,
                    ping_timeout=cfg.ping_timeout,
                    close_timeout=1,
                    proxy=self._proxy.for_url(uri),
                    max_size=4 * 1024 * 1024,
                    compression=None,
                ) as ws:
                    failures = 0
                    self._ws = ws
                    self.connections += 1
                    metrics.RECONNECTS.inc()
                    self.connected.set()
                    log.info("stream connected (connection #%d)", self.connections)
                    read = 0
                    async for raw in ws:
                        self._waiting.append((ws, raw))
                        self._take_soon()
                        read += 1
                        if read % READ_TURN == 0:
                            await one_turn()
                log.info("stream closed by the server; reconnecting")
            except asyncio.CancelledError:
                raise
            except GatewayRefused as exc:
                failures += 1
                delay = self._backoff(failures)
                log.log(exc.level, "%s; retry in %.1fs", exc, delay)
                self.connected.clear()
                await asyncio.sleep(delay)
                continue
            except (OSError, WebSocketException) as exc:
                failures += 1
                delay = self._backoff(failures)
                log.warning("stream connection failed (%s); retry in %.1fs", ws_brief(exc), delay)
                self.connected.clear()
                await asyncio.sleep(delay)
                continue
            except Exception:
                failures += 1
                delay = self._backoff(failures)
                log.exception("unexpected stream error; retry in %.2fs", delay)
                self.connected.clear()
                await asyncio.sleep(delay)
                continue
            finally:
                self._ws = None
            self.connected.clear()

    def _backoff(self, failures: int) -> float:
        cfg = self.settings.stream
        return jittered(failures, initial=cfg.backoff_initial, cap=cfg.backoff_max)

    async def _open(self) -> str:
        """Ask the gateway for an endpoint and a single-use ticket.

        Raises:
            GatewayRefused: with one line that says what went wrong and what to check.
        """
        cfg = self.settings.dingtalk
        topics = [{"type": "CALLBACK", "topic": t} for t in self.callback_handler_map]
        url = cfg.openapi_endpoint + "/v1.0/gateway/connections/open"
        if self.connections == 0 and not self._announced:
            self._announced = True
            proxy = self._proxy.for_url(url)
            log.info(
                "connecting to DingTalk stream at %s as client_id %s (%s)",
                url,
                cfg.client_id,
                f"through proxy {without_credentials(proxy)}" if proxy else "no proxy",
            )
        try:
            response = await self._http.post(
                url,
                json={
                    "clientId": cfg.client_id,
                    "clientSecret": cfg.client_secret.get_secret_value(),
                    "subscriptions": topics,
                    "ua": f"community-bot/{__version__} dingtalk-stream-python",
                    "localIp": local_ip(),
                },
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise GatewayRefused(
                f"cannot reach DingTalk at {cfg.openapi_endpoint}: {network_cause(exc)}"
                " (check the network, DNS and [network] proxy)"
            ) from exc
        return ticket_url(url, response)

    # -- frames -------------------------------------------------------------------------------

    @property
    def in_hand(self) -> int:
        """Frames being handled now (each a task); the rest of a burst waits as text."""
        return len(self._frames)

    @property
    def waiting(self) -> int:
        """Frames read from the socket and not yet in hand."""
        return len(self._waiting)

    def _take_soon(self) -> None:
        """Have waiting frames taken in hand in the loop's next turn (once per turn)."""
        if self._taking is None:
            self._taking = asyncio.get_running_loop().call_soon(self._take_frames)

    def _take_frames(self) -> None:
        """Start handling waiting frames, in the order they came: up to FRAMES_PER_TURN in
        this turn, and FRAMES_IN_HAND at once; the rest in the next turns.

        Each starts as a task whose first step (parse, hand to the recorder) runs in the
        loop's next turn; a frame done makes room for the next (``_frame_done``).
        """
        self._taking = None
        started = 0
        while self._waiting and len(self._frames) < FRAMES_IN_HAND:
            if started == FRAMES_PER_TURN:
                self._take_soon()
                return
            ws, raw = self._waiting.popleft()
            task = asyncio.create_task(self._on_frame(ws, raw))
            self._frames.add(task)
            task.add_done_callback(self._frame_done)
            started += 1

    def _frame_done(self, task: asyncio.Task[None]) -> None:
        self._frames.discard(task)
        if self._waiting:
            self._take_soon()

    async def _on_frame(self, ws: Any, raw: str | bytes) -> None:
        started = time.perf_counter()
        try:
            frame = json.loads(raw)
        except ValueError:
            log.warning("unreadable frame dropped (it has no id to acknowledge)")
            return
        if not isinstance(frame, dict):
            log.warning("frame that is not a JSON object dropped")
            return
        headers = frame.get("headers")
        message_id = headers.get("messageId") if isinstance(headers, dict) else None
        kind = frame.get("type", "")
        _child(metrics.FRAMES, str(kind)[:20]).inc()
        try:
            if kind == SystemMessage.TYPE:
                msg = SystemMessage.from_dict(frame)
                ack = await self.system_handler.raw_process(msg)
                await self._send_ack(ws, ack)
                if msg.headers.topic == SystemMessage.TOPIC_DISCONNECT:
                    log.info("server asked us to reconnect")
                    await ws.close()
                return
            if kind == CallbackMessage.TYPE:
                try:
                    msg = CallbackMessage.from_dict(frame)
                except (ValueError, TypeError, AttributeError):
                    msg = None
                handler = (
                    self.callback_handler_map.get(msg.headers.topic) if msg is not None else None
                )
                if msg is None or handler is None or not isinstance(msg.data, dict):
                    log.warning("callback frame %s unreadable or unsubscribed", message_id)
                    await self._ack_garbage(ws, message_id)
                    return
                ack = await handler.raw_process(msg)
                if self.unrecorded and self._recovery is None:
                    self._recovery = asyncio.get_running_loop().call_later(
                        RECOVERED_AFTER, self._recovered
                    )
                if await self._send_ack(ws, ack):
                    topic = msg.headers.topic
                    _child(metrics.ACKS, topic).inc()
                    _child(metrics.ACK_LATENCY, topic).observe(time.perf_counter() - started)
                return
            log.warning("frame %s of unknown type %r acked and ignored", message_id, kind)
            await self._ack_garbage(ws, message_id)
        except Exception as exc:
            # Not acked: recording failed (the database), DingTalk pushes it again and the
            # inbox makes that harmless. Pushes that can never be stored are acked by the
            # recorder as dead letters, so only a transient failure lands here.
            if not is_transient(exc):
                log.exception("frame %s not acknowledged", message_id)
                return
            self.unrecorded += 1
            self._last_unrecorded = time.monotonic()
            if self.unrecorded == 1:
                log.error(
                    "the database cannot record pushes (%s): leaving them unacked for DingTalk"
                    " to push again, and staying connected; free the space or bring the"
                    " database back and they are taken in by themselves",
                    _db_brief(exc),
                )

    def _recovered(self) -> None:
        """Say once that pushes are recorded again, when none has failed for a while (a disk
        that is nearly full lets some through: that is not the end of it)."""
        self._recovery = None
        if not self.unrecorded:
            return
        if time.monotonic() - self._last_unrecorded < RECOVERED_AFTER:
            self._recovery = asyncio.get_running_loop().call_later(RECOVERED_AFTER, self._recovered)
            return
        log.warning(
            "the database takes pushes again (%d were left unacked meanwhile; DingTalk"
            " pushes them again)",
            self.unrecorded,
        )
        self.unrecorded = 0

    async def _ack_garbage(self, ws: Any, message_id: Any) -> None:
        """Acknowledge a frame nobody can handle: DingTalk redelivers every unacked callback,
        ignored ones included, so garbage would come back forever (ragflow PR #16183 review:
        "you must acknowledge every received event ... to prevent redelivering")."""
        if not isinstance(message_id, str) or not message_id:
            return
        ack = AckMessage()
        ack.code = AckMessage.STATUS_OK
        ack.headers.message_id = message_id
        ack.headers.content_type = "application/json"
        ack.message = "OK"
        ack.data = {"response": None}
        await self._send_ack(ws, ack)

    async def _send_ack(self, ws: Any, ack: AckMessage) -> bool:
        try:
            await ws.send(json.dumps(ack.to_dict(), ensure_ascii=False))
        except ConnectionClosed:
            log.info(
                "socket closed before ack %s; the push will be redelivered", ack.headers.message_id
            )
            return False
        return True

    async def ping(self) -> bool:
        """Whether the gateway answers a WebSocket ping (for /readyz; the caller times it)."""
        ws = self._ws
        if ws is None:
            return False
        try:
            pong = await ws.ping()
            await pong
        except ConnectionClosed:
            return False
        return True

    async def check(self) -> None:
        """Open one stream connection and close it again (``community-bot check``).

        Raises:
            StreamCheckFailed: with one line saying what went wrong.
        """
        try:
            uri = await self._open()
            async with ws_connect(uri, close_timeout=1, proxy=None, compression=None):
                pass
        except GatewayRefused as exc:
            raise StreamCheckFailed(str(exc)) from None
        except (OSError, WebSocketException) as exc:
            raise StreamCheckFailed(f"the stream WebSocket did not open: {ws_brief(exc)}") from None
        finally:
            await self._http.aclose()

    async def aclose(self) -> None:
        """Close the socket and wait for the frames read: those in hand and those waiting are
        all recorded (their acks may not get out: DingTalk pushes them again, and the inbox
        drops the copies)."""
        if self._ws is not None:
            await self._ws.close()
        while self._frames or self._waiting:
            if self._frames:
                await asyncio.gather(*self._frames, return_exceptions=True)
            else:
                self._take_soon()
                await one_turn()
        if self._owns_http:
            await self._http.aclose()


__all__ = ["GatewayRefused", "StreamCheckFailed", "StreamEdge"]
