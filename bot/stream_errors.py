"""What the stream edge says when DingTalk's gateway cannot be reached or refuses: the
exceptions and the one-line causes (DNS, refused, timeout, proxy, credentials)."""

from __future__ import annotations

import logging
import socket

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
# above; the token API's invalidClientIdOrSecret / InvalidAuthentication for good measure).
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
