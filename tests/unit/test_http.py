"""The asyncio transport under httpx: TLS, keep-alive, timeouts, flow control, errors."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator

import httpcore
import httpx
import pytest
import trustme
from aiohttp import web

from bot.http import AsyncioTransport


async def _serve(app: web.Application, ssl_context: ssl.SSLContext | None = None) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    return runner


def _port(runner: web.AppRunner) -> int:
    return int(runner.addresses[0][1])


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response(
        {"len": len(body), "peer": request.transport.get_extra_info("peername")[1]}
    )  # type: ignore[union-attr]


async def _big(request: web.Request) -> web.Response:
    return web.Response(body=b"x" * 3_000_000)


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_post("/echo", _echo)
    app.router.add_get("/big", _big)
    runner = await _serve(app)
    yield f"http://127.0.0.1:{_port(runner)}"
    await runner.cleanup()


async def test_requests_share_a_kept_alive_connection_and_big_bodies_flow(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_anyio(*args: object, **kwargs: object) -> None:
        raise AssertionError("went through httpcore's anyio backend")

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", no_anyio)
    async with httpx.AsyncClient(transport=AsyncioTransport(), trust_env=False) as client:
        first = await client.post(server + "/echo", content=b"hello")
        second = await client.post(server + "/echo", content=b"x" * 5_000_000)
        big = await client.get(server + "/big")
    assert first.json()["len"] == 5 and second.json()["len"] == 5_000_000
    assert first.json()["peer"] == second.json()["peer"]  # the same client socket
    assert big.content == b"x" * 3_000_000


async def _tls_echo_server() -> tuple[web.AppRunner, ssl.SSLContext]:
    """An HTTPS echo server for ``localhost`` with a throwaway CA, and a client context
    that trusts that CA (and nothing else)."""
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    app = web.Application()
    app.router.add_post("/echo", _echo)
    return await _serve(app, server_ctx), client_ctx


async def test_tls_with_a_verified_certificate() -> None:
    runner, client_ctx = await _tls_echo_server()
    url = f"https://localhost:{_port(runner)}/echo"
    try:
        transport = AsyncioTransport(verify=client_ctx)
        async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
            assert (await client.post(url, content=b"secret")).json()["len"] == 6
        # Without the CA the handshake fails with httpx's own error type.
        async with httpx.AsyncClient(transport=AsyncioTransport(), trust_env=False) as client:
            with pytest.raises(httpx.ConnectError):
                await client.post(url, content=b"secret")
    finally:
        await runner.cleanup()


async def test_a_silent_server_times_out_and_a_closed_port_fails_to_connect() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with httpx.AsyncClient(transport=AsyncioTransport(), timeout=0.2) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post(f"http://127.0.0.1:{port}/x", content=b"?")
    server.close()
    for writer in accepted:
        writer.close()
    await server.wait_closed()
    async with httpx.AsyncClient(transport=AsyncioTransport(), timeout=1) as client:
        with pytest.raises(httpx.ConnectError):
            await client.post(f"http://127.0.0.1:{port}/x", content=b"?")


async def test_an_idle_connection_the_server_closed_is_replaced() -> None:
    connections = 0

    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(2)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()  # keep-alive was promised, but the server hangs up anyway

    server = await asyncio.start_server(once, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/x"
    async with httpx.AsyncClient(transport=AsyncioTransport(), timeout=2) as client:
        for _ in range(3):
            assert (await client.post(url, content=b"hi")).text == "ok"
            await asyncio.sleep(0.05)  # let the close arrive while the connection is idle
    assert connections == 3
    server.close()
    await server.wait_closed()


async def test_https_through_a_proxy_tunnels_with_connect_and_verifies_tls() -> None:
    from bot.http import ProxyConfig
    from tests.scenario.test_proxy import CountingProxy

    runner, client_ctx = await _tls_echo_server()
    proxy = CountingProxy()
    await proxy.start()
    url = f"https://localhost:{_port(runner)}/echo"
    try:
        transport = AsyncioTransport(verify=client_ctx, proxy=ProxyConfig(https=proxy.url))
        async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
            assert (await client.post(url, content=b"tunnel")).json()["len"] == 6
            assert (await client.post(url, content=b"again")).json()["len"] == 5
        # One tunnel, kept alive for both requests; the proxy never saw the plain request.
        assert proxy.connects == [f"localhost:{_port(runner)}"] and proxy.requests == []
        # NO_PROXY: straight to the server.
        direct = ProxyConfig(https=proxy.url, no_proxy="localhost")
        transport = AsyncioTransport(verify=client_ctx, proxy=direct)
        async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
            assert (await client.post(url, content=b"x")).json()["len"] == 1
        assert len(proxy.connects) == 1
    finally:
        await proxy.stop()
        await runner.cleanup()


class _CountingTransport(asyncio.Transport):
    """A transport that records each write (each would be one ``send`` system call)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass


async def test_a_request_head_and_body_go_out_in_one_write() -> None:
    from bot.http_backend import _GATHER_MAX, _Protocol, _Stream

    transport = _CountingTransport()
    protocol = _Protocol()
    protocol.connection_made(transport)
    stream = _Stream(transport, protocol)
    # httpcore writes the head, then the body, then reads the answer.
    await stream.write(b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n")
    await stream.write(b"body")
    protocol.data_received(b"HTTP/1.1 200 OK\r\n\r\n")
    assert await stream.read(1024) == b"HTTP/1.1 200 OK\r\n\r\n"
    assert transport.writes == [b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody"]
    # Nothing is left waiting for a read: a write goes out on the loop's next turn.
    await stream.write(b"more")
    await asyncio.sleep(0)
    assert transport.writes[-1] == b"more"
    # A big body is handed over at once (the transport's flow control takes it from there).
    await stream.write(b"x" * _GATHER_MAX)
    assert transport.writes[-1] == b"x" * _GATHER_MAX
