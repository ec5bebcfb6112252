"""DingTalk's OpenAPI and session webhooks over one ``httpx.AsyncClient``.

Every call goes to ``dingtalk.openapi_endpoint``; errors are classified into the
``PlatformError`` hierarchy so the sender knows what to retry.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bot import metrics
from bot.config import Settings
from bot.errors import (
    DeliveryFailed,
    NotConnected,
    PlatformError,
    QuotaExhausted,
    SessionExpired,
    Throttled,
    TransientError,
    Unauthorised,
)
from bot.http import make_client

log = logging.getLogger(__name__)

SESSION_EXPIRED_CODES = {300001}
WEBHOOK_THROTTLED_CODES = {130101, 130102}
# The organisation's monthly API quota (DINGTALK.md "Quotas"; throttling doc).
QUOTA_CODE = "Forbidden.AccessDenied.ApiCountLimitForOrg"
# Our own codes for answers that carry none.
HTML_BAN = "html-page"
CARD_NOT_DELIVERED = "deliverResults.failed"


@dataclass(slots=True)
class _CachedToken:
    """An access token and when to stop using it: five minutes before it expires, or at half
    its lifetime when that is shorter."""

    value: str | None = None
    until: float = 0.0

    def fresh(self) -> str | None:
        """The token while it may still be used, else None."""
        return self.value if self.value and time.monotonic() < self.until else None

    def keep(self, token: str, expire_in: float) -> None:
        """Keep a new token that DingTalk said lives ``expire_in`` seconds."""
        self.value = token
        self.until = time.monotonic() + max(expire_in - 300, expire_in / 2)

    def clear(self) -> None:
        """Forget the token (DingTalk said it is bad or expired)."""
        self.value = None
        self.until = 0.0


class OpenAPI:
    """Typed wrappers for the calls the bot makes; the access token is cached and refreshed."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.base = settings.dingtalk.openapi_endpoint
        # One client for every call, session webhooks included, so proxies and tests see
        # them all; closed here only if it was made here.
        self._owns_client = client is None
        self.client = client or make_client(settings)
        self._token = _CachedToken()
        self._token_lock = asyncio.Lock()
        self._legacy_token = _CachedToken()

    async def aclose(self) -> None:
        """Close the HTTP client, if this instance made it."""
        if self._owns_client:
            await self.client.aclose()

    # -- access token ----------------------------------------------------------------------

    async def token(self) -> str:
        """A valid access token, fetched once and shared until it is about to expire."""
        return await self._cached(self._token, self._fetch_token)

    async def _fetch_token(self) -> tuple[str, float]:
        """A new access token and its lifetime in seconds."""
        body = await self._request(
            "POST",
            "/v1.0/oauth2/accessToken",
            {
                "appKey": self.settings.dingtalk.client_id,
                "appSecret": self.settings.dingtalk.client_secret.get_secret_value(),
            },
            auth=False,
        )
        token = body.get("accessToken")
        if not isinstance(token, str) or not token:
            raise DeliveryFailed("no accessToken in the token response")
        return token, float(body.get("expireIn", 7200))

    async def _cached(
        self, slot: _CachedToken, fetch: Callable[[], Awaitable[tuple[str, float]]]
    ) -> str:
        """The token in ``slot`` while it is fresh, else a new one fetched once (callers
        waiting meanwhile share it)."""
        if (token := slot.fresh()) is not None:
            return token
        async with self._token_lock:
            if (token := slot.fresh()) is not None:
                return token
            token, expire_in = await fetch()
            slot.keep(token, expire_in)
            return token

    def invalidate_token(self) -> None:
        """Forget the cached token (DingTalk said it is bad or expired)."""
        self._token.clear()
        self._legacy_token.clear()

    async def legacy_token(self) -> str:
        """The older API's ``access_token`` (``GET /gettoken?appkey&appsecret``), for the
        calls that only exist there (the media upload). Sources do not say whether the new
        token works there too, so the older API gets a token of its own (as the published
        upload examples do)."""
        return await self._cached(self._legacy_token, self._fetch_legacy_token)

    async def _fetch_legacy_token(self) -> tuple[str, float]:
        """A new ``access_token`` of the older API and its lifetime in seconds."""
        body = await self._legacy(
            "GET",
            "/gettoken",
            params={
                "appkey": self.settings.dingtalk.client_id,
                "appsecret": self.settings.dingtalk.client_secret.get_secret_value(),
            },
        )
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise DeliveryFailed("no access_token in the gettoken response")
        return token, float(body.get("expires_in", 7200))

    async def media_upload(self, data: bytes, filename: str, content_type: str) -> str:
        """Upload a picture; its ``media_id`` (help.dingtalk.io 上传媒体文件: multipart field
        ``media``, ``type=image``, at most 20 MB, jpg/gif/png/bmp)."""
        for attempt in (1, 2):
            token = await self.legacy_token()
            try:
                body = await self._legacy(
                    "POST",
                    "/media/upload",
                    params={"access_token": token, "type": "image"},
                    files={"media": (filename, data, content_type)},
                    data={"type": "image"},
                )
            except Unauthorised:
                self._legacy_token.clear()
                if attempt == 2:
                    raise
                continue
            media_id = body.get("media_id")
            if not isinstance(media_id, str) or not media_id:
                raise DeliveryFailed("no media_id in the upload response")
            return media_id
        raise AssertionError("unreachable")

    async def message_file_url(self, download_code: str) -> str:
        """The temporary download link of a file or picture a member sent the robot.

        下载机器人接收消息的文件内容 (robot_1_0 ``RobotMessageFileDownloadRequest``:
        ``downloadCode`` and ``robotCode`` → ``RobotMessageFileDownloadResponseBody.downloadUrl``;
        open.dingtalk.com/document/orgapp/download-the-file-content-of-the-robot-receiving-message).
        The code is short-lived and belongs to the robot that received the message, so the
        link is asked for with this app's robot code and fetched at once.
        """
        body = await self.call(
            "POST",
            "/v1.0/robot/messageFiles/download",
            {
                "downloadCode": download_code,
                "robotCode": self.settings.dingtalk.effective_robot_code,
            },
        )
        url = body.get("downloadUrl")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise DeliveryFailed("no downloadUrl in the message-file answer", code="no-url")
        return url

    async def fetch_file(self, url: str, max_bytes: int) -> bytes:
        """The bytes behind a download link, refused (``code="too-large"``) as soon as they
        pass ``max_bytes``: a big file is never read whole."""
        try:
            async with self.client.stream("GET", url) as response:
                if response.status_code >= 500:
                    raise TransientError(f"file download: HTTP {response.status_code}")
                if response.status_code >= 400:
                    raise DeliveryFailed(
                        f"file download: HTTP {response.status_code}",
                        status=response.status_code,
                        code="link-refused",
                    )
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise DeliveryFailed("file larger than the limit", code="too-large")
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > max_bytes:
                        raise DeliveryFailed("file larger than the limit", code="too-large")
                return bytes(data)
        except httpx.HTTPError as exc:
            raise TransientError(f"file download: {type(exc).__name__}") from exc

    async def _legacy(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str],
        files: dict[str, tuple[str, bytes, str]] | None = None,
        data: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A call to the older API: errors come inside HTTP 200 as ``errcode`` / ``errmsg``
        (40014 and 42001: a bad or expired access_token; -1: busy).

        Where the codes come from (re-checked with the search tools, issue 18): no
        DingTalk-published table of them was found in the indexed sources. The numbers and
        meanings are those of the WeChat-family global error table the older DingTalk API
        mirrors (-1 系统繁忙, 40004 不合法的媒体文件类型, 40005 不合法的文件类型, 40006 不合法的
        文件大小, 40014 不合法的access_token, 42001 access_token超时; e.g. WxJava's
        WxCpErrorMsgEnum and SyZero's WxOpenReturnCode), and the DingTalk upload clients
        found (oapi ``/media/upload`` callers) only test ``errcode != 0``. So the token codes
        decide a refresh, and any other non-zero code is a refusal, whatever its number."""
        url = self.settings.dingtalk.effective_oapi_endpoint + path
        try:
            response = await self.client.request(method, url, params=params, files=files, data=data)
        except httpx.HTTPError as exc:
            raise TransientError(f"{path}: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise TransientError(f"{path}: HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise Throttled(
                f"{path}: HTTP {response.status_code} {_not_json(response.content)}",
                status=response.status_code,
                code=HTML_BAN,
            ) from None
        if not isinstance(body, dict):
            raise DeliveryFailed(f"{path}: unexpected answer")
        code = body.get("errcode", 0)
        if code in (0, None):
            return body
        message = f"{path}: errcode {code} {body.get('errmsg', '')}"
        if code in (40014, 42001):
            raise Unauthorised(message, status=response.status_code, code=str(code))
        if code == -1:
            raise TransientError(message)
        raise DeliveryFailed(message, status=response.status_code, code=str(code))

    # -- the calls ---------------------------------------------------------------------------

    async def group_send(
        self, conversation_id: str, msg_key: str, msg_param: dict[str, Any]
    ) -> str:
        """Post into a group; returns DingTalk's ``processQueryKey``."""
        body = await self.call(
            "POST",
            "/v1.0/robot/groupMessages/send",
            {
                "robotCode": self.settings.dingtalk.effective_robot_code,
                "openConversationId": conversation_id,
                "msgKey": msg_key,
                "msgParam": json.dumps(msg_param, ensure_ascii=False),
            },
        )
        return str(body.get("processQueryKey", ""))

    async def members_send(
        self, staff_ids: list[str], msg_key: str, msg_param: dict[str, Any]
    ) -> BatchResult:
        """Send one to one to at most 20 members; who was refused comes back inside HTTP 200."""
        if not 0 < len(staff_ids) <= 20:
            raise DeliveryFailed(f"batchSend takes 1 to 20 users, got {len(staff_ids)}")
        body = await self.call(
            "POST",
            "/v1.0/robot/oToMessages/batchSend",
            {
                "robotCode": self.settings.dingtalk.effective_robot_code,
                "userIds": staff_ids,
                "msgKey": msg_key,
                "msgParam": json.dumps(msg_param, ensure_ascii=False),
            },
        )
        return BatchResult.from_body(body)

    async def card_deliver(self, body: dict[str, Any]) -> None:
        """Create and deliver a card; a failed delivery inside HTTP 200 raises too."""
        result = await self.call("POST", "/v1.0/card/instances/createAndDeliver", body)
        payload = result.get("result", result)
        deliveries = payload.get("deliverResults", []) if isinstance(payload, dict) else []
        failed = [d for d in deliveries if isinstance(d, dict) and d.get("success") is False]
        if failed:
            # 创建并投放卡片 response: deliverResults[].success / errorMsg, inside HTTP 200.
            raise DeliveryFailed(
                f"card delivery failed: {failed[0].get('errorMsg', '')}",
                status=200,
                code=CARD_NOT_DELIVERED,
            )

    async def card_update(self, out_track_id: str, card_data: dict[str, str]) -> None:
        """Update a card's public data by key."""
        await self.call(
            "PUT",
            "/v1.0/card/instances",
            {
                "outTrackId": out_track_id,
                "cardData": {"cardParamMap": card_data},
                "cardUpdateOptions": {"updateCardDataByKey": True},
            },
        )

    async def webhook_send(self, url: str, body: dict[str, Any]) -> None:
        """Reply through a session webhook (errors come inside HTTP 200 as ``errcode``)."""
        # Through the one client like every other call (issue 15): a proxy, and the tests'
        # recording clients, see webhooks too.
        try:
            response = await self.client.post(
                url,
                content=json.dumps(body, ensure_ascii=False).encode(),
                headers={"Content-Type": "application/json"},
            )
            raw = response.content
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # Refused or unreachable: the request never left, so the OpenAPI may carry it.
            raise NotConnected(f"webhook: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise TransientError(f"webhook: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise TransientError(
                f"webhook HTTP {response.status_code}", status=response.status_code
            )
        try:
            data = json.loads(raw)
        except ValueError:
            # Not JSON: the per-IP ban answers an HTML page (DingTalk's throttling doc), even
            # with 200. It is a failure to retry later, never a success.
            raise Throttled(
                f"webhook HTTP {response.status_code}: {_not_json(raw)}",
                status=response.status_code,
                code=HTML_BAN,
            ) from None
        if not isinstance(data, dict):
            data = {}
        code = data.get("errcode", -1 if response.status_code != 200 else 0)
        if code == 0:
            return
        message = f"webhook errcode {code}: {data.get('errmsg', '')}"
        metrics.DINGTALK_ERRORS.labels(str(code)[:64]).inc()
        if code in SESSION_EXPIRED_CODES:
            raise SessionExpired(message, status=response.status_code, code=str(code))
        if code in WEBHOOK_THROTTLED_CODES or response.status_code == 429:
            raise Throttled(message, status=response.status_code, code=str(code))
        raise DeliveryFailed(message, status=response.status_code, code=str(code))

    # -- plumbing ----------------------------------------------------------------------------

    async def call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """An authenticated call; a rejected token is refreshed and the call tried once more."""
        try:
            return await self._request(method, path, body, auth=True)
        except Unauthorised:
            self.invalidate_token()
            return await self._request(method, path, body, auth=True)

    async def _request(
        self, method: str, path: str, body: dict[str, Any], *, auth: bool
    ) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["x-acs-dingtalk-access-token"] = await self.token()
        try:
            response = await self.client.request(
                method, self.base + path, content=json.dumps(body), headers=headers
            )
        except httpx.HTTPError as exc:
            raise TransientError(f"{path}: {type(exc).__name__}") from exc
        if response.status_code < 300:
            if not response.content.strip():
                return {}
            try:
                data = response.json()
            except ValueError:
                # An HTML page (the per-IP ban of the throttling doc) is not an answer.
                raise Throttled(
                    f"{path}: HTTP {response.status_code} {_not_json(response.content)}",
                    status=response.status_code,
                    code=HTML_BAN,
                ) from None
            return data if isinstance(data, dict) else {"result": data}
        raise classify(path, response)


def classify(path: str, response: httpx.Response) -> PlatformError:
    """Turn a failed OpenAPI response into the right error."""
    status = response.status_code
    try:
        data = response.json()
    except ValueError:
        # The per-IP ban answers an HTML page, not a JSON error (throttling doc): retry later.
        return Throttled(
            f"{path}: HTTP {status} {_not_json(response.content)}", status=status, code=HTML_BAN
        )
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


def _not_json(raw: bytes) -> str:
    head = raw[:200].decode(errors="replace").lower()
    return (
        "answered an HTML page (per-IP ban?)"
        if "<html" in head or "<!doctype" in head
        else "answered something that is not JSON"
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
