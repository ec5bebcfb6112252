"""Every text of the weekly digest, and the weekday names."""

from __future__ import annotations

from bot.i18n import Text

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZH_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


class T:
    """Every text of the digest."""

    day = Text("星期", "day")
    at = Text("时间", "time")
    help_preview = Text(
        "预览本群本周的周报（私信给你）", "preview this group's digest (sent to you)"
    )
    help_now = Text("立即发布本期周报", "post this period's digest now")
    help_status = Text("查看本群周报的开关和时间", "show this group's digest settings")
    status_on = Text(
        "本群周报：开，每{day} {at} 发布；下一期 {next}。\n修改：/周报 时间 周三 18:30；关闭：/周报 关",
        "This group's digest: on, every {day} at {at}; next one {next}.\n"
        "Change: /digest schedule wed 18:30; stop: /digest off",
    )
    status_off = Text(
        "本群周报：关（时间设为每{day} {at}）。开启：/周报 开",
        "This group's digest: off (set for every {day} at {at}). Resume: /digest on",
    )
    help_schedule = Text("设置本群周报时间", "set this group's digest day and time")
    help_off = Text("停止本群的定时周报", "stop the scheduled digest here")
    help_on = Text("恢复本群的定时周报", "resume the scheduled digest here")
    title = Text("社区周报 · {start} – {end}", "Community digest · {start} – {end}")
    part = Text("（{i}/{n}）", " ({i}/{n})")
    stories = Text("本周故事（按真实点赞）", "Stories of the week (genuine likes)")
    story_line = Text(
        "{i}. #{id} {title} — {author} · 真实 {genuine} 赞",
        "{i}. #{id} {title} by {author}: {genuine} genuine likes",
    )
    skills = Text("技能交换", "Skill swaps")
    post_line = Text(
        "- {who} {kind}「{skill}」（/交换 {id}）", "- {who} {kind} '{skill}' (/swap {id})"
    )
    kind_offer = Text("会", "offers")
    kind_want = Text("想学", "wants")
    swap_line = Text(
        "- 完成：{teacher} 教 {learner}「{skill}」{hours} 小时",
        "- done: {teacher} taught {learner} '{skill}', {hours} h",
    )
    events = Text("即将开始的活动", "Upcoming activities")
    event_line = Text(
        "- #{id} {title} · {when} · {place} · 剩余 {left}/{seats}",
        "- #{id} {title} · {when} · {place} · {left} of {seats} seats left",
    )
    hours = Text("本周志愿时长", "Volunteer hours this week")
    hours_line = Text("{i}. {who} · {hours} 小时", "{i}. {who}: {hours} h")
    nothing = Text("这段时间还没有可以放进周报的内容。", "Nothing for a digest in this period yet.")
    preview_sent = Text("预览已私信发给你。", "The preview was sent to you privately.")
    posted_now = Text(
        "已发布本期周报；{next} 的定时周报不会再重复发送。",
        "Posted this period's digest; the scheduled one on {next} will not be sent again.",
    )
    already_posted = Text(
        "本期周报已经发过了（{next} 那期）。下一期会按时发布。",
        "This period's digest has gone out already (the one for {next}).",
    )
    scheduled = Text(
        "本群周报时间改为每{day} {at}。", "This group's digest now goes out every {day} at {at}."
    )
    bad_time = Text(
        "时间格式应为 HH:MM（例如 09:00），收到「{value}」。",
        "The time must look like HH:MM (e.g. 09:00), got '{value}'.",
    )
    off = Text(
        "本群已停止定时周报（/周报 开 可恢复）。",
        "The scheduled digest is off here (/digest on resumes it).",
    )
    on = Text(
        "本群已恢复定时周报：每{day} {at}。",
        "The scheduled digest is on here: every {day} at {at}.",
    )
    admins_header = Text(
        "「{group}」本周点赞异常（仅管理员可见，不会出现在周报里）：",
        "Brushed-looking likes this week in '{group}' (admins only, never in the digest):",
    )
