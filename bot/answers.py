"""What DingTalk's answers mean: an HTTP answer (new OpenAPI, older API or session webhook)
into a ``PlatformError`` the sender knows how to retry, and the per-user results of
``oToMessages/batchSend``. ``bot.openapi`` makes the calls; this module reads what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from bot import metrics
from bot.errors import (
    DeliveryFailed,
    PlatformError,
    QuotaExhausted,
    SessionExpired,
    Throttled,
    TransientError,
    Unauthorised,
)

SESSION_EXPIRED_CODES = {300001}
WEBHOOK_THROTTLED_CODES = {130101, 130102}
# The organisation's monthly API quota (DINGTALK.md "Quotas"; throttling doc).
QUOTA_CODE = "Forbidden.AccessDenied.ApiCountLimitForOrg"
# The older API's errcodes: a bad or expired access_token; busy.
LEGACY_BAD_TOKEN_CODES = {40014, 42001}
LEGACY_BUSY_CODE = -1
# Our own codes for answers that carry none.
HTML_BAN = "html-page"
CARD_NOT_DELIVERED = "deliverResults.failed"


def not_json(where: str, status: int, raw: bytes) -> Throttled:
    """An answer that is not JSON: the per-IP ban answers an HTML page, even with HTTP 200
    (DingTalk's throttling doc). It is a failure to retry later, never a success."""
    head = raw[:200].decode(errors="replace").lower()
    what = (
        "answered an HTML page (per-IP ban?)"
        if "<html" in head or "<!doctype" in head
        else "answered something that is not JSON"
    )
    return Throttled(f"{where}: HTTP {status} {what}", status=status, code=HTML_BAN)


def classify(path: str, response: httpx.Response) -> PlatformError:
    """Turn a failed OpenAPI response into the right error."""
    status = response.status_code
    try:
        data = response.json()
    except ValueError:
        return not_json(path, status, response.content)
    code = str(data.get("code", "")) if isinstance(data, dict) else ""
    metrics.DINGTALK_ERRORS.labels(code[:64] or f"HTTP {response.status_code}").inc()
    message = f"{path}: HTTP {response.status_code} {code}".strip()
    if code == QUOTA_CODE:
        return QuotaExhausted(message, status=status, code=code)
    if status in (400, 401) and (code == "InvalidAuthentication" or status == 401):
        return Unauthorised(message, status=status, code=code)
    if status == 429 or "QpsLimit" in code or "Throttl" in code:
        return Throttled(message, status=status, code=code)
    if status >= 500 or code in {"system.busy", "ServiceUnavailable"}:
        return TransientError(message, status=status, code=code)
    return DeliveryFailed(message, status=status, code=code)


def legacy_error(path: str, status: int, body: dict[str, Any]) -> PlatformError | None:
    """The older API's error inside HTTP 200 (``errcode`` / ``errmsg``), or None."""
    code = body.get("errcode", 0)
    if code in (0, None):
        return None
    message = f"{path}: errcode {code} {body.get('errmsg', '')}"
    if code in LEGACY_BAD_TOKEN_CODES:
        return Unauthorised(message, status=status, code=str(code))
    if code == LEGACY_BUSY_CODE:
        return TransientError(message)
    return DeliveryFailed(message, status=status, code=str(code))


def webhook_error(status: int, data: dict[str, Any]) -> PlatformError | None:
    """A session webhook's error inside its answer (``errcode``), or None."""
    code = data.get("errcode", -1 if status != 200 else 0)
    if code == 0:
        return None
    message = f"webhook errcode {code}: {data.get('errmsg', '')}"
    metrics.DINGTALK_ERRORS.labels(str(code)[:64]).inc()
    if code in SESSION_EXPIRED_CODES:
        return SessionExpired(message, status=status, code=str(code))
    if code in WEBHOOK_THROTTLED_CODES or status == 429:
        return Throttled(message, status=status, code=str(code))
    return DeliveryFailed(message, status=status, code=str(code))


def card_delivery_error(result: dict[str, Any]) -> DeliveryFailed | None:
    """A failed card delivery inside HTTP 200 (创建并投放卡片 response:
    ``deliverResults[].success`` / ``errorMsg``), or None."""
    payload = result.get("result", result)
    deliveries = payload.get("deliverResults", []) if isinstance(payload, dict) else []
    failed = [d for d in deliveries if isinstance(d, dict) and d.get("success") is False]
    if not failed:
        return None
    return DeliveryFailed(
        f"card delivery failed: {failed[0].get('errorMsg', '')}",
        status=200,
        code=CARD_NOT_DELIVERED,
    )


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What oToMessages/batchSend answered inside HTTP 200 (robot_1_0 BatchSendOTOResponseBody:
    ``processQueryKey``, ``invalidStaffIdList``, ``flowControlledStaffIdList``, and in newer
    models ``filteredStaffIdList``)."""

    process_query_key: str = ""
    invalid: tuple[str, ...] = ()
    flow_controlled: tuple[str, ...] = ()
    filtered: tuple[str, ...] = ()

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> BatchResult:
        """Read the answer; lists that are absent or not lists count as empty."""

        def ids(key: str) -> tuple[str, ...]:
            value = body.get(key)
            return tuple(str(v) for v in value) if isinstance(value, list) else ()

        return cls(
            str(body.get("processQueryKey", "")),
            ids("invalidStaffIdList"),
            ids("flowControlledStaffIdList"),
            ids("filteredStaffIdList"),
        )

    @property
    def complete(self) -> bool:
        """Whether every user was accepted."""
        return not (self.invalid or self.flow_controlled or self.filtered)
