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

The asyncio backend is ``bot.http_backend``; the proxy is resolved once by
``bot.proxy.proxy_config``, for the OpenAPI, the session webhooks and the stream WebSocket.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from typing import cast

import httpcore
import httpx

from bot.config import Settings
from bot.http_backend import AsyncioBackend
from bot.proxy import ProxyConfig, proxy_config

LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=32)


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


__all__ = [
    "LIMITS",
    "AsyncioBackend",
    "AsyncioTransport",
    "ProxyConfig",
    "make_client",
    "proxy_config",
]
