"""The error hierarchy: what a member sees, what is retried, what operators see."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bot.i18n import Text


class BotError(Exception):
    """Base of every error the bot raises on purpose."""


class UserError(BotError):
    """Something the member can fix; becomes a friendly reply in their language."""

    def __init__(self, text: Text, **params: object) -> None:
        super().__init__(text.zh)
        self.text = text
        self.params = params


class PlatformError(BotError):
    """DingTalk refused or failed a call."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class Throttled(PlatformError):
    """DingTalk asked us to slow down."""

    retryable = True


class Unauthorised(PlatformError):
    """The access token is missing, bad or expired."""

    retryable = True


class QuotaExhausted(PlatformError):
    """``Forbidden.AccessDenied.ApiCountLimitForOrg``: the organisation's monthly OpenAPI call
    quota is used up (DINGTALK.md "Quotas": 10,000 metered calls a month on the standard
    edition). Retried with the longest backoff: the quota comes back next month or on upgrade."""

    retryable = True


class TransientError(PlatformError):
    """A 5xx, a timeout or a dropped connection: try again later."""

    retryable = True


class NotConnected(TransientError):
    """The connection could not even be opened: nothing was sent, another route is safe."""


class SessionExpired(PlatformError):
    """The session webhook is no longer valid; use the OpenAPI instead."""


class DeliveryFailed(PlatformError):
    """DingTalk answered but did not deliver (bad request, card delivery failure)."""


FailureKind = Literal["handler", "click", "job", "delivery", "quota"]


@dataclass(frozen=True, slots=True)
class Failure:
    """Something failed that people should hear about (see ``bot.alerts.ErrorPath``)."""

    kind: FailureKind
    where: str  # the command, button, job or route: what an operator recognises
    error: BaseException | None = None
    key: str = ""  # the message, click, job run or outbox key (for the logs)
    conversation: str = ""
    member: str = ""
    outbox_id: int | None = None
    detail: str = ""  # one line of what DingTalk or the code said, for the logs


FailureSink = Callable[[Failure], None]


def brief(exc: BaseException) -> str:
    """An error in one line for logs, dead letters and operators: its type and message."""
    return f"{type(exc).__name__}: {exc}"[:500]


def ignore_failure(failure: Failure) -> None:
    """The sink until the application connects the error path."""
