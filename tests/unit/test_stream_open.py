"""The connection loop's first request: each way ``connections/open`` fails is one clear line."""

from __future__ import annotations

import socket

import httpx
import pytest

from bot.config import load_settings
from bot.stream import GatewayRefused, StreamEdge


async def _record(*args: object) -> int | None:
    return None


async def _click(*args: object) -> dict[str, object]:
    return {}


def _edge(handler: httpx.MockTransport) -> StreamEdge:
    settings = load_settings(
        None,
        dingtalk={
            "client_id": "ding-app",
            "client_secret": "s3cret",
            "openapi_endpoint": "https://api.dingtalk.com",
        },
    )
    client = httpx.AsyncClient(transport=handler)
    return StreamEdge(settings, record=_record, recorded=lambda _: None, click=_click, http=client)


def _raising(exc: Exception) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.MockTransport(handler)


def _dns_failure() -> Exception:
    try:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    except socket.gaierror as cause:
        try:
            raise httpx.ConnectError(str(cause)) from cause
        except httpx.ConnectError as exc:
            return exc


@pytest.mark.parametrize(
    ("transport", "needle"),
    [
        (_raising(_dns_failure()), "name not resolved (DNS"),
        (_raising(httpx.ConnectTimeout("timed out")), "timed out (ConnectTimeout)"),
        (_raising(httpx.ConnectError("[Errno 111] Connection refused")), "connection refused"),
        (
            httpx.MockTransport(
                lambda r: httpx.Response(400, text="<html>plain HTTP sent to HTTPS port</html>")
            ),
            "answered HTTP 400 (not a DingTalk answer)",
        ),
        (
            httpx.MockTransport(
                lambda r: httpx.Response(503, json={"code": "ServiceUnavailable", "message": "x"})
            ),
            "answered HTTP 503 (code ServiceUnavailable)",
        ),
        (
            # DingTalk's answer to a wrong secret (zfanswer/dify-on-dingtalk #28).
            httpx.MockTransport(
                lambda r: httpx.Response(401, json={"code": "authFailed", "message": "鉴权失败"})
            ),
            "refused the app's credentials (HTTP 401, code authFailed: 鉴权失败): check"
            " dingtalk.client_id and dingtalk.client_secret",
        ),
    ],
)
async def test_each_failed_open_is_one_line_without_the_secret(
    transport: httpx.MockTransport, needle: str
) -> None:
    edge = _edge(transport)
    with pytest.raises(GatewayRefused) as caught:
        await edge._open()
    line = str(caught.value)
    assert needle in line and "\n" not in line and "s3cret" not in line
    await edge.aclose()
