"""httpx over plain asyncio sockets: the transport every outbound call of the bot uses.

httpx sends through httpcore, which reaches the network through a pluggable backend. The
default backend goes through anyio (cancel scopes, checkpoints, a socket-attribute lookup on
every request), which costs about as much again as the HTTP itself on a fast local network:
a reply through the default transport took ~490 µs of CPU here, through this one ~260 µs.
Replies are the bot's hottest path, so the transport keeps httpx and httpcore (pooling,
HTTP/1.1, TLS contexts, timeouts, proxies) and swaps only the bottom layer for asyncio's
own transports and protocols, through httpcore's documented ``AsyncNetworkBackend``.

Only documented interfaces are used: ``httpx.AsyncBaseTransport`` (httpx's "custom
transports"), ``httpcore.AsyncConnectionPool`` and ``httpcore.AsyncHTTPProxy`` with their
``network_backend`` argument, ``httpcore.AsyncNetworkBackend`` / ``AsyncNetworkStream``.
Nothing private of either library is touched, so any httpx 0.27–0.28 / httpcore 1.x works.

The proxy (``[network] proxy``, else ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY``, minus
``NO_PROXY``) is resolved here once, by ``proxy_config``, for the OpenAPI, the session
webhooks and the stream WebSocket alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import httpcore
import httpx

from bot.config import Settings

LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=32)
_MAX_BUFFER = 256 * 1024  # stop reading from the socket while this much is unread


class _Protocol(asyncio.Protocol):
    """Buffers what arrives and wakes the one reader; tracks flow control for writes."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.closed = False
        self.error: BaseException | None = None
        self._reader: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self._paused_reading = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > _MAX_BUFFER and self.transport is not None:
            self.transport.pause_reading()
            self._paused_reading = True
        self._wake_reader()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake_reader()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.error = exc
        self._wake_reader()
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def pause_writing(self) -> None:
        if self._writable is None or self._writable.done():
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def _wake_reader(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.set_result(None)

    async def wait_readable(self) -> None:
        self._reader = asyncio.get_running_loop().create_future()
        try:
            await self._reader
        finally:
            self._reader = None

    async def wait_writable(self) -> None:
        if self._writable is not None and not self._writable.done():
            await self._writable

    def take(self, max_bytes: int) -> bytes:
        data = bytes(self.buffer[:max_bytes])
        del self.buffer[:max_bytes]
        if self._paused_reading and len(self.buffer) <= _MAX_BUFFER // 2:
            self._paused_reading = False
            if self.transport is not None and not self.transport.is_closing():
                self.transport.resume_reading()
        return data


class _Stream(httpcore.AsyncNetworkStream):
    """One connection, as httpcore wants it."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not protocol.buffer and not protocol.closed:
            try:
                async with asyncio.timeout(timeout):
                    while not protocol.buffer and not protocol.closed:
                        await protocol.wait_readable()
            except TimeoutError as exc:
                raise httpcore.ReadTimeout(str(exc) or "read timed out") from exc
        if protocol.buffer:
            return protocol.take(max_bytes)
        if protocol.error is not None:
            raise httpcore.ReadError(str(protocol.error)) from protocol.error
        return b""  # the peer closed the connection

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        if self._transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        self._transport.write(buffer)
        try:
            async with asyncio.timeout(timeout):
                await self._protocol.wait_writable()
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(str(exc) or "write timed out") from exc

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as exc:
            self._transport.close()
            raise httpcore.ConnectTimeout(str(exc) or "TLS handshake timed out") from exc
        except (OSError, ssl.SSLError) as exc:
            self._transport.close()
            raise httpcore.ConnectError(str(exc)) from exc
        if transport is None:
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        self._protocol.transport = transport
        return _Stream(transport, self._protocol)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # an idle keep-alive connection the server closed
            return bool(self._protocol.buffer) or self._protocol.closed
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info in ("ssl_object", "socket"):
            return self._transport.get_extra_info(info)
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network layer on asyncio's transports (TCP and TLS; the bot never talks
    over a Unix socket, so that stays httpcore's NotImplementedError)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_connection(
                    _Protocol,
                    host,
                    port,
                    local_addr=(local_address, 0) if local_address else None,
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc) or "connect timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for option in socket_options or ():
                sock.setsockopt(*option)
        return _Stream(transport, protocol)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


# httpcore's errors as httpx's (the same pairs httpx's own transport maps).
_ERRORS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextlib.contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for source, target in _ERRORS:  # most specific first
            if isinstance(exc, source):
                raise target(str(exc)) from exc
        raise


class _Body(httpx.AsyncByteStream):
    """httpcore's response body as httpx wants it, with httpx's error types."""

    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


class AsyncioTransport(httpx.AsyncBaseTransport):
    """An httpx transport over httpcore's connection pools on ``AsyncioBackend``.

    Built only from documented interfaces: ``httpx.AsyncBaseTransport`` (custom transports),
    ``httpcore.AsyncConnectionPool`` / ``httpcore.AsyncHTTPProxy`` with ``network_backend``
    (httpcore's network-backend and proxy documentation). Requests go through the proxy
    ``proxy`` names for their URL, if any.
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits = LIMITS,
        verify: ssl.SSLContext | bool = True,
        proxy: ProxyConfig | None = None,
    ) -> None:
        # One TLS context (loading the CA bundle is the slow part) for every pool.
        ssl_context = (
            verify
            if isinstance(verify, ssl.SSLContext)
            else httpx.create_ssl_context(verify=verify, trust_env=False)
        )
        self._ssl_context = ssl_context
        self._limits = limits
        self.proxy = proxy or ProxyConfig()
        self._direct = self._pool(None)
        self._proxied: dict[str, httpcore.AsyncConnectionPool] = {}

    def _pool(self, proxy_url: str | None) -> httpcore.AsyncConnectionPool:
        limits = self._limits
        if proxy_url is None:
            return httpcore.AsyncConnectionPool(
                ssl_context=self._ssl_context,
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                network_backend=AsyncioBackend(),
            )
        # CONNECT for https:// (TLS end to end), absolute-form requests for http://.
        return httpcore.AsyncHTTPProxy(
            proxy_url=proxy_url,
            ssl_context=self._ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=AsyncioBackend(),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send one request through the direct or the proxied pool."""
        url = request.url
        pool = self._direct
        proxy_url = self.proxy.for_url(url)
        if proxy_url is not None:
            pool = self._proxied.get(proxy_url) or self._proxied.setdefault(
                proxy_url, self._pool(proxy_url)
            )
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=cast(AsyncIterable[bytes], request.stream),
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            response = await pool.handle_async_request(core_request)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(cast(AsyncIterable[bytes], response.stream)),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._direct.aclose()
        for pool in self._proxied.values():
            await pool.aclose()


@dataclass(frozen=True, slots=True)
class ProxyConfig:
    """The proxy for DingTalk traffic (OpenAPI, session webhooks, the stream WebSocket).

    ``https`` serves ``https://`` and ``wss://`` URLs, ``http`` serves ``http://`` and
    ``ws://`` (empty: direct). ``no_proxy`` is the usual comma-separated list of host names,
    ``.domain`` suffixes, ``host:port`` entries and ``*``.
    """

    https: str = ""
    http: str = ""
    no_proxy: str = ""

    def for_url(self, url: str | httpx.URL) -> str | None:
        """The proxy URL for ``url``, or None to connect directly."""
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
        secure = parsed.scheme in ("https", "wss")
        proxy = self.https if secure else self.http
        if not proxy or self.bypassed(parsed.host, parsed.port or (443 if secure else 80)):
            return None
        return proxy

    def bypassed(self, host: str, port: int) -> bool:
        """Whether ``NO_PROXY`` sends traffic to ``host:port`` directly."""
        host = host.lower().strip("[]")
        for entry in (e.strip().lower() for e in self.no_proxy.split(",")):
            if not entry:
                continue
            if entry == "*":
                return True
            name, sep, entry_port = entry.rpartition(":")
            if not sep or not entry_port.isdigit():
                name, entry_port = entry, ""
            if entry_port and entry_port != str(port):
                continue
            name = name.removeprefix("*").lstrip(".")
            if host == name or host.endswith("." + name):
                return True
        return False


def proxy_config(configured: str = "", no_proxy: str = "") -> ProxyConfig:
    """The proxy from ``[network] proxy`` (for every URL) or else the environment's
    ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` (either case), and ``NO_PROXY`` plus
    ``[network] no_proxy``."""
    env = os.environ

    def first(*names: str) -> str:
        for name in names:
            value = env.get(name) or env.get(name.lower())
            if value:
                return value.strip()
        return ""

    bypass = ",".join(part for part in (no_proxy, first("NO_PROXY")) if part)
    if configured:
        return ProxyConfig(https=configured, http=configured, no_proxy=bypass)
    return ProxyConfig(
        https=first("HTTPS_PROXY", "ALL_PROXY"),
        http=first("HTTP_PROXY", "ALL_PROXY"),
        no_proxy=bypass,
    )


def make_client(settings: Settings) -> httpx.AsyncClient:
    """The one HTTP client of a bot process: OpenAPI, session webhooks and connections/open.

    ``trust_env=False``: the proxy is already resolved from ``[network]`` and the
    environment by ``proxy_config``, the same way the stream WebSocket resolves it.
    """
    network = settings.network
    transport = AsyncioTransport(proxy=proxy_config(network.proxy, network.no_proxy))
    return httpx.AsyncClient(
        transport=transport, timeout=settings.sender.http_timeout, trust_env=False
    )
