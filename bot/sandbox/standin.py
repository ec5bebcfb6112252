"""A local stand-in for the DingTalk open platform, speaking the real wire protocol.

It serves ``/v1.0/gateway/connections/open`` (single-use tickets), the stream WebSocket
(frames, acks, SYSTEM pings and ``disconnect``), access tokens, session webhooks with expiry,
group and one-to-one sends, card ``createAndDeliver`` / update, and pushes robot messages
and card clicks. It records what the bot sent and can inject faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
import secrets
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

BOT_TOPIC = "/v1.0/im/bot/messages/get"
CARD_TOPIC = "/v1.0/card/instances/callback"
TICKET_TTL = 90.0
TOKEN_TTL = 7200
# 创建并投放卡片 / 更新卡片: cardParamMap key "最长不超过100B", value "最长不超过1KB".
CARD_KEY_MAX = 100
CARD_VALUE_MAX = 1024
# help.dingtalk.io group send: msgParam at most about 15,000 bytes (one to one too).
MSG_PARAM_MAX = 15000
# 上传媒体文件 (help.dingtalk.io upload-media-files): type image, "Maximum size is 20 MB.
# Supported formats: jpg, gif, png, bmp"; multipart field "media". Errors come inside HTTP
# 200 as errcode. The numbers (40004 不合法的媒体文件类型, 40005 不合法的文件类型, 40006 不合法的
# 文件大小, 40014 不合法的access_token) are the WeChat-family global table's, which the older
# DingTalk API mirrors; no DingTalk-published table was found (see bot.openapi._legacy), so
# tests assert only that each refusal is one, by these codes.
MEDIA_MAX = 20 * 1024 * 1024
# Type "file" (same page): "doc, docx, xls, xlsx, ppt, pptx, zip, pdf, rar", at most 20 MB; a
# robot's file message is sampleFile {"mediaId", "fileName", "fileType"} (机器人发送消息的类型).
FILE_TYPES = frozenset({"doc", "docx", "xls", "xlsx", "ppt", "pptx", "zip", "pdf", "rar"})
# 下载机器人接收消息的文件内容 (robot_1_0 RobotMessageFileDownloadRequest: downloadCode,
# robotCode → downloadUrl, a temporary link). The code is short-lived and only the robot that
# received the message may use it; the platform's error codes for an unknown or expired code
# are not documented, so ``param.invalid`` (HTTP 400) is our choice. How long a code and a
# link live is not documented either: an hour and five minutes here.
DOWNLOAD_CODE_TTL = 3600.0
DOWNLOAD_LINK_TTL = 300.0
IMAGE_MAGIC = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg", b"GIF8": "gif", b"BM": "bmp"}
# A literal mention: '@' not broken by bot.safety's zero-width space, followed by a name.
_LITERAL_AT = re.compile(r"[@＠](?!\u200b)[^\s@＠]")
HTML_BAN_PAGE = (
    "<!DOCTYPE html><html><head><title>访问受限</title></head>"
    "<body>您的访问过于频繁，请稍后再试。</body></html>"
)


@dataclass
class Faults:
    """Faults to inject; counters apply to the sending APIs (webhook, group, o2o, cards)."""

    duplicate_pushes: bool = False
    refuse_opens: int = 0
    throttle_every: int = 0
    throttle_paths: frozenset[str] = frozenset()  # these APIs are throttled on every call
    server_error_every: int = 0
    expire_token_every: int = 0
    expire_sessions: bool = False
    hold_sends: asyncio.Event | None = None
    redeliver_after: float = 60.0
    # Card platform: templates that do not exist / are not published (创建并投放卡片 errors),
    # and cards created but not delivered (deliverResults[].success false inside HTTP 200).
    missing_templates: set[str] = field(default_factory=set)
    unpublished_templates: set[str] = field(default_factory=set)
    undeliverable_cards: bool = False
    # batchSend answers 200 but lists users (robot_1_0 BatchSendOTOResponseBody).
    invalid_users: set[str] = field(default_factory=set)
    filtered_users: set[str] = field(default_factory=set)
    flow_control_once: set[str] = field(default_factory=set)
    # The organisation's monthly quota is used up (every OpenAPI call but tokens refused).
    quota_exhausted: bool = False
    # The next N OpenAPI or webhook sends answer an HTML page (the per-IP ban).
    html_ban: int = 0
    html_ban_status: int = 200
    slow_answers: float = 0.0  # seconds between delivering a message and answering the send
    # Calls a second one OpenAPI takes from the app before answering
    # Forbidden.AccessDenied.QpsLimitForAppkeyAndApi (about 20: DINGTALK.md "Errors and
    # limits"); 0: not enforced.
    api_qps: float = 0.0


@dataclass
class Sent:
    """Something the bot delivered, as the platform accepted it."""

    route: str  # webhook | group | o2o | card | card_update
    conversation_id: str
    msg_key: str
    param: dict[str, Any]
    user_ids: list[str] = field(default_factory=list)
    at_ids: list[str] = field(default_factory=list)
    out_track_id: str = ""
    at: float = field(default_factory=time.monotonic)
    in_reply_to: str = ""  # the msgId whose session webhook carried it

    @property
    def text(self) -> str:
        """The visible text (content, markdown text, or the card's data)."""
        for key in ("content", "text"):
            value = self.param.get(key)
            if isinstance(value, str):
                return value
        return json.dumps(self.param, ensure_ascii=False)


@dataclass
class Card:
    """A delivered card: template, public data, and each member's private data."""

    out_track_id: str
    template_id: str
    space_id: str
    data: dict[str, str]
    private: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class Session:
    """A session webhook handed out with a pushed message."""

    conversation_id: str
    conversation_type: str
    sender: str
    expires_at_ms: int
    msg_id: str = ""


@dataclass
class Push:
    """The result of one pushed frame."""

    message_id: str
    data: dict[str, Any]
    ack: dict[str, Any] | None
    latency: float | None


class _Conn:
    def __init__(self, ws: web.WebSocketResponse, conn_id: str) -> None:
        self.ws = ws
        self.id = conn_id
        self.alive = True
        self.frozen = False  # half-open: no frames, no pongs


class StandIn:
    """The stand-in server; ``await start()``, then point the bot at ``url``."""

    def __init__(
        self,
        *,
        client_id: str = "ding-sandbox-app",
        client_secret: str = "sandbox-secret",
        corp_id: str = "ding-sandbox-corp",
        host: str = "127.0.0.1",
        port: int = 0,
        ping_interval: float | None = None,
        disconnect_grace: float = 10.0,
        robot_name: str = "社区助手",
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.corp_id = corp_id
        self.host = host
        self.port = port
        self.ping_interval = ping_interval
        self.disconnect_grace = disconnect_grace
        self.robot_name = robot_name
        self.faults = Faults()
        self.sent: list[Sent] = []
        self.rejected: list[tuple[str, str]] = []
        # What the real platform would accept but silently get wrong: literal "@id" text in
        # groupMessages/send or batchSend shows as plain text and notifies nobody
        # (dingtalk-stream-sdk-go #19; openclaw-connector #402). Tests assert this stays empty.
        self.violations: list[tuple[str, str]] = []
        self._flow_controlled: set[str] = set()
        # Every body the bot sent to a sending API, as it arrived (path, JSON).
        self.requests: list[tuple[str, Any]] = []
        self.cards: dict[str, Card] = {}
        self.sessions: dict[str, Session] = {}
        self.connections: list[_Conn] = []
        self.opens = 0
        self.refused_opens = 0  # connections/open refused for bad credentials
        self.holding = 0  # send requests waiting on faults.hold_sends
        self.listeners: list[Callable[[Sent], None]] = []
        self._tickets: dict[str, float] = {}
        self._tokens: dict[str, float] = {}
        self._legacy_tokens: dict[str, float] = {}
        # Uploaded pictures and files by media id: (bytes, content type as sent, file name).
        self.media: dict[str, tuple[bytes, str, str]] = {}
        self.media_kinds: dict[str, str] = {}  # media id -> "image" | "file"
        # Files members sent the robot, by download code: (bytes, content type, expiry);
        # and the temporary links handed out for them: token → (download code, expiry).
        self.files: dict[str, tuple[bytes, str, float]] = {}
        self._links: dict[str, tuple[str, float]] = {}
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._changed = asyncio.Condition()
        self._send_calls = 0
        # When each authorised OpenAPI call arrived (monotonic), by path.
        self.api_calls: dict[str, list[float]] = {}
        self._authed_calls = 0
        self._rr = itertools.count()
        # Pushes sent on each connection (by connection id): round robin over the live
        # ones, as DingTalk gives each push to one of an app's connections.
        self.pushes_by_connection: dict[str, int] = {}
        self._msg_seq = itertools.count(1)
        self._runner: web.AppRunner | None = None
        # The stream gateway on a port of its own (``separate_gateway``), so it can go away
        # while the OpenAPI keeps answering: TCP connections to it are then refused.
        self.gateway_port = 0
        self._gateway: web.TCPSite | None = None
        self.gateway_refusals = 0  # connections/open answered while the gateway was away
        # How long a push waits for a live connection (DingTalk keeps an app's pushes while
        # none is connected).
        self.push_wait = 10.0
        self._tasks: set[asyncio.Task[Any]] = set()
        self.url = ""

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> str:
        """Listen on loopback; return the OpenAPI base URL."""
        # Large enough for a 20 MB picture and its multipart framing, so the size refusal is
        # the platform's, not the web server's.
        app = web.Application(client_max_size=MEDIA_MAX + 1024 * 1024)
        app.router.add_post("/v1.0/gateway/connections/open", self._open)
        app.router.add_get("/connect", self._connect)
        app.router.add_post("/v1.0/oauth2/accessToken", self._token)
        app.router.add_get("/gettoken", self._legacy_token)
        app.router.add_post("/media/upload", self._media_upload)
        app.router.add_post("/v1.0/robot/messageFiles/download", self._file_download)
        app.router.add_get("/files/{token}", self._file_link)
        app.router.add_post("/robot/sendBySession", self._webhook)
        app.router.add_post("/v1.0/robot/groupMessages/send", self._group_send)
        app.router.add_post("/v1.0/robot/oToMessages/batchSend", self._o2o_send)
        app.router.add_post("/v1.0/card/instances/createAndDeliver", self._card_create)
        app.router.add_put("/v1.0/card/instances", self._card_update)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None)
        assert sockets, "the stand-in is not listening"
        self.port = int(sockets[0].getsockname()[1])
        self.url = f"http://{self.host}:{self.port}"
        if self.ping_interval:
            self._spawn(self._pinger())
        return self.url

    async def separate_gateway(self) -> None:
        """Serve the stream WebSocket on a port of its own from now on, as DingTalk does
        (wss-open-connection.dingtalk.com is not api.dingtalk.com: stream FAQ Q6, Q9)."""
        assert self._runner is not None
        if not self.gateway_port:
            with socket.socket() as sock:
                sock.bind((self.host, 0))
                self.gateway_port = int(sock.getsockname()[1])
        self._gateway = web.TCPSite(self._runner, self.host, self.gateway_port)
        await self._gateway.start()

    async def gateway_down(self) -> None:
        """The gateway goes away: its sockets close and new connections to it are refused
        (TCP), while connections/open and the OpenAPI still answer."""
        assert self._gateway is not None, "call separate_gateway() first"
        await self._gateway.stop()
        self._gateway = None
        for conn in list(self.connections):
            with contextlib.suppress(Exception):
                await conn.ws.close()

    async def gateway_up(self) -> None:
        """The gateway listens again, on the same port."""
        await self.separate_gateway()

    async def stop(self) -> None:
        """Close every socket and stop listening."""
        for task in list(self._tasks):
            task.cancel()
        for conn in list(self.connections):
            with contextlib.suppress(Exception):
                await conn.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- stream gateway ----------------------------------------------------------------------

    async def _open(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("clientId") != self.client_id or body.get("clientSecret") != self.client_secret:
            # What DingTalk answers for a wrong clientId / clientSecret (field reports:
            # zfanswer/dify-on-dingtalk #28, agentscope-ai/QwenPaw #1027).
            self.refused_opens += 1
            await self._notify()
            return _error(401, "authFailed", "鉴权失败")
        if self.faults.refuse_opens > 0:
            self.faults.refuse_opens -= 1
            return _error(503, "ServiceUnavailable", "gateway busy")
        topics = {s.get("topic") for s in body.get("subscriptions", [])}
        if BOT_TOPIC not in topics:
            return _error(400, "InvalidParameter", "no subscription to the robot topic")
        self.opens += 1
        ticket = secrets.token_urlsafe(16)
        self._tickets[ticket] = time.monotonic() + TICKET_TTL
        port = self.gateway_port or self.port
        if self.gateway_port and self._gateway is None:
            self.gateway_refusals += 1
        return web.json_response({"endpoint": f"ws://{self.host}:{port}/connect", "ticket": ticket})

    async def _connect(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        expires = self._tickets.pop(ticket, None)  # single use
        if expires is None or expires < time.monotonic():
            return web.Response(status=403, text="bad or used ticket")
        ws = web.WebSocketResponse(autoping=False, max_msg_size=4 * 1024 * 1024)
        await ws.prepare(request)
        conn = _Conn(ws, uuid.uuid4().hex)
        self.connections.append(conn)
        await self._notify()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.PING:
                    if not conn.frozen:
                        await ws.pong(msg.data)
                elif msg.type == WSMsgType.TEXT:
                    self._on_ack(msg.data)
                elif msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                    break
        finally:
            conn.alive = False
            with contextlib.suppress(ValueError):
                self.connections.remove(conn)
            await self._notify()
        return ws

    def _on_ack(self, raw: str) -> None:
        try:
            ack = json.loads(raw)
            message_id = ack["headers"]["messageId"]
        except (ValueError, KeyError, TypeError):
            log.warning("stand-in: unreadable ack %r", raw[:200])
            return
        future = self._pending.pop(message_id, None)
        if future is not None and not future.done():
            future.set_result(ack)

    def live(self) -> list[_Conn]:
        """Connections that are open and answering."""
        return [c for c in self.connections if c.alive and not c.frozen and not c.ws.closed]

    def peak_calls_per_second(self, path: str) -> int:
        """The most calls of one OpenAPI ``path`` that arrived within any one second."""
        calls = self.api_calls.get(path, [])
        return max(
            (sum(1 for t in calls[i:] if t < start + 1.0) for i, start in enumerate(calls)),
            default=0,
        )

    async def wait_connected(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until at least ``count`` bot connections are open."""
        await self._wait(lambda: len(self.live()) >= count, timeout)

    async def _frame(
        self, frame_type: str, topic: str, data: dict[str, Any], message_id: str | None = None
    ) -> tuple[str, asyncio.Future[dict[str, Any]], _Conn]:
        conns: list[_Conn] = []
        while not conns:
            # A connection seen open may close before this line runs (a process stopping):
            # wait for the next one rather than divide by zero.
            await self.wait_connected(timeout=self.push_wait)
            conns = self.live()
        conn = conns[next(self._rr) % len(conns)]
        self.pushes_by_connection[conn.id] = self.pushes_by_connection.get(conn.id, 0) + 1
        message_id = message_id or uuid.uuid4().hex
        text = self._frame_text(frame_type, topic, data, conn, message_id)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        await conn.ws.send_str(text)
        return message_id, future, conn

    def _frame_text(
        self, frame_type: str, topic: str, data: dict[str, Any], conn: _Conn, message_id: str
    ) -> str:
        frame = {
            "specVersion": "1.0",
            "type": frame_type,
            "headers": {
                "appId": self.client_id,
                "connectionId": conn.id,
                "contentType": "application/json",
                "messageId": message_id,
                "time": str(int(time.time() * 1000)),
                "topic": topic,
            },
            "data": json.dumps(data, ensure_ascii=False),
        }
        return _frame_text(frame)

    async def push_raw(
        self, text: str, message_id: str, *, timeout: float = 2.0
    ) -> dict[str, Any] | None:
        """Send any text as a frame (garbage included); the ack for ``message_id``, or None."""
        await self.wait_connected()
        conn = self.live()[0]
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        await conn.ws.send_str(text)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            self._pending.pop(message_id, None)
            return None

    async def push(
        self,
        topic: str,
        data: dict[str, Any],
        *,
        wait_ack: bool = True,
        timeout: float = 10.0,
        message_id: str | None = None,
    ) -> Push:
        """Push a CALLBACK frame; redeliver (with a new frame id) until acked."""
        started = time.perf_counter()
        message_id, future, _ = await self._frame("CALLBACK", topic, data, message_id)
        if self.faults.duplicate_pushes:
            self._spawn(self._frame("CALLBACK", topic, data))
        if not wait_ack:
            self._spawn(self._redeliver_unacked(topic, data, future))
            return Push(message_id, data, None, None)
        try:
            ack = await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            self._spawn(self._redeliver_unacked(topic, data, future))
            return Push(message_id, data, None, None)
        return Push(message_id, data, ack, time.perf_counter() - started)

    def burst(
        self, pushes: list[tuple[str, dict[str, Any]]]
    ) -> tuple[list[str], list[asyncio.Future[dict[str, Any]]]]:
        """Frames for a burst of (topic, data) on the first live connection, built ahead:
        their texts and their acks' futures.

        ``send_burst`` then writes them back to back, as the gateway does after a pause: a
        test that measures the bot's loop measures the bot's reading, not this building.
        """
        conn = self.live()[0]
        texts: list[str] = []
        futures: list[asyncio.Future[dict[str, Any]]] = []
        for topic, data in pushes:
            message_id = uuid.uuid4().hex
            texts.append(self._frame_text("CALLBACK", topic, data, conn, message_id))
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._pending[message_id] = future
            futures.append(future)
        return texts, futures

    async def send_burst(self, texts: list[str]) -> None:
        """Write frames built by ``burst`` to the first live connection, back to back."""
        ws = self.live()[0].ws
        for text in texts:
            await ws.send_str(text)

    async def _redeliver_unacked(
        self, topic: str, data: dict[str, Any], future: asyncio.Future[dict[str, Any]]
    ) -> None:
        while True:
            try:
                await asyncio.wait_for(asyncio.shield(future), self.faults.redeliver_after)
                return
            except TimeoutError:
                _, future, _ = await self._frame("CALLBACK", topic, data)

    async def system(self, topic: str, data: dict[str, Any] | None = None) -> None:
        """Send a SYSTEM frame (``ping`` or ``disconnect``) to every connection."""
        for conn in self.live():
            frame = {
                "specVersion": "1.0",
                "type": "SYSTEM",
                "headers": {
                    "contentType": "application/json",
                    "messageId": uuid.uuid4().hex,
                    "time": str(int(time.time() * 1000)),
                    "topic": topic,
                },
                "data": json.dumps(data or {}),
            }
            with contextlib.suppress(Exception):
                await conn.ws.send_str(json.dumps(frame))

    async def disconnect(self) -> None:
        """Tell the bot to reconnect; close the old sockets after the grace period."""
        conns = self.live()
        await self.system("disconnect", {"reason": "server maintenance"})

        async def later() -> None:
            await asyncio.sleep(self.disconnect_grace)
            for conn in conns:
                with contextlib.suppress(Exception):
                    await conn.ws.close()

        self._spawn(later())

    async def drop(self) -> None:
        """Abort every socket without a close handshake (a network failure)."""
        for conn in list(self.connections):
            conn.alive = False
            request = conn.ws._req
            transport = request.transport if request is not None else None
            if transport is not None:
                transport.abort()

    def freeze(self) -> None:
        """Make every current socket half-open: it stays up but carries nothing, not even pongs."""
        for conn in self.connections:
            conn.frozen = True

    async def _pinger(self) -> None:
        assert self.ping_interval
        while True:
            await asyncio.sleep(self.ping_interval)
            await self.system("ping", {"opaque": uuid.uuid4().hex})

    # -- pushing messages and clicks -----------------------------------------------------------

    def message(
        self,
        text: str | None,
        *,
        sender: str = "alice",
        nick: str | None = None,
        conversation: str = "cid-group-1",
        conversation_type: str = "2",
        title: str = "社区群",
        is_admin: bool = False,
        msg_id: str | None = None,
        msgtype: str = "text",
        session_ttl: float = 5400.0,
        rich_text: list[dict[str, Any]] | None = None,
        staff: bool = True,
        at: list[str] | None = None,
    ) -> dict[str, Any]:
        """Build a robot message as DingTalk sends it (with the leading space after @name).

        ``msgtype="richText"`` sends ``rich_text`` as the fragments, or, given only ``text``,
        the HarmonyOS client's shape of ``@robot text`` (see ``harmony``). ``staff=False``
        sends no ``senderStaffId``, as for external contacts and unpublished apps
        (help.dingtalk.io receive-message field table; eryajf/chatgpt-dingtalk #63).

        ``at`` lists the staff ids of members @-mentioned besides the robot: each appears in
        ``atUsers`` as ``{"dingtalkId", "staffId"}``, after the robot's own entry, which has
        no staff id (the official receive-message sample; dingtalk-stream ``AtUser``). The
        text keeps their ``@nick`` as the member typed it.
        """
        session = secrets.token_urlsafe(12)
        expires_ms = int((time.time() + session_ttl) * 1000)
        msg_id = msg_id or f"msg{next(self._msg_seq):08d}{secrets.token_hex(4)}"
        self.sessions[session] = Session(
            conversation, conversation_type, sender, expires_ms, msg_id
        )
        data: dict[str, Any] = {
            "conversationId": conversation,
            "conversationType": conversation_type,
            "msgId": msg_id,
            "msgtype": msgtype,
            "senderId": f"$:LWCP_v1:${sender}",
            "senderNick": nick or sender.capitalize(),
            "senderCorpId": self.corp_id,
            "isAdmin": is_admin,
            "robotCode": self.client_id,
            "chatbotUserId": "$:LWCP_v1:$robot",
            "chatbotCorpId": self.corp_id,
            "isInAtList": True,
            "atUsers": [{"dingtalkId": "$:LWCP_v1:$robot"}]
            + [{"dingtalkId": f"$:LWCP_v1:${who}", "staffId": who} for who in at or []],
            "createAt": int(time.time() * 1000),
            "sessionWebhook": f"{self.url}/robot/sendBySession?session={session}",
            "sessionWebhookExpiredTime": expires_ms,
        }
        if staff:
            data["senderStaffId"] = sender
        if conversation_type == "2":
            data["conversationTitle"] = title
        if msgtype == "text" and text is not None:
            data["text"] = {"content": " " + text if conversation_type == "2" else text}
        elif msgtype == "richText":
            data["content"] = {"richText": rich_text or self.harmony(text or "")}
        elif msgtype == "picture":
            # Both codes come with a picture (developerpedia docs/learn/bot/message.md).
            data["content"] = {k: v for k, v in self.picture().items() if k != "type"}
        elif msgtype != "text":
            data["content"] = {"downloadCode": secrets.token_hex(8)}
        return data

    def harmony(self, text: str) -> list[dict[str, Any]]:
        """``@robot text`` as the HarmonyOS client sends it: ``richText`` whose first fragment
        repeats the robot's name (AstrBot PR #9389 logs both clients' payloads)."""
        return [{"text": f"@{self.robot_name}"}, {"text": text}]

    @staticmethod
    def picture() -> dict[str, Any]:
        """A picture as DingTalk describes one, in a ``picture`` message or a ``richText``
        fragment (developerpedia docs/learn/stream/faq.md, docs/learn/bot/message.md)."""
        return {
            "pictureDownloadCode": "pic" + secrets.token_hex(8),
            "downloadCode": "dl" + secrets.token_hex(8),
            "type": "picture",
        }

    def add_picture(
        self, data: bytes, content_type: str = "image/png", *, ttl: float = DOWNLOAD_CODE_TTL
    ) -> dict[str, Any]:
        """A picture a member sends: a ``richText`` fragment whose download code the
        message-file download API knows for ``ttl`` seconds (``picture_message`` sends it
        alone)."""
        fragment = self.picture()
        self.files[fragment["downloadCode"]] = (data, content_type, time.monotonic() + ttl)
        return fragment

    def picture_message(self, fragment: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """A ``picture`` message carrying ``fragment``'s codes (a picture sent alone)."""
        data = self.message(None, msgtype="picture", **kwargs)
        data["content"] = {k: v for k, v in fragment.items() if k != "type"}
        return data

    async def say(self, text: str | None, **kwargs: Any) -> Push:
        """Push a robot message (see ``message`` for the options) and wait for its ack."""
        wait_ack = kwargs.pop("wait_ack", True)
        return await self.push(BOT_TOPIC, self.message(text, **kwargs), wait_ack=wait_ack)

    def click_data(self, out_track_id: str, user: str, params: dict[str, Any]) -> dict[str, Any]:
        """The callback data of ``user`` pressing a card button (see ``click``)."""
        card = self.cards.get(out_track_id)
        # The shape of a real click over Stream (Stream 模式响应卡片回传请求事件,
        # open.dingtalk.com/document/dingstart/intelligent-assistant-with-interactive-card-use-tutorial):
        # spaceType "im" in lower case, userIdType 1, spaceId the bare conversation id,
        # ``value`` a copy of ``content``, and actionIds the id the card builder gave the
        # button component (not the verb: that is in params, set as 回传参数 in the builder).
        content = json.dumps(
            {
                "cardPrivateData": {
                    "actionIds": [_component_id(str(params.get("action", "")))],
                    "params": params,
                }
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        space = card.space_id.split(".", 2)[-1] if card else ""
        return {
            "extension": "{}",
            "corpId": self.corp_id,
            "spaceType": "im",
            "userIdType": 1,
            "type": "actionCallback",
            "userId": user,
            "content": content,
            "spaceId": space,
            "outTrackId": out_track_id,
            "value": content,
        }

    async def click(
        self,
        out_track_id: str,
        user: str,
        params: dict[str, Any],
        *,
        timeout: float = 10.0,
        message_id: str | None = None,
    ) -> Push:
        """Press a card button as ``user``; the card is updated from the ack's response."""
        card = self.cards.get(out_track_id)
        data = self.click_data(out_track_id, user, params)
        result = await self.push(CARD_TOPIC, data, timeout=timeout, message_id=message_id)
        if result.ack is not None and card is not None:
            response = json.loads(result.ack.get("data") or "{}").get("response") or {}
            if isinstance(response, dict):
                public = (response.get("cardData") or {}).get("cardParamMap") or {}
                private = (response.get("userPrivateData") or {}).get("cardParamMap") or {}
                card.data.update(public)
                card.private.setdefault(user, {}).update(private)
        return result

    @staticmethod
    def response_of(push: Push) -> dict[str, Any]:
        """The ``response`` object inside a callback's ack."""
        if push.ack is None:
            return {}
        body = json.loads(push.ack.get("data") or "{}")
        response = body.get("response")
        return response if isinstance(response, dict) else {}

    # -- the sending APIs ----------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("appKey") != self.client_id or body.get("appSecret") != self.client_secret:
            return _error(400, "invalidClientIdOrSecret", "bad appKey or appSecret")
        token = secrets.token_hex(16)
        self._tokens[token] = time.monotonic() + TOKEN_TTL
        return web.json_response({"accessToken": token, "expireIn": TOKEN_TTL})

    def expire_tokens(self) -> None:
        """Invalidate every access token handed out so far."""
        self._tokens.clear()
        self._legacy_tokens.clear()

    async def _legacy_token(self, request: web.Request) -> web.Response:
        """The older API's token: ``GET /gettoken?appkey&appsecret`` (errors in HTTP 200)."""
        query = request.query
        if query.get("appkey") != self.client_id or query.get("appsecret") != self.client_secret:
            self.rejected.append((request.path, "40089"))
            return web.json_response({"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"})
        token = secrets.token_hex(16)
        self._legacy_tokens[token] = time.monotonic() + TOKEN_TTL
        return web.json_response(
            {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": TOKEN_TTL}
        )

    async def _media_upload(self, request: web.Request) -> web.Response:
        """上传媒体文件, refusing as the platform does: a bad token, a type other than image or
        file, no file, more than 20 MB, bytes that are no jpg/gif/png/bmp (image) or a name
        whose extension is not one the file type takes (file)."""
        blocked = await self._gate(request, authed=False)
        if blocked is not None:
            return blocked

        def refuse(code: int, message: str) -> web.Response:
            self.rejected.append((request.path, str(code)))
            return web.json_response({"errcode": code, "errmsg": message})

        if self._legacy_tokens.get(request.query.get("access_token", ""), 0) < time.monotonic():
            return refuse(40014, "不合法的access_token")
        form = await request.post()
        kind = request.query.get("type") or form.get("type")
        media = form.get("media")
        if kind not in ("image", "file"):
            return refuse(40004, "不合法的媒体文件类型")
        if not isinstance(media, web.FileField):
            return refuse(40004, "缺少 media 文件")  # our choice of code: none is documented
        data = media.file.read()
        self.requests.append(
            (request.path, {"type": kind, "filename": media.filename, "size": len(data)})
        )
        if len(data) > MEDIA_MAX:
            return refuse(40006, "不合法的文件大小")
        if kind == "image" and not any(data.startswith(magic) for magic in IMAGE_MAGIC):
            return refuse(40005, "不合法的文件类型")
        if kind == "file" and media.filename.rpartition(".")[2].lower() not in FILE_TYPES:
            return refuse(40005, "不合法的文件类型")
        media_id = "@lA" + secrets.token_hex(12)
        self.media[media_id] = (data, media.content_type, media.filename)
        self.media_kinds[media_id] = kind
        return web.json_response(
            {
                "errcode": 0,
                "errmsg": "ok",
                "type": kind,
                "media_id": media_id,
                "created_at": int(time.time() * 1000),
            }
        )

    async def _file_download(self, request: web.Request) -> web.Response:
        """下载机器人接收消息的文件内容: a temporary link for a known, unexpired code sent to
        this robot; anything else refused."""
        blocked = await self._gate(request, authed=True)
        if blocked is not None:
            return blocked
        body = await self._read(request)
        code = body.get("downloadCode") if isinstance(body, dict) else None
        robot = body.get("robotCode") if isinstance(body, dict) else None
        if not isinstance(code, str) or not code or not isinstance(robot, str) or not robot:
            return self._reject(request, 400, "param.invalid", "downloadCode and robotCode")
        if robot != self.client_id:
            return self._reject(request, 400, "param.invalid", "robotCode of another robot")
        known = self.files.get(code)
        if known is None or known[2] < time.monotonic():
            return self._reject(request, 400, "param.invalid", "downloadCode unknown or expired")
        token = secrets.token_urlsafe(16)
        self._links[token] = (code, time.monotonic() + DOWNLOAD_LINK_TTL)
        return web.json_response({"downloadUrl": f"{self.url}/files/{token}"})

    async def _file_link(self, request: web.Request) -> web.Response:
        """The file behind a temporary link (403 once the link has expired, as a signed
        object-storage link answers)."""
        link = self._links.get(request.match_info["token"])
        if link is None or link[1] < time.monotonic() or link[0] not in self.files:
            self.rejected.append((request.path, "403"))
            return web.Response(status=403, text="link expired")
        data, content_type, _ = self.files[link[0]]
        return web.Response(body=data, content_type=content_type)

    async def _gate(self, request: web.Request, *, authed: bool) -> web.Response | None:
        """Apply faults and auth to a send; None lets it through."""
        if self.faults.hold_sends is not None:
            self.holding += 1
            try:
                await self.faults.hold_sends.wait()
            finally:
                self.holding -= 1
            transport = request.transport
            if transport is None or transport.is_closing():
                # The bot died before the platform took the request: it never arrived.
                self.rejected.append((request.path, "client gone"))
                return web.Response(status=499)
        if self.faults.html_ban > 0:
            # The per-IP ban of the throttling doc: an HTML page, not a JSON error code.
            self.faults.html_ban -= 1
            self.rejected.append((request.path, "html-ban"))
            return web.Response(
                status=self.faults.html_ban_status, text=HTML_BAN_PAGE, content_type="text/html"
            )
        if authed and self.faults.quota_exhausted:
            return self._reject(
                request,
                403,
                "Forbidden.AccessDenied.ApiCountLimitForOrg",
                "the organisation's API call quota for this month is used up",
            )
        self._send_calls += 1
        n = self._send_calls
        if self.faults.server_error_every and n % self.faults.server_error_every == 0:
            return self._reject(request, 503, "system.busy", "busy")
        if authed:
            token = request.headers.get("x-acs-dingtalk-access-token", "")
            if self._tokens.get(token, 0) < time.monotonic():
                return self._reject(
                    request, 401, "InvalidAuthentication", "token invalid or expired"
                )
            self._authed_calls += 1
            every = self.faults.expire_token_every
            if every and self._authed_calls % every == 0:
                self._tokens.pop(token, None)
                return self._reject(request, 401, "InvalidAuthentication", "token expired")
        if authed:
            now = time.monotonic()
            calls = self.api_calls.setdefault(request.path, [])
            calls.append(now)
            qps = self.faults.api_qps
            if qps and sum(1 for t in calls[-int(qps) - 1 :] if t > now - 1.0) > qps:
                return self._reject(
                    request, 403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "qps limit"
                )
        every = self.faults.throttle_every
        if (every and n % every == 0) or request.path in self.faults.throttle_paths:
            if not authed:
                self.rejected.append((request.path, "130101"))
                return web.json_response({"errcode": 130101, "errmsg": "send too fast"})
            return self._reject(
                request, 403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "qps limit"
            )
        return None

    def _reject(self, request: web.Request, status: int, code: str, message: str) -> web.Response:
        self.rejected.append((request.path, code))
        return _error(status, code, message)

    async def _read(self, request: web.Request) -> Any:
        """A request's JSON body, kept as sent (tests/contract checks it against the docs)."""
        body = await request.json()
        self.requests.append((request.path, body))
        return body

    async def _record(self, sent: Sent) -> None:
        self.sent.append(sent)
        for listener in self.listeners:
            listener(sent)
        await self._notify()
        if self.faults.slow_answers:
            # Delivered already; only the answer is slow (a client that gives up now has
            # sent the message without knowing it).
            await asyncio.sleep(self.faults.slow_answers)

    async def _webhook(self, request: web.Request) -> web.Response:
        session = self.sessions.get(request.query.get("session", ""))
        if session is None:
            return web.json_response({"errcode": 400001, "errmsg": "unknown session"})
        if self.faults.expire_sessions or session.expires_at_ms < time.time() * 1000:
            self.rejected.append((request.path, "300001"))
            return web.json_response({"errcode": 300001, "errmsg": "session expired"})
        blocked = await self._gate(request, authed=False)
        if blocked is not None:
            return blocked
        body = await self._read(request)
        msgtype = body.get("msgtype")
        if msgtype == "text":
            key, param = "sampleText", {"content": body["text"]["content"]}
        elif msgtype == "markdown":
            key, param = "sampleMarkdown", dict(body["markdown"])
        elif msgtype == "actionCard":
            key, param = "sampleActionCard", dict(body["actionCard"])
        else:
            return web.json_response({"errcode": 40035, "errmsg": "bad msgtype"})
        at_ids = list((body.get("at") or {}).get("atUserIds") or [])
        shown = json.dumps(param, ensure_ascii=False)
        for at_id in at_ids:
            if f"@{at_id}" not in shown:
                # The session webhook renders a mention only when "@id" is in the text too.
                self.violations.append(("webhook", f"@{at_id} in atUserIds but not in the text"))
        await self._record(
            Sent(
                "webhook",
                session.conversation_id,
                key,
                param,
                [session.sender],
                at_ids,
                in_reply_to=session.msg_id,
            )
        )
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _group_send(self, request: web.Request) -> web.Response:
        blocked = await self._gate(request, authed=True)
        if blocked is not None:
            return blocked
        body = await self._read(request)
        if body.get("robotCode") != self.client_id or not body.get("openConversationId"):
            return _error(400, "InvalidParameter", "robotCode or openConversationId")
        refused = self._check_msg_param(request, body)
        if refused is not None:
            return refused
        param = json.loads(body["msgParam"])
        self._check_mentions("group", param)
        await self._record(Sent("group", body["openConversationId"], body.get("msgKey", ""), param))
        return web.json_response({"processQueryKey": uuid.uuid4().hex})

    def _check_msg_param(self, request: web.Request, body: dict[str, Any]) -> web.Response | None:
        """msgParam is a JSON string of at most 15,000 bytes (help.dingtalk.io group send;
        the exact error code is not documented: ``param.invalid`` is our choice)."""
        raw = body.get("msgParam")
        if not isinstance(raw, str) or not body.get("msgKey"):
            return self._reject(request, 400, "param.invalid", "msgKey and msgParam required")
        if len(raw.encode()) > MSG_PARAM_MAX:
            return self._reject(request, 400, "param.invalid", "msgParam longer than 15000 bytes")
        try:
            param = json.loads(raw)
        except ValueError:
            return self._reject(request, 400, "param.invalid", "msgParam is not JSON")
        if body.get("msgKey") == "sampleImageMsg":
            # A robot's picture is a media id from the media upload API (or a picture URL);
            # an unknown one is refused (the code is our choice: none is documented).
            photo = param.get("photoURL") if isinstance(param, dict) else None
            if not isinstance(photo, str) or not (
                photo in self.media or photo.startswith(("http://", "https://"))
            ):
                return self._reject(request, 400, "param.invalid", "unknown photoURL")
        if body.get("msgKey") == "sampleFile":
            # A robot's file is a media id uploaded as type "file", with its name and type;
            # anything else is refused (the code is our choice: none is documented).
            ok = isinstance(param, dict) and all(
                isinstance(param.get(k), str) and param.get(k)
                for k in ("mediaId", "fileName", "fileType")
            )
            if not ok or self.media_kinds.get(param["mediaId"]) != "file":
                return self._reject(
                    request, 400, "param.invalid", "sampleFile needs an uploaded file"
                )
            if param["fileType"] not in FILE_TYPES:
                return self._reject(request, 400, "param.invalid", "unsupported fileType")
        return None

    def _check_mentions(self, route: str, param: dict[str, Any]) -> None:
        for key in ("content", "text", "title"):
            value = param.get(key)
            if isinstance(value, str) and _LITERAL_AT.search(value):
                self.violations.append((route, value))

    async def _o2o_send(self, request: web.Request) -> web.Response:
        blocked = await self._gate(request, authed=True)
        if blocked is not None:
            return blocked
        body = await self._read(request)
        users = body.get("userIds") or []
        if not 0 < len(users) <= 20:
            return _error(400, "InvalidParameter.userIds", "1 to 20 userIds")
        # userIds are staff ids. An encrypted senderId ("$:LWCP_v1:$…") is none: with no
        # valid user the call fails with staffId.notExisted (DingTalk-Real-AI/
        # dingtalk-openclaw-connector #431, "staff 不存在"); beside valid users it is listed
        # in invalidStaffIdList (robot_1_0 BatchSendOTOResponseBody).
        not_staff = [u for u in users if not isinstance(u, str) or u.startswith("$:")]
        if len(not_staff) == len(users):
            return self._reject(
                request,
                400,
                "staffId.notExisted",
                "staff 不存在；解决方案:请确认 userIds 是否正确；",
            )
        refused = self._check_msg_param(request, body)
        if refused is not None:
            return refused
        param = json.loads(body["msgParam"])
        self._check_mentions("o2o", param)
        # HTTP 200 that still refuses some users (robot_1_0 BatchSendOTOResponseBody).
        faults = self.faults
        invalid = [u for u in users if u in faults.invalid_users or u in not_staff]
        filtered = [u for u in users if u in faults.filtered_users and u not in invalid]
        flow = [
            u
            for u in users
            if u in faults.flow_control_once
            and u not in self._flow_controlled
            and u not in invalid
            and u not in filtered
        ]
        self._flow_controlled.update(flow)
        delivered = [u for u in users if u not in invalid and u not in filtered and u not in flow]
        if delivered:
            await self._record(Sent("o2o", "", body.get("msgKey", ""), param, delivered))
        answer: dict[str, Any] = {"processQueryKey": uuid.uuid4().hex}
        if invalid:
            answer["invalidStaffIdList"] = invalid
        if filtered:
            answer["filteredStaffIdList"] = filtered
        if flow:
            answer["flowControlledStaffIdList"] = flow
        return web.json_response(answer)

    async def _card_create(self, request: web.Request) -> web.Response:
        """创建并投放卡片, refusing what the card platform refuses (its error table)."""
        blocked = await self._gate(request, authed=True)
        if blocked is not None:
            return blocked
        body = await self._read(request)
        data = ((body.get("cardData") or {}).get("cardParamMap")) or {}
        space = str(body.get("openSpaceId", ""))
        template = body.get("cardTemplateId")
        out_track_id = body.get("outTrackId")
        if not template:
            return self._reject(request, 400, "param.cardTemplateIdEmpty", "cardTemplateId")
        if not out_track_id:
            return self._reject(request, 400, "param.outTrackIdEmpty", "outTrackId")
        if not space.startswith(("dtv1.card//IM_GROUP.", "dtv1.card//IM_ROBOT.")):
            return self._reject(request, 400, "param.openSpaceIdInvalid", "openSpaceId")
        if body.get("callbackType") != "STREAM":
            # Not a platform refusal, but without it clicks never reach a Stream client
            # (the tutorial's checklist): the stand-in insists.
            return self._reject(request, 400, "param.invalid", "callbackType must be STREAM")
        refused = self._check_card_data(request, data)
        if refused is not None:
            return refused
        group = "IM_GROUP" in space
        if group:
            deliver = body.get("imGroupOpenDeliverModel")
            if not isinstance(deliver, dict) or deliver.get("robotCode") != self.client_id:
                # "若使用imGroupOpenDeliverModel对象，则该字段(robotCode)必填"
                return self._reject(request, 400, "param.openDeliverModelError", "robotCode")
        else:
            deliver = body.get("imRobotOpenDeliverModel")
            space_model = body.get("imRobotOpenSpaceModel")
            if not isinstance(deliver, dict) or deliver.get("spaceType") != "IM_ROBOT":
                # "IM机器人单聊若未设置其他投放属性，需设置spaceType为IM_ROBOT"
                return self._reject(request, 400, "param.openDeliverModelEmpty", "IM_ROBOT")
            if (
                deliver.get("robotCode") != self.client_id
                or not isinstance(space_model, dict)
                or not isinstance(space_model.get("supportForward"), bool)
            ):
                # The official examples send both models with robotCode (dingtalk-card-examples);
                # the stand-in holds the bot to that shape.
                return self._reject(request, 400, "param.openSpaceModelInvalid", "IM_ROBOT model")
        if template in self.faults.missing_templates:
            return self._reject(request, 400, "param.templateNotExist", "模板不存在")
        if template in self.faults.unpublished_templates:
            return self._reject(request, 400, "param.templateUnpublished", "模板未发布")
        if out_track_id in self.cards:
            # "一个 outTrackId 唯一标识一张卡片": a second create with it is refused.
            return self._reject(request, 400, "param.cardAlreadyExist", "卡片已经存在")
        self.cards[out_track_id] = Card(out_track_id, template, space, dict(data))
        conversation = space.split(".", 2)[-1] if group else ""
        delivered = not self.faults.undeliverable_cards
        if delivered:
            await self._record(
                Sent("card", conversation, "card", dict(data), out_track_id=out_track_id)
            )
        else:
            self.rejected.append((request.path, "deliverResults.failed"))
        return web.json_response(
            {
                "success": True,
                "result": {
                    "outTrackId": out_track_id,
                    "deliverResults": [
                        {
                            "spaceType": "IM_GROUP" if group else "IM_ROBOT",
                            "spaceId": space.split(".", 2)[-1],
                            "success": delivered,
                            "carrierId": uuid.uuid4().hex if delivered else "",
                            "errorMsg": "" if delivered else "robot not in conversation",
                        }
                    ],
                },
            }
        )

    def _check_card_data(self, request: web.Request, data: Any) -> web.Response | None:
        """cardParamMap: string values of at most 1 KB under keys of at most 100 bytes
        (创建并投放卡片, 更新卡片). The error table names no code for oversize;
        ``param.invalid`` ("存在非法参数") is our choice."""
        if not isinstance(data, dict):
            return self._reject(request, 400, "param.invalid", "cardParamMap")
        for key, value in data.items():
            if not isinstance(value, str):
                return self._reject(request, 400, "param.invalid", f"{key}: not a string")
            if len(str(key).encode()) > CARD_KEY_MAX:
                return self._reject(request, 400, "param.invalid", "key over 100 bytes")
            if len(value.encode()) > CARD_VALUE_MAX:
                return self._reject(request, 400, "param.invalid", f"{key}: value over 1 KB")
        return None

    async def _card_update(self, request: web.Request) -> web.Response:
        blocked = await self._gate(request, authed=True)
        if blocked is not None:
            return blocked
        body = await self._read(request)
        card = self.cards.get(body.get("outTrackId", ""))
        if card is None:
            return self._reject(request, 400, "param.cardNotExist", "卡片不存在")
        data = ((body.get("cardData") or {}).get("cardParamMap")) or {}
        refused = self._check_card_data(request, data)
        if refused is not None:
            return refused
        card.data.update(data)
        await self._record(
            Sent("card_update", "", "card", dict(data), out_track_id=card.out_track_id)
        )
        return web.json_response({"success": True, "result": True})

    # -- waiting -------------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _wait(self, predicate: Callable[[], bool], timeout: float) -> None:
        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(until(), timeout)

    async def wait_sent(
        self,
        count: int = 1,
        *,
        where: Callable[[Sent], bool] = lambda s: True,
        timeout: float = 10.0,
    ) -> list[Sent]:
        """Wait until at least ``count`` delivered messages match ``where``; return them."""
        await self._wait(lambda: sum(1 for s in self.sent if where(s)) >= count, timeout)
        return [s for s in self.sent if where(s)]


def _component_id(action: str) -> str:
    """A button's component id as the card builder makes them (``single_button_node_…``)."""
    return "single_button_node_" + uuid.uuid5(uuid.NAMESPACE_OID, action).hex[:11]


def _frame_text(frame: dict[str, Any]) -> str:
    """A frame as the WebSocket carries it: UTF-8, so text holding a lone UTF-16 surrogate
    (half an emoji, as a UTF-16 truncation leaves) can only travel as a JSON escape
    (``\\ud83d``), which a JSON parser turns back into the lone surrogate."""
    text = json.dumps(frame, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(frame, ensure_ascii=True)
    return text


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response(
        {"code": code, "message": message, "requestid": uuid.uuid4().hex}, status=status
    )
