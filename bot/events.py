"""Inbound events as pydantic models, parsed from the stream frames' ``data``."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

BOT_MESSAGE_TOPIC = "/v1.0/im/bot/messages/get"
CARD_CALLBACK_TOPIC = "/v1.0/card/instances/callback"


# A lone UTF-16 surrogate (half an emoji, as any UTF-16 truncation leaves) cannot be encoded
# as UTF-8, so neither SQLite nor PostgreSQL can store it; PostgreSQL refuses NUL in text too.
_UNSTORABLE = re.compile("[\ud800-\udfff\x00]")


def storable(value: Any) -> Any:
    """A JSON value with every string made storable: lone surrogates become U+FFFD, NUL goes.

    Applied to every push before it is recorded, so one member's broken text can never make
    the inbox's group commit fail for the pushes recorded with it.
    """
    if isinstance(value, str):
        return _UNSTORABLE.sub(_replacement, value) if _UNSTORABLE.search(value) else value
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


def _replacement(match: re.Match[str]) -> str:
    return "" if match.group() == "\x00" else "\ufffd"


def _ms_to_dt(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError, TypeError):
        # Out of range (1e20 ms raises OSError in fromtimestamp): a broken timestamp is
        # treated as none at all, never a reason to fail the message (an absent session
        # expiry means "try the webhook", whose own refusal then routes to the OpenAPI).
        return None


class TextBody(BaseModel):
    """The ``text`` object of a text message."""

    model_config = ConfigDict(extra="ignore")
    content: str = ""


class BotMessage(BaseModel):
    """A robot message (topic ``/v1.0/im/bot/messages/get``)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    msg_id: str = Field(alias="msgId", min_length=1)
    conversation_id: str = Field(alias="conversationId", min_length=1)
    conversation_type: Literal["1", "2"] = Field(alias="conversationType", default="2")
    conversation_title: str = Field(alias="conversationTitle", default="")
    msgtype: str = "text"
    text: TextBody | None = None
    sender_staff_id: str = Field(alias="senderStaffId", default="")
    sender_id: str = Field(alias="senderId", default="")
    sender_nick: str = Field(alias="senderNick", default="")
    sender_corp_id: str = Field(alias="senderCorpId", default="")
    is_admin: bool = Field(alias="isAdmin", default=False)
    robot_code: str = Field(alias="robotCode", default="")
    chatbot_user_id: str = Field(alias="chatbotUserId", default="")
    create_at: datetime | None = Field(alias="createAt", default=None)
    session_webhook: str = Field(alias="sessionWebhook", default="")
    session_webhook_expires: datetime | None = Field(
        alias="sessionWebhookExpiredTime", default=None
    )

    @field_validator("create_at", "session_webhook_expires", mode="before")
    @classmethod
    def _ms(cls, value: Any) -> datetime | None:
        return _ms_to_dt(value)

    @field_validator("conversation_type", mode="before")
    @classmethod
    def _str_type(cls, value: Any) -> str:
        return str(value)

    @property
    def is_group(self) -> bool:
        """Whether the message came from a group chat."""
        return self.conversation_type == "2"

    @property
    def staff_id(self) -> str:
        """The sender's stable id: the staff id, or the DingTalk id where there is none."""
        return self.sender_staff_id or self.sender_id

    @property
    def plain_text(self) -> str | None:
        """The text with DingTalk's @name leftovers stripped, or None for non-text messages."""
        if self.msgtype != "text" or self.text is None:
            return None
        return self.text.content.strip()


class CardClick(BaseModel):
    """A card button press (topic ``/v1.0/card/instances/callback``)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    type: str = "actionCallback"
    out_track_id: str = Field(alias="outTrackId", min_length=1)
    user_id: str = Field(alias="userId", min_length=1)
    corp_id: str = Field(alias="corpId", default="")
    space_type: str = Field(alias="spaceType", default="")
    space_id: str = Field(alias="spaceId", default="")
    params: dict[str, Any] = Field(default_factory=dict)
    action_ids: list[str] = Field(default_factory=list)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> CardClick:
        """Parse the callback ``data``, whose ``content`` is itself a JSON string."""
        # ``value`` carries the same JSON string as ``content`` (Stream 模式响应卡片回传请求事件).
        content = data.get("content") or data.get("value") or "{}"
        try:
            parsed = json.loads(content) if isinstance(content, str) else dict(content)
        except (ValueError, TypeError):
            parsed = {}
        private = parsed.get("cardPrivateData") or {} if isinstance(parsed, dict) else {}
        params = private.get("params") if isinstance(private, dict) else None
        action_ids = private.get("actionIds") if isinstance(private, dict) else None
        return cls.model_validate(
            {
                **data,
                "params": params if isinstance(params, dict) else {},
                "action_ids": [str(a) for a in action_ids] if isinstance(action_ids, list) else [],
            }
        )

    @property
    def action(self) -> str:
        """The button's verb (``like``, ``join``, …), or empty when absent."""
        value = self.params.get("action")
        return value if isinstance(value, str) else ""

    @property
    def entity_id(self) -> str:
        """The entity the button acts on, as a string (may be empty or junk: validate it)."""
        value = self.params.get("id")
        return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
