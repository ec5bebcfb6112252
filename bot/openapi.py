"""DingTalk's OpenAPI and session webhooks over one ``httpx.AsyncClient``.

Every call goes to ``dingtalk.openapi_endpoint``; what the answers mean (errors into the
``PlatformError`` hierarchy, so the sender knows what to retry) is in ``bot.answers``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from bot.answers import (
    BatchResult,
    card_delivery_error,
    classify,
    legacy_error,
    not_json,
    webhook_error,
)
from bot.config import Settings
from bot.errors import (
    DeliveryFailed,
    NotConnected,
    TransientError,
    Unauthorised,
)
from bot.http import make_client
from bot.tokens import CachedToken

log = logging.getLogger(__name__)

# The files the media upload takes as type "file", with their MIME types, and its size
# limit (上传媒体文件: "file: doc, docx, xls, xlsx, ppt, pptx, zip, pdf, rar", "20MB").
FILE_MIME = {
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "zip": "application/zip",
    "pdf": "application/pdf",
    "rar": "application/vnd.rar",
}
MEDIA_MAX_BYTES = 20 * 1024 * 1024


class OpenAPI:
    """Typed wrappers for the calls the bot makes; the access token is cached and refreshed."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.base = settings.dingtalk.openapi_endpoint
        # One client for every call, session webhooks included, so proxies and tests see
        # them all; closed here only if it was made here.
        self._owns_client = client is None
        self.client = client or make_client(settings)
        self._token = CachedToken(self._fetch_token)
        self._legacy_token = CachedToken(self._fetch_legacy_token)

    async def aclose(self) -> None:
        """Close the HTTP client, if this instance made it."""
        if self._owns_client:
            await self.client.aclose()

    # -- access token ----------------------------------------------------------------------

    async def token(self) -> str:
        """A valid access token, fetched once and shared until it is about to expire."""
        return await self._token.get()

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

    def invalidate_token(self) -> None:
        """Forget the cached token (DingTalk said it is bad or expired)."""
        self._token.clear()
        self._legacy_token.clear()

    async def legacy_token(self) -> str:
        """The older API's ``access_token`` (``GET /gettoken?appkey&appsecret``), for the
        calls that only exist there (the media upload). Sources do not say whether the new
        token works there too, so the older API gets a token of its own (as the published
        upload examples do)."""
        return await self._legacy_token.get()

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

    async def media_upload(
        self, data: bytes, filename: str, content_type: str, *, kind: str = "image"
    ) -> str:
        """Upload a picture (``kind="image"``) or a file (``kind="file"``); its ``media_id``.

        上传媒体文件 (help.dingtalk.io upload-media-files; open.dingtalk.com/document/orgapp/
        upload-media-files): ``POST /media/upload?access_token=…&type=…``, multipart field
        ``media``; image: jpg/gif/png/bmp, file: doc/docx/xls/xlsx/ppt/pptx/zip/pdf/rar, each at
        most 20 MB (``FILE_MIME``). The file is then sent as the robot's ``sampleFile``
        message ``{"mediaId", "fileName", "fileType"}`` (机器人发送消息的类型,
        open.dingtalk.com/document/development/robot-message-type; the same body in production
        connectors, e.g. DingTalk-Real-AI/dingtalk-openclaw-connector
        src/services/media.ts sendFileProactive)."""
        for attempt in (1, 2):
            token = await self.legacy_token()
            try:
                body = await self._legacy(
                    "POST",
                    "/media/upload",
                    params={"access_token": token, "type": kind},
                    files={"media": (filename, data, content_type)},
                    data={"type": kind},
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
            raise not_json(path, response.status_code, response.content) from None
        if not isinstance(body, dict):
            raise DeliveryFailed(f"{path}: unexpected answer")
        error = legacy_error(path, response.status_code, body)
        if error is not None:
            raise error
        return body

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
        error = card_delivery_error(result)
        if error is not None:
            raise error

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
            raise not_json("webhook", response.status_code, raw) from None
        error = webhook_error(response.status_code, data if isinstance(data, dict) else {})
        if error is not None:
            raise error

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
                raise not_json(path, response.status_code, response.content) from None
            return data if isinstance(data, dict) else {"result": data}
        raise classify(path, response)
