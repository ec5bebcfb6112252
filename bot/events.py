"""Inbound events as pydantic models, parsed from the stream frames' ``data``."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.cards import ButtonData

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


# DingTalk's encrypted ids (``senderId``, ``chatbotUserId``) look like "$:LWCP_v1:$…"
# (developerpedia docs/learn/bot/message.md samples). A member known only by such an id has
# no staff id: the OpenAPI's userIds take staff ids only, and batchSend answers
# ``staffId.notExisted`` or lists the id as invalid (DingTalk-Real-AI/dingtalk-openclaw-connector
# #431; robot_1_0 BatchSendOTOResponseBody.invalidStaffIdList).
NON_STAFF_PREFIX = "$:"


def member_id(staff_id: str, sender_id: str) -> str:
    """The one id a member is known by: the staff id, else the encrypted ``senderId``.

    ``senderStaffId`` is absent for external contacts and before the app is published
    (help.dingtalk.io receive-message field table; eryajf/chatgpt-dingtalk #63). Such a
    member still needs an identity, and it must never pass for a staff id.
    """
    if staff_id:
        return staff_id
    if not sender_id:
        return ""
    return sender_id if sender_id.startswith(NON_STAFF_PREFIX) else NON_STAFF_PREFIX + sender_id


def is_staff_id(value: str) -> bool:
    """Whether ``value`` may be used as a userId in an OpenAPI call (batchSend, IM_ROBOT
    cards, at-lists): a staff id, not a member known only by their encrypted id."""
    return bool(value) and not value.startswith(NON_STAFF_PREFIX)


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


class AtUser(BaseModel):
    """Someone @-mentioned in a message: ``atUsers`` entries are ``{"dingtalkId", "staffId"}``
    (the official receive-message sample; dingtalk-stream's ``chatbot.AtUser``). ``staffId``
    is the member's userId inside the organisation; the robot itself is listed too, with its
    ``chatbotUserId`` as ``dingtalkId`` and no staff id, as are external contacts."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    dingtalk_id: str = Field(alias="dingtalkId", default="")
    staff_id: str = Field(alias="staffId", default="")


class BotMessage(BaseModel):
    """A robot message (topic ``/v1.0/im/bot/messages/get``)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    msg_id: str = Field(alias="msgId", min_length=1)
    conversation_id: str = Field(alias="conversationId", min_length=1)
    conversation_type: Literal["1", "2"] = Field(alias="conversationType", default="2")
    conversation_title: str = Field(alias="conversationTitle", default="")
    msgtype: str = "text"
    text: TextBody | None = None
    # Other message types: ``richText`` fragments, a picture's download codes, …
    content: dict[str, Any] | None = None
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
    at_users: list[AtUser] = Field(alias="atUsers", default_factory=list)

    @field_validator("at_users", mode="before")
    @classmethod
    def _at_users(cls, value: Any) -> list[Any]:
        # Hostile or odd pushes must not make the whole message unreadable.
        if not isinstance(value, list):
            return []
        return [
            {
                "dingtalkId": str(u.get("dingtalkId") or "")[:200],
                "staffId": str(u.get("staffId") or "")[:200],
            }
            for u in value
            if isinstance(u, dict)
        ]

    @property
    def mentioned_staff_ids(self) -> list[str]:
        """Staff ids of the members @-mentioned, in order, without the robot itself."""
        out: list[str] = []
        for user in self.at_users:
            if not user.staff_id:
                continue
            if self.chatbot_user_id and user.dingtalk_id == self.chatbot_user_id:
                continue
            if user.staff_id not in out:
                out.append(user.staff_id)
        return out

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
        """The sender's stable id: the staff id, or the encrypted DingTalk id where there is
        none (see ``member_id``; check ``is_staff_id`` before using it as a userId)."""
        return member_id(self.sender_staff_id, self.sender_id)

    @property
    def plain_text(self) -> str | None:
        """The text with DingTalk's @name leftovers stripped, or None for non-text messages.

        A ``richText`` message is read as text too: the HarmonyOS client sends every
        ``@bot /命令`` that way, and text with a picture is ``richText`` on every client.
        """
        if self.msgtype == "richText":
            return self._rich_text()
        if self.msgtype != "text" or self.text is None:
            return None
        return self.text.content.strip()

    @property
    def pictures(self) -> list[str]:
        """Download codes of the pictures in the message (for the message-file download API).

        ``downloadCode`` is preferred over ``pictureDownloadCode``: both come with each
        picture (developerpedia docs/learn/bot/message.md and docs/learn/stream/faq.md), and
        ``downloadCode`` is the one the robot message-file download API takes.
        """
        if self.msgtype == "picture" and isinstance(self.content, dict):
            code = _picture_code(self.content)
            return [code] if code else []
        codes = (_picture_code(f) for f in self._fragments() if f.get("type") == "picture")
        return [code for code in codes if code]

    def _fragments(self) -> list[dict[str, Any]]:
        if self.msgtype != "richText" or not isinstance(self.content, dict):
            return []
        fragments = self.content.get("richText")
        if not isinstance(fragments, list):
            return []
        return [f for f in fragments if isinstance(f, dict)]

    def _rich_text(self) -> str | None:
        """Join the text fragments of a ``richText`` message; None when it has no text.

        The HarmonyOS client sends ``@bot /命令`` as ``[{"text": "@机器人"}, {"text": "/命令"}]``:
        the robot's name comes again as the first fragment, besides ``atUsers`` (AstrBot PR
        #9389, with both clients' payloads). That fragment is dropped when it mentions the
        robot: when the robot is the first of ``atUsers`` (as AstrBot checks), or when a
        command follows it (a one-to-one chat has no ``atUsers``, yet the official sample
        in developerpedia docs/learn/stream/faq.md starts with ``{"text": "@SDK示例"}``).
        Adjacent text fragments are joined as they are; a picture between two separates
        them with a line break.
        """
        parts: list[str] = []
        gap = False
        for fragment in self._fragments():
            text = fragment.get("text")
            if isinstance(text, str):
                if gap and parts:
                    parts.append("\n")
                parts.append(text)
                gap = False
            elif fragment.get("type") == "picture":
                gap = True
        if not parts:
            return None
        first = parts[0].lstrip()
        if first.startswith("@"):
            rest = "".join(parts[1:]).lstrip()
            robot_first = bool(self.at_users) and (
                self.at_users[0].dingtalk_id == self.chatbot_user_id != ""
            )
            _mention, tail = _split_mention(first)
            if robot_first or (tail or rest).startswith(("/", "／")):
                parts[0] = tail
        text = "".join(parts).strip()
        return text if text or not self.pictures else None


def _picture_code(fragment: dict[str, Any]) -> str:
    for key in ("downloadCode", "pictureDownloadCode"):
        value = fragment.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _split_mention(text: str) -> tuple[str, str]:
    """``"@机器人"`` → (mention, ""); ``"@机器人 /帮助"`` → (mention, "/帮助")."""
    for slash in ("/", "／"):
        at = text.find(slash)
        if at > 0:
            return text[:at].rstrip(), text[at:]
    head, _, tail = text.partition(" ")
    return head, tail.strip()


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
    def button(self) -> ButtonData:
        """The button's typed payload (see ``bot.cards.ButtonData``)."""
        return ButtonData.unpack(self.params)

    @property
    def action(self) -> str:
        """The button's verb (``like``, ``join``, …), or empty when absent."""
        return self.button.action

    @property
    def entity_id(self) -> str:
        """The entity the button acts on, as a string (may be empty or junk: validate it)."""
        return self.button.id
