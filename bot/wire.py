"""What goes on the wire: message bodies for the session webhook and the OpenAPI, card
bodies for createAndDeliver, the per-group pace, and what the platform's refusals mean.
``bot.sender`` decides when and where to send; this module says what is sent."""

from __future__ import annotations

import time
from typing import Any

from bot.cards import card_param_map
from bot.config import Settings
from bot.openapi import CARD_NOT_DELIVERED
from bot.replies import (
    CardReply,
    CardUpdate,
    ImageReply,
    MarkdownReply,
    Reply,
    TextReply,
    ToMembers,
)
from storage.models import OutboxMessage


class Pace:
    """A token bucket per group, so bursts of group posts stay under DingTalk's limit."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str, now: float | None = None) -> float:
        """Take a token; return 0 when granted, else the seconds to wait for the next one."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate


def with_mentions(content: str, staff_ids: list[str]) -> str:
    # DingTalk only renders a mention when "@id" is in the text as well as in atUserIds. It is
    # added here, after the text-safety pass rendered the content, so it is never broken.
    missing = [f"@{sid}" for sid in staff_ids if f"@{sid}" not in content]
    return content + (" " + " ".join(missing) if missing else "")


def as_message(reply: Reply) -> tuple[str, dict[str, Any], list[str]]:
    """A message reply as (msgKey, msgParam, at ids); a card without template becomes markdown.

    The content carries no mention: groupMessages/send and oToMessages/batchSend have no
    ``at`` field, and "@id" in their text notifies nobody (dingtalk-stream-sdk-go #19;
    openclaw-connector #402; alibabacloud-dingtalk robot_1_0 OrgGroupSendRequest and
    BatchSendOTORequest carry only robotCode, openConversationId/userIds, msgKey, msgParam).
    ``webhook_body`` adds the mentions where the platform supports them.
    """
    if isinstance(reply, TextReply):
        return "sampleText", {"content": reply.content}, reply.at_staff_ids
    if isinstance(reply, MarkdownReply):
        return "sampleMarkdown", {"title": reply.title, "text": reply.text}, reply.at_staff_ids
    if isinstance(reply, CardReply):
        return "sampleMarkdown", {"title": reply.title, "text": reply.fallback_markdown}, []
    if isinstance(reply, ImageReply):
        # The picture goes by media id, uploaded just before (``Sender._send``).
        return "sampleImageMsg", {"photoURL": ""}, []
    raise TypeError(f"{type(reply).__name__} is not a message")


def webhook_body(msg_key: str, param: dict[str, Any], at_ids: list[str]) -> dict[str, Any]:
    """The session-webhook body for a message, with its mentions (``at.atUserIds`` and the
    "@id" text, which the session webhook needs both of: DINGTALK.md "Sending")."""
    at = {"atUserIds": at_ids, "isAtAll": False}
    if msg_key == "sampleText":
        content = with_mentions(param["content"], at_ids)
        return {"msgtype": "text", "text": {"content": content}, "at": at}
    markdown = {**param, "text": with_mentions(param["text"], at_ids)}
    return {"msgtype": "markdown", "markdown": markdown, "at": at}


# What the card platform's refusals mean and how an operator fixes them (创建并投放卡片 error
# table; DINGTALK.md "Template errors"). The reply goes out as markdown instead, once.
CARD_REFUSALS: dict[str, str] = {
    "param.templateNotExist": (
        "the card template does not exist for this app: check the template id under [cards] "
        "and link the template to this app in the card platform (关联应用)"
    ),
    "param.templateUnpublished": "the card template is not published: publish it (发布)",
    "param.openSpaceModelInvalid": (
        "the open space model was refused (a bot bug; or the robot is not in that chat)"
    ),
    "param.invalid": (
        "a card parameter was refused: every template variable must be a string variable "
        "named as in docs/cards.md"
    ),
    "param.cardAlreadyExist": "an outTrackId was reused (a bot bug: they are unique)",
    CARD_NOT_DELIVERED: (
        "the card was created but not delivered: add the robot to the group, and check that "
        "the member has talked to the robot"
    ),
}


QUOTA_NOTICE = (
    "钉钉开放接口本月的调用额度已用完（ApiCountLimitForOrg）：群定时消息、一对一消息和卡片暂时发不出去，"
    "额度下月恢复或升级版本后会自动补发。直接回复消息不受影响。\n"
    "The organisation's monthly DingTalk API quota is used up: scheduled posts, one-to-one "
    "messages and cards are held until it renews or the edition is upgraded."
)


def card_body(settings: Settings, row: OutboxMessage, reply: CardReply) -> dict[str, Any]:
    """The createAndDeliver body of a card for the row's chat (group or one to one)."""
    robot = settings.dingtalk.effective_robot_code
    # Values within 1 KB, a cut one naming the command that shows it all (bot.cards).
    data = card_param_map(reply)
    body: dict[str, Any] = {
        "cardTemplateId": reply.template_id,
        "outTrackId": reply.out_track_id,
        "callbackType": "STREAM",
        # userId mode, the documented default (创建并投放卡片 userIdType).
        "userIdType": 1,
        "cardData": {"cardParamMap": data},
    }
    if row.conversation_type == "1":
        # One to one: as the official card examples send it (open-dingtalk/
        # dingtalk-card-examples */golang/index.go: ImRobotOpenSpaceModel{SupportForward},
        # ImRobotOpenDeliverModel{RobotCode, SpaceType: "IM_ROBOT"}) and the request
        # sample of 创建并投放卡片; the Python SDK's CardReplier sends both models too.
        body["openSpaceId"] = f"dtv1.card//IM_ROBOT.{row.reply_staff_id}"
        body["imRobotOpenSpaceModel"] = {"supportForward": True}
        body["imRobotOpenDeliverModel"] = {"spaceType": "IM_ROBOT", "robotCode": robot}
    else:
        body["openSpaceId"] = f"dtv1.card//IM_GROUP.{row.conversation_id}"
        body["imGroupOpenSpaceModel"] = {"supportForward": True}
        body["imGroupOpenDeliverModel"] = {"robotCode": robot}
    return body


NO_STAFF_ID = (
    "no recipient has a staff id (external contacts, or the app is not published):"
    " one-to-one delivery through the OpenAPI is impossible"
)


def to_members(reply: Reply, staff_ids: list[str]) -> Reply:
    if isinstance(reply, CardUpdate):
        return reply
    to = reply.to
    if isinstance(to, ToMembers):  # keeps what the notice is (bot.notices)
        return reply.model_copy(update={"to": to.model_copy(update={"staff_ids": list(staff_ids)})})
    return reply.model_copy(update={"to": ToMembers(staff_ids=list(staff_ids))})
