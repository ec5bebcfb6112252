"""The texts of the organisers' spreadsheet exports (issue 17), Chinese first."""

from __future__ import annotations

from bot.i18n import Text


class X:
    """Every text of the exports; column headers and sheet names too."""

    help_hours = Text(
        "导出志愿时长表格（私信发给你），可选日期范围，例如 /导出 时长 2026-03-01 2026-03-31",
        "export volunteer hours as .xlsx (sent to you privately), e.g. /export hours 2026-03-01 2026-03-31",
    )
    help_roster = Text(
        "导出一次活动的报名名单表格（私信发给你），例如 /导出 名单 12",
        "export an activity's roster as .xlsx (sent to you privately), e.g. /export roster 12",
    )
    help_credits = Text(
        "导出本群的时间币账户表格（私信发给你），例如 /导出 时间币",
        "export the group's time-credit accounts as .xlsx (sent to you privately)",
    )
    since = Text("起始日期", "from date")
    until = Text("结束日期", "to date")
    bad_date = Text(
        "看不懂日期「{value}」。请写成 2026-03-01 或 3月1日，例如 /导出 时长 2026-03-01 2026-03-31。",
        "Could not read the date '{value}'. Write 2026-03-01, e.g. /export hours 2026-03-01 "
        "2026-03-31.",
    )
    bad_range = Text(
        "起始日期 {since} 晚于结束日期 {until}。",
        "The from date {since} is after the to date {until}.",
    )
    too_big = Text(
        "导出的文件有 {mb} MB，超过钉钉文件消息 20 MB 的上限，请缩小日期范围。",
        "The export is {mb} MB, over DingTalk's 20 MB limit for a file; narrow the dates.",
    )
    sent = Text(
        "已生成表格（{rows} 行），已私信发给你。",
        "Made the spreadsheet ({rows} rows); sent to you privately.",
    )
    # The workbook is the group's record, in Chinese whoever asks (like the card's state).
    # File names in the admin's language (the chat shows them); the contents stay Chinese.
    file_hours = Text("志愿时长{range}.xlsx", "volunteer-hours{range}.xlsx")
    file_roster = Text("活动{id}名单.xlsx", "roster-{id}.xlsx")
    file_credits = Text("时间币.xlsx", "time-credits.xlsx")
    sheet_detail = "明细"
    sheet_members = "按成员"
    sheet_roster = "名单"
    sheet_credits = "时间币"
    head_hours = ("成员", "活动编号", "活动", "活动时间", "时长（小时）", "记录时间")
    head_members = ("成员", "活动次数", "总时长（小时）")
    head_roster = ("序号", "成员", "状态", "报名时间", "签到时间", "获得时长（小时）")
    head_credits = ("成员", "获得（小时）", "支出（小时）", "余额（小时）", "交换次数")
    total = "合计"
    confirmed = "已报名"
    waiting = "候补第 {pos} 位"
    added = "补记"
    rows_n = "{n} 条"
    people_n = "{n} 人"
    roster_summary = "报名 {confirmed}，候补 {waiting}"
    checked_n = "签到 {n}"
