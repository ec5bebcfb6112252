"""Every text of the feedback feature, Chinese first."""

from __future__ import annotations

from bot.i18n import Text


class T:
    """Texts of ``/反馈`` and ``/回复``."""

    content = Text("内容", "text")
    feedback_id = Text("反馈编号", "feedback number")
    help_feedback = Text(
        "给管理员留言（建议、问题），管理员回复后私信告诉你", "send feedback to the admins"
    )
    help_reply = Text("回复一条成员反馈（成员会收到私信）", "answer a member's feedback")
    received = Text(
        "已收到你的反馈 #{id}，已转给管理员；回复会私信发给你。",
        "Thanks, your feedback #{id} went to the admins; their answer will come one to one.",
    )
    received_no_admin = Text(
        "已收到你的反馈 #{id}。本群还没有设置管理员，暂时没有人能回复。",
        "Your feedback #{id} is recorded, but no admin is set up here to answer it yet.",
    )
    too_long = Text(
        "反馈最多 {limit} 个字，现在是 {length} 个。",
        "Feedback can be at most {limit} characters; it has {length}.",
    )
    too_many = Text(
        "你在 1 小时内已经发了 {n} 条反馈，请稍后再发，管理员会逐条看的。",
        "You have sent {n} feedback messages within an hour; please wait a little.",
    )
    too_many_day = Text(
        "你今天已经发了 {n} 条反馈，明天再发吧。",
        "You have sent {n} feedback messages today; please try again tomorrow.",
    )
    to_admins = Text(
        "【{group}】{name} 的反馈 #{id}：\n{text}\n回复：/回复 {id} <内容>",
        "[{group}] Feedback #{id} from {name}:\n{text}\nAnswer: /reply {id} <text>",
    )
    unknown = Text("本群没有编号为 {id} 的反馈。", "There is no feedback #{id} in this group.")
    answered = Text(
        "已把回复私信发给 {name}（反馈 #{id}）。", "Your answer to feedback #{id} went to {name}."
    )
    answer_to_member = Text(
        "管理员回复了你的反馈 #{id}：\n{answer}\n\n你的反馈：{text}",
        "An admin answered your feedback #{id}:\n{answer}\n\nYour feedback: {text}",
    )
    this_group = Text("本群", "this group")
    privacy_title = Text("我的反馈", "My feedback")
    privacy_item = Text("#{id} {day}：{text}", "#{id} {day}: {text}")
    privacy_answered = Text("（已回复）", " (answered)")
