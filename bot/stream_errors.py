"""What the stream edge says when DingTalk's gateway cannot be reached or refuses: the
exceptions, the one-line causes (DNS, refused, timeout, proxy, credentials), and what the
gateway's answer to ``connections/open`` means."""

from __future__ import annotations

import logging
import socket
from urllib.parse import quote_plus

import httpx

# Imported by name: ``websockets.exceptions`` is not an attribute of the package until some
# submodule has imported it, and referring to it in an ``except`` clause of a fresh
# interpreter killed the connection loop with an AttributeError (issue 11).
from websockets.exceptions import InvalidStatus


class StreamCheckFailed(Exception):
    """``StreamEdge.check`` could not open a connection; the message says why."""


class GatewayRefused(Exception):
    """The gateway did not hand out a ticket; the message is the one log line about it."""

    def __init__(self, message: str, *, level: int = logging.WARNING) -> None:
        super().__init__(message)
        self.level = level


# connections/open answers for a wrong clientId or clientSecret (authFailed: field reports
# in ticket_url; the token API's invalidClientIdOrSecret / InvalidAuthentication for good
# measure).
CREDENTIAL_CODES = {"authFailed", "invalidClientIdOrSecret", "InvalidAuthentication"}


def network_cause(exc: BaseException) -> str:
    """Name what failed underneath an httpx error: DNS, a refused connection, a timeout."""
    seen: BaseException | None = exc
    for _ in range(10):  # a chain, not a cycle, but never trust that
        if seen is None:
            break
        if isinstance(seen, socket.gaierror):
            return f"name not resolved (DNS: {seen.strerror or seen})"
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, httpx.TimeoutException | TimeoutError):
            return f"timed out ({type(seen).__name__})"
        if isinstance(seen, httpx.ProxyError):
            return f"the proxy refused the request ({seen})"
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    if "Name or service not known" in text or "getaddrinfo" in text or "nodename" in text:
        return "name not resolved (DNS)"
    if "refused" in text.lower():
        return "connection refused"
    return f"{type(exc).__name__}: {text}"[:200]


def without_credentials(url: str) -> str:
    """A proxy URL fit for a log line: no user name or password."""
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")


def ws_brief(exc: BaseException) -> str:
    if isinstance(exc, InvalidStatus):
        return f"WebSocket handshake answered HTTP {exc.response.status_code}"
    return f"{type(exc).__name__}: {exc}"[:200]


def local_ip() -> str:
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


def ticket_url(url: str, response: httpx.Response) -> str:
    """The WebSocket URL (endpoint and single-use ticket) in the gateway's answer to
    ``connections/open`` at ``url``.

    Raises:
        GatewayRefused: with one line that says what went wrong and what to check.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    code = str(body.get("code", "")) if isinstance(body, dict) else ""
    message = str(body.get("message", "")) if isinstance(body, dict) else ""
    status = response.status_code
    if status in (400, 401, 403) and (code in CREDENTIAL_CODES or status == 401):
        # A wrong clientId / clientSecret answers HTTP 401 {"code": "authFailed",
        # "message": "鉴权失败"} (field reports: zfanswer/dify-on-dingtalk #28,
        # agentscope-ai/QwenPaw #1027).
        raise GatewayRefused(
            f"DingTalk refused the app's credentials (HTTP {status}, code {code or '-'}"
            f"{': ' + message[:80] if message else ''}): check dingtalk.client_id and"
            " dingtalk.client_secret (or COMMUNITY_BOT_DINGTALK__CLIENT_SECRET) against the"
            " app's AppKey / AppSecret in the developer console",
            level=logging.ERROR,
        )
    if status != 200:
        # Not JSON: a proxy's or load balancer's page (openclaw-channel-dingtalk #289 got an
        # HTML "plain HTTP request was sent to HTTPS port").
        what = f"code {code}" if code else "not a DingTalk answer"
        raise GatewayRefused(f"DingTalk stream gateway answered HTTP {status} ({what}) at {url}")
    endpoint = body.get("endpoint") if isinstance(body, dict) else None
    ticket = body.get("ticket") if isinstance(body, dict) else None
    if not endpoint or not ticket:
        raise GatewayRefused(f"DingTalk stream gateway gave no endpoint or ticket at {url}")
    return f"{endpoint}?ticket={quote_plus(ticket)}"
