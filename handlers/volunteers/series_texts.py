"""The texts of recurring activities (issue 17), Chinese first."""

from __future__ import annotations

from bot.i18n import Text


class S:
    """Every text of recurring activities."""

    repeat = Text("重复（如 每周三）", "repeat (e.g. weekly wed)")
    series_id = Text("系列编号", "series id")
    help_series = Text(
        "查看一个重复活动系列的每一次活动，例如 /活动 系列 2",
        "list a recurring series' activities, e.g. /event series 2",
    )
    help_cancel = Text(
        "取消整个重复系列（尚未开始的每一次），一对一通知报名的人，例如 /活动 取消系列 2 场地维修",
        "cancel a whole series (every activity not yet started) and tell those signed up",
    )
    bad_rule = Text(
        "看不懂重复方式「{value}」。可以写：每天、每周三、每两周三、每月15号"
        "（英文：daily、weekly wed、biweekly wed、monthly 15）。\n"
        "例如：/活动 新建 周三探访 | 2026-12-02 19:00 | 2 | 敬老院 | 10 | 每周三",
        "Could not read the repeat '{value}'. Write daily, weekly wed, biweekly wed or "
        "monthly 15 (or 每天, 每周三, 每两周三, 每月15号).\n"
        "For example: /event new Visit | 2026-12-02 19:00 | 2 | Care home | 10 | weekly wed",
    )
    created = Text(
        "已发布重复活动系列 #{id}「{title}」：{rule} {at}，已提前创建 {n} 次活动：",
        "Published series #{id} '{title}': {rule} at {at}; {n} activities created ahead:",
    )
    occurrence = Text("- 活动 #{id}：{when}", "- activity #{id}: {when}")
    created_hint = Text(
        "每次活动单独报名（/报名 <活动编号>），之后的活动会自动提前创建。查看：/活动 系列 {id}",
        "Each activity has its own sign-up (/join <id>); later ones are created ahead. "
        "See /event series {id}",
    )
    unknown = Text("本群没有编号为 {id} 的活动系列。", "There is no series #{id} in this group.")
    header = Text(
        "系列 #{id}「{title}」：{rule} {at} @ {place}，{hours} 小时，每次 {seats} 个名额",
        "Series #{id} '{title}': {rule} at {at}, {place}, {hours} h, {seats} seats each",
    )
    header_cancelled = Text(
        "系列 #{id}「{title}」（已取消）：{rule} {at} @ {place}，{hours} 小时，每次 {seats} 个名额",
        "Series #{id} '{title}' (cancelled): {rule} at {at}, {place}, {hours} h, {seats} seats",
    )
    line = Text(
        "- 活动 #{id} {when} {state}，报名 {taken}/{seats}{waiting}",
        "- activity #{id} {when} {state}, {taken} of {seats}{waiting}",
    )
    already_cancelled = Text("系列 #{id} 已经取消了。", "Series #{id} was already cancelled.")
    cancel_done = Text(
        "已取消系列 #{id}：取消了 {n} 次尚未开始的活动，已一对一通知 {people} 位报名的成员。",
        "Cancelled series #{id}: {n} activities not yet started; told {people} members.",
    )
    cancel_notice = Text(
        "重复活动「{title}」（系列 #{id}）已取消，你报名的这些活动不再举行：{whens}。{reason}",
        "The series '{title}' (#{id}) was cancelled; these activities you signed up for will "
        "not take place: {whens}. {reason}",
    )
