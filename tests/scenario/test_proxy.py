"""Behind a corporate proxy: OpenAPI, session webhooks and the stream WebSocket all go through
the one configured proxy (or ``HTTPS_PROXY`` / ``HTTP_PROXY``), and ``NO_PROXY`` is honoured.

Source: the stream FAQ (open-dingtalk/developerpedia docs/learn/stream/faq.md, 安全外联) names the
hosts a restricted network must allow; dingtalk-stream-sdk-python issue #28 asks for proxies.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.app import Application
from bot.http import ProxyConfig, proxy_config
from bot.sandbox.standin import StandIn
from tests.conftest import bot_settings


@dataclass
class CountingProxy:
    """A loopback HTTP proxy: CONNECT tunnels and absolute-form requests, each counted."""

    connects: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    url: str = ""
    _server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self.url

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
                if method == "CONNECT":
                    self.connects.append(target)
                    host, port = target.rsplit(":", 1)
                    up_reader, up_writer = await asyncio.open_connection(host, int(port))
                    writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    await writer.drain()
                    await asyncio.gather(
                        _pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True
                    )
                    return
                # Absolute form: "POST http://127.0.0.1:1234/path HTTP/1.1".
                self.requests.append(f"{method} {target}")
                rest = target.split("://", 1)[1]
                hostport, _, path = rest.partition("/")
                host, port = hostport.rsplit(":", 1)
                length = _content_length(head)
                body = await reader.readexactly(length) if length else b""
                if upstream is None:
                    upstream = await asyncio.open_connection(host, int(port))
                up_reader, up_writer = upstream
                first_line = f"{method} /{path} HTTP/1.1".encode()
                up_writer.write(first_line + b"\r\n" + head.split(b"\r\n", 1)[1] + body)
                await up_writer.drain()
                answer = await up_reader.readuntil(b"\r\n\r\n")
                size = _content_length(answer)
                writer.write(answer + (await up_reader.readexactly(size) if size else b""))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            if upstream is not None:
                upstream[1].close()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


@pytest.fixture
async def proxy() -> AsyncIterator[CountingProxy]:
    server = CountingProxy()
    await server.start()
    yield server
    await server.stop()


async def _run_bot(standin: StandIn, tmp_path: Path, **network: str) -> Application:
    settings = bot_settings(standin, tmp_path, network=network)
    app = Application(settings)
    await app.start()
    return app


async def test_openapi_webhooks_and_the_websocket_go_through_the_configured_proxy(
    standin: StandIn, proxy: CountingProxy, tmp_path: Path
) -> None:
    app = await _run_bot(standin, tmp_path, proxy=proxy.url)
    try:
        await standin.wait_connected()
        # The stream: connections/open (absolute form) and the WebSocket (CONNECT).
        assert app.edge._proxy.for_url(standin.url) == proxy.url
        assert any("/v1.0/gateway/connections/open" in r for r in proxy.requests)
        assert proxy.connects == [f"127.0.0.1:{standin.port}"]
        await standin.say("/help")  # answered through the session webhook
        await standin.wait_sent(1)
        standin.faults.expire_sessions = True
        await standin.say("/help")  # answered through the OpenAPI (token, group send)
        sent = await standin.wait_sent(2)
        assert [s.route for s in sent] == ["webhook", "group"]
    finally:
        await app.stop()
    paths = [r.split(" ", 1)[1].split(str(standin.port), 1)[1] for r in proxy.requests]
    assert any(p.startswith("/robot/sendBySession") for p in paths)
    assert "/v1.0/oauth2/accessToken" in paths and "/v1.0/robot/groupMessages/send" in paths


async def test_the_environment_proxy_is_used_and_no_proxy_is_honoured(
    standin: StandIn, proxy: CountingProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "")
    app = await _run_bot(standin, tmp_path)
    try:
        await standin.wait_connected()
        await standin.say("/help")
        await standin.wait_sent(1)
    finally:
        await app.stop()
    assert proxy.connects and any("sendBySession" in r for r in proxy.requests)

    before = (len(proxy.connects), len(proxy.requests))
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    app = await _run_bot(standin, tmp_path)
    try:
        await standin.wait_connected()
        await standin.say("/help")
        await standin.wait_sent(2)
    finally:
        await app.stop()
    assert (len(proxy.connects), len(proxy.requests)) == before


def test_proxy_selection_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    assert proxy_config().for_url("https://api.dingtalk.com/x") is None
    monkeypatch.setenv("https_proxy", "http://corp:3128")
    monkeypatch.setenv("NO_PROXY", ".internal, oapi.dingtalk.com:443")
    config = proxy_config()
    assert config.for_url("https://api.dingtalk.com/v1.0") == "http://corp:3128"
    assert config.for_url("wss://wss-open-connection.dingtalk.com/connect") == "http://corp:3128"
    assert config.for_url("http://api.dingtalk.com/") is None  # no HTTP_PROXY
    assert config.for_url("https://oapi.dingtalk.com/robot/sendBySession") is None
    assert config.for_url("https://db.internal/") is None
    # [network] proxy wins over the environment and serves every scheme.
    explicit = proxy_config("http://other:8080", "")
    assert explicit.for_url("http://127.0.0.1:9/") == "http://other:8080"
    assert explicit.for_url("https://oapi.dingtalk.com/") is None  # NO_PROXY still applies
    assert ProxyConfig(https="http://p:1", no_proxy="*").for_url("https://a.b/") is None
