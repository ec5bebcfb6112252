"""Log set-up: plain text or one JSON object per line, context as fields, secrets masked.

Lines about a message, a click, a job or a reply carry their context as record attributes
(``key``, ``conversation``, ``member``, ``outbox_id``, ``route``): the JSON format writes
them as fields of their own (``python-json-logger``), the text format appends them as
``[key=… member=…]``. Every line passes through a mask for the configured secrets, so a
secret that reaches a message or a traceback by accident is still never written.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The context fields a line may carry, in the order the text format shows them.
FIELDS = ("key", "conversation", "member", "outbox_id", "route")
MASK = "***"


def context_tail(record: logging.LogRecord) -> str:
    """``key=… member=…`` for the context fields the record carries."""
    parts = []
    for name in FIELDS:
        value = getattr(record, name, None)
        if value not in (None, "", "-"):
            parts.append(f"{name}={value}")
    return " ".join(parts)


class TextFormatter(logging.Formatter):
    """The plain format with the context appended to the message."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        tail = context_tail(record)
        return f"{line} [{tail}]" if tail else line


class JsonLineFormatter(JsonFormatter):
    """One JSON object per line: time, level, logger, message, the context fields."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        for name in FIELDS:  # a line without a field leaves it out rather than null
            if log_data.get(name) in (None, "", "-"):
                log_data.pop(name, None)


class SecretMask(logging.Formatter):
    """Wraps a formatter and replaces every configured secret in its output."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        # Short values would mask innocent text; real secrets are long.
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        line = self.inner.format(record)
        for secret in self.secrets:
            line = line.replace(secret, MASK)
        return line


def setup_logging(
    level: str,
    *,
    stream: TextIO | None = None,
    fmt: str = "text",
    secrets: Iterable[str] = (),
) -> None:
    """Log to stderr (or ``stream``) as ``fmt`` ("text" or "json"), masking ``secrets``."""
    handler = logging.StreamHandler(stream or sys.stderr)
    inner: logging.Formatter = JsonLineFormatter() if fmt == "json" else TextFormatter(TEXT_FORMAT)
    handler.setFormatter(SecretMask(inner, secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in (
        "httpx",
        "httpcore",
        "websockets",
        "apscheduler",
        "aiohttp.access",
        "alembic.runtime.plugins",  # one line per plugin at every start
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # The SDK installs its own handlers; route its records through ours only.
    for name in ("dingtalk_stream.client", "dingtalk_stream.handler"):
        sdk = logging.getLogger(name)
        sdk.handlers.clear()
        sdk.propagate = True
