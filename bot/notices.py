"""Important notices that cannot reach their member one to one: the next routes.

A notice a member must know (a waitlist promotion, an activity's change or cancellation, a
swap to confirm, a check-in code) is sent one to one through ``oToMessages/batchSend``.
When that route is given up (refused for the member, or throttled past the reply's
horizon), the notice goes into the group it belongs to, naming the member: through a
session webhook of that group while one is open, which is the one sending route with a real
@mention (``at.atUserIds``: DINGTALK.md "Sending"; the session webhook posts into the
conversation of the message it came with, alibabacloud-dingtalk / dingtalk-stream
``ChatbotMessage.session_webhook``), else through ``groupMessages/send``, which has no
mention (robot_1_0 ``OrgGroupSendRequest`` carries robotCode, openConversationId, msgKey and
msgParam only; dingtalk-stream-sdk-go #19), so the text names the member. When the group
route is given up too, the operators (``ops.alert_staff_ids``, else the admins) are told one
to one, with the member's name, never the id. The rows these routes use are derived from the
original, with suffixes that say which route they are (``#group``, ``#ops``), so a route is
never tried twice and the chain ends.
"""

from __future__ import annotations

from datetime import datetime

from bot import safety
from bot.config import Settings
from bot.i18n import Text
from bot.replies import Reply, TextReply, ToCurrent, ToMembers
from bot.wire import as_message
from storage.outbox import OutboxRow

GROUP_SUFFIX = "#group"
OPS_SUFFIX = "#ops"


class T:
    """What the group and the operators are told (Chinese first)."""

    in_group = Text(
        "{name}，这条通知没能私信送达你，在群里转告：\n{notice}",
        "{name}, this notice could not reach you one to one, so it is posted here:\n{notice}",
    )
    in_group_secret = Text(
        "{name}，有一条给你的重要私信没能送达（内容不便在群里公开）。"
        "请在与机器人的单聊中重新获取，或联系管理员。",
        "{name}, an important private message could not reach you (it cannot be shown in "
        "the group). Ask for it again in your one-to-one chat with the bot, or contact an admin.",
    )
    to_ops = Text(
        "【社区助手】一条重要通知私信和群里都没能送达成员「{name}」（群「{group}」），"
        "请转告本人：\n{notice}",
        "[community bot] An important notice reached member '{name}' (group '{group}') "
        "neither one to one nor in the group; please tell them:\n{notice}",
    )
    someone = Text("一位成员", "a member")


def important(reply: Reply | None) -> ToMembers | None:
    """The target of an important one-to-one notice (None for anything else)."""
    to = getattr(reply, "to", None)
    return to if isinstance(to, ToMembers) and to.important else None


def notice_text(reply: Reply) -> str:
    """The notice as text (what the member was to read)."""
    _, param, _ = as_message(reply)
    return str(param.get("content") or param.get("text") or "")


def route_of(idem_key: str) -> str:
    """Which fallback route a row is ("" for an original row)."""
    if idem_key.endswith(OPS_SUFFIX):
        return "ops"
    if GROUP_SUFFIX in idem_key:
        return "group"
    return ""


def operators(settings: Settings) -> list[str]:
    """Who is told when a member cannot be reached: ``ops.alert_staff_ids``, else the admins
    (as bot.alerts)."""
    ops = settings.ops.alert_staff_ids
    return list(ops if ops is not None else settings.admins.staff_ids)


def _row(
    key: str, conversation_id: str, kind: str, reply: Reply, staff_id: str, at: datetime, why: str
) -> OutboxRow:
    return {
        "idem_key": key[:200],
        "conversation_id": conversation_id,
        "conversation_type": kind,
        "reply": reply.model_dump_json(),
        "reply_staff_id": staff_id,
        "session_webhook": "",
        "session_expires_at": None,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": at,
        "lease_until": None,
        "last_error": why[:500],
        "route": "",
        "created_at": at,
        "sent_at": None,
    }


def shown_names(names: list[str]) -> str:
    """Members' names as one inert text, "、"-separated."""
    return "、".join(safety.plain(n) for n in names)


def group_row(
    key: str,
    to: ToMembers,
    names: dict[str, str],
    notice: str,
    at: datetime,
    why: str,
    session: tuple[str, datetime] | None,
) -> OutboxRow:
    """The notice for its members, posted once in its group naming them (with @mentions
    where a session webhook of the group is open)."""
    ids = list(names)
    reply = TextReply(
        content=group_text(to, list(names.values()), notice), at_staff_ids=ids, to=ToCurrent()
    )
    member = ids[0] if len(ids) == 1 else ""
    row = _row(f"{key}{GROUP_SUFFIX}", to.group, "2", reply, member, at, why)
    if session is not None:
        row["session_webhook"], row["session_expires_at"] = session
    return row


def ops_row(
    key: str,
    staff_id: str,
    names: list[str],
    group: str,
    notice: str,
    at: datetime,
    why: str,
    settings: Settings,
) -> OutboxRow | None:
    """The operators told, with the member's name, what reached the member nowhere
    (``notice``: the text the group was to read, so a secret stays secret)."""
    staff_ids = operators(settings)
    if not staff_ids:
        return None
    text = T.to_ops.render(
        "zh", name=shown_names(names), group=safety.plain(group) or "-", notice=notice
    )
    reply = TextReply(content=text, to=ToMembers(staff_ids=staff_ids))
    # The member's id is in reply_staff_id only (blanked on delivery; an erasure finds the
    # row by it), never in the text.
    return _row(f"{key}{OPS_SUFFIX}", "", "1", reply, staff_id, at, why)


def group_text(to: ToMembers, names: list[str], notice: str) -> str:
    """What the group reads for the members (only that a notice waits, for a secret one)."""
    if to.secret:
        return T.in_group_secret.render("zh", name=shown_names(names))
    return T.in_group.render("zh", name=shown_names(names), notice=notice)
