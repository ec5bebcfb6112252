"""Every text of the volunteers feature, Chinese first."""

from __future__ import annotations

from bot.i18n import Text


class T:
    """Every text of the volunteers feature."""

    title = Text("标题", "title")
    starts = Text("开始时间", "start time")
    hours = Text("时长（小时）", "hours")
    place = Text("地点", "place")
    seats = Text("名额", "seats")
    event_id = Text("活动编号", "activity id")
    absent = Text("缺席成员（@成员或昵称）", "absent members (@member or nick)")
    reason = Text("理由", "reason")
    help_new = Text(
        "发布志愿活动；末尾加重复方式即为系列，例如 /活动 新建 探访 | 2026-12-02 19:00 | 2 | 敬老院 | 10 | 每周三",
        "publish a volunteer activity; a repeat makes a series, e.g. "
        "/event new Visit | 2026-12-02 19:00 | 2 | Care home | 10 | weekly wed",
    )
    help_events = Text(
        "即将开始的活动和剩余名额；加编号看一个活动的详情",
        "upcoming activities with seats left; with an id, one activity in full",
    )
    event_detail = Text(
        "活动 #{id}「{title}」\n时间：{when}，{hours} 小时\n地点：{place}\n状态：{status}\n"
        "名额：已报名 {taken}/{seats}{waiting}",
        "Activity #{id} '{title}'\nWhen: {when}, {hours} h\nWhere: {place}\n"
        "Status: {status}\nSeats: {taken} of {seats} taken{waiting}",
    )
    detail_confirmed = Text(
        "你已报名。取消报名：/取消报名 {id}", "You are signed up. To withdraw: /leave {id}"
    )
    detail_waiting = Text(
        "你在候补第 {n} 位，有人取消时按顺序递补。取消：/取消报名 {id}",
        "You are number {n} on the waitlist; places go in order. To withdraw: /leave {id}",
    )
    help_join = Text("报名活动（满员则候补）", "sign up (the waitlist when full)")
    help_leave = Text("取消报名", "withdraw")
    help_seats = Text("修改名额（增加会从候补中递补）", "change capacity (raising it promotes)")
    help_roster = Text("报名名单和候补名单", "confirmed list and waitlist")
    help_done = Text("结束活动并记录志愿时长", "close an activity and credit hours")
    help_cancel = Text("取消活动并通知报名者", "cancel an activity and tell everyone")
    help_hours = Text("我的志愿时长", "my volunteer hours")

    past = Text(
        "开始时间 {when} 已经过去了，请填写将来的时间（YYYY-MM-DD HH:MM）。",
        "The start time {when} is in the past; give a future time (YYYY-MM-DD HH:MM).",
    )
    created = Text("已发布活动 #{id}「{title}」。", "Published activity #{id} '{title}'.")
    unknown = Text("本群没有编号为 {id} 的活动。", "There is no activity #{id} in this group.")
    cancelled = Text("活动 #{id} 已取消，不能再报名或修改。", "Activity #{id} was cancelled.")
    finished = Text("活动 #{id} 已结束。", "Activity #{id} is over.")
    closed = Text(
        "活动 #{id} 已经开始，报名已截止。", "Activity #{id} has started; sign-ups are closed."
    )
    joined = Text("报名成功：活动 #{id}「{title}」。", "You're in: activity #{id} '{title}'.")
    waitlisted = Text(
        "活动 #{id} 已满，你在候补第 {pos} 位，有人退出时会自动递补并通知你。",
        "Activity #{id} is full; you are number {pos} on the waitlist and will be told if a seat frees up.",
    )
    already_in = Text("你已经报名了活动 #{id}。", "You are already signed up for activity #{id}.")
    already_waiting = Text(
        "你已在活动 #{id} 的候补第 {pos} 位。",
        "You are already number {pos} on the waitlist of #{id}.",
    )
    left = Text("已取消报名活动 #{id}。", "You withdrew from activity #{id}.")
    not_signed = Text("你没有报名活动 #{id}。", "You are not signed up for activity #{id}.")
    promoted = Text(
        "好消息：活动 #{id}「{title}」有空位了，你已从候补转为正式报名。时间 {when}，地点 {place}。",
        "Good news: a seat opened on activity #{id} '{title}' and you are now confirmed. {when}, {place}.",
    )
    state_in = Text("已报名", "Signed up")
    state_wait = Text("候补第 {pos} 位", "Waitlist #{pos}")
    no_events = Text("暂时没有即将开始的活动。", "No upcoming activities.")
    events_header = Text("即将开始的活动：", "Upcoming activities:")
    event_line = Text(
        "#{id}「{title}」{when} @ {place}，{hours} 小时，剩余名额 {left}/{seats}{waiting}",
        "#{id} '{title}' {when} at {place}, {hours} h, {left} of {seats} seats left{waiting}",
    )
    waiting_note = Text("，候补 {n} 人", ", {n} waiting")
    seats_changed = Text("活动 #{id} 名额改为 {seats}。", "Activity #{id} now has {seats} seats.")
    seats_promoted = Text("已从候补递补 {n} 人。", "{n} promoted from the waitlist.")
    seats_no_evict = Text(
        "已报名的 {confirmed} 人不会被移除（名额低于已报名人数时，只是不再接受新的正式报名）。",
        "The {confirmed} members already confirmed stay; no new confirmations until there is room.",
    )
    roster_header = Text(
        "活动 #{id}「{title}」报名 {n}/{seats}：", "Activity #{id} '{title}', {n} of {seats}:"
    )
    roster_wait = Text("候补：", "Waitlist:")
    roster_empty = Text("（无）", "(none)")
    done = Text(
        "活动 #{id} 已结束：{n} 人获得 {hours} 小时志愿时长。",
        "Activity #{id} closed: {n} members credited {hours} h each.",
    )
    done_absent = Text("缺席（不计时长）：{names}", "Absent (no hours): {names}")
    roster_of = Text("活动 #{id} 的正式报名名单", "the confirmed list of activity #{id}")
    checked_in_of = Text("活动 #{id} 的签到名单", "those who checked in to activity #{id}")
    done_not_checked = Text(
        "没有签到，本来就不计时长：{names}", "Did not check in, so no hours anyway: {names}"
    )
    audit_absent = Text("缺席", "absent")
    not_started = Text(
        "活动 #{id} 还没开始，开始后才能结束。", "Activity #{id} has not started yet."
    )
    cancel_done = Text(
        "已取消活动 #{id}，已通知 {n} 位报名者。", "Cancelled activity #{id}; told {n} members."
    )
    cancel_notice = Text(
        "活动 #{id}「{title}」已取消。{reason}", "Activity #{id} '{title}' was cancelled. {reason}"
    )
    reason_note = Text("理由：{reason}", "Reason: {reason}")
    reminder = Text(
        "提醒：活动 #{id}「{title}」将于 {when} 在 {place} 开始。已报名：{names}",
        "Reminder: activity #{id} '{title}' starts {when} at {place}. Signed up: {names}",
    )
    reminder_direct = Text(
        "提醒：你报名的活动 #{id}「{title}」将于 {when} 在 {place} 开始。",
        "Reminder: your activity #{id} '{title}' starts {when} at {place}.",
    )
    hours_line = Text("- #{id} {title}：{hours} 小时，{day}", "- #{id} {title}: {hours} h, {day}")
    my_hours = Text(
        "你在本群的志愿时长：共 {total} 小时（{n} 次活动）",
        "Your volunteer hours here: {total} h (activities: {n})",
    )
    my_hours_none = Text(
        "你在本群还没有志愿时长。用 /活动 看看有什么活动吧！",
        "No volunteer hours here yet. See /events!",
    )
    signups_title = Text("活动报名", "sign-ups")
    hours_title = Text("志愿时长记录", "volunteer hours")
    join_hint = Text("发送 /报名 {id} 报名", "Send /join {id} to sign up")

    # -- editing (issue 17)
    help_edit = Text(
        "修改活动：时间、地点、标题、时长或名额，并一对一通知报名和候补的成员",
        "change an activity's time, place, title, hours or seats and tell everyone signed up",
    )
    field = Text("项目", "field")
    new_value = Text("新值", "new value")
    edit_bad_field = Text(
        "不能修改「{field}」：可以修改 时间、地点、标题、时长 或 名额。\n例如：/活动 修改 3 时间 12月3日 19:00",
        "Cannot change '{field}': change time, place, title, hours or seats.\n"
        "For example: /event edit 3 time 2026-12-03 19:00",
    )
    edit_started = Text(
        "活动 #{id} 已经开始，不能再修改。",
        "Activity #{id} has started; it can no longer be changed.",
    )
    edit_cancelled = Text(
        "活动 #{id} 已取消，不能再修改。",
        "Activity #{id} was cancelled; it can no longer be changed.",
    )
    edit_finished = Text(
        "活动 #{id} 已结束，不能再修改。", "Activity #{id} is over; it can no longer be changed."
    )
    edit_same = Text(
        "活动 #{id} 的{field}已经是「{value}」，没有改动。",
        "Activity #{id}'s {field} is already '{value}'; nothing changed.",
    )
    bad_when = Text(
        "看不懂时间「{value}」。请写成 2026-12-03 19:00、12月3日 19:00、明天 9:30 或 周三 19:00。",
        "Could not read the time '{value}'. Write 2026-12-03 19:00, 12-3 19:00, tomorrow 9:30 "
        "or wed 19:00.",
    )
    bad_hours = Text(
        "「时长」应为 0.5 到 24 之间的小时数，收到「{value}」。",
        "Hours must be a number from 0.5 to 24, got '{value}'.",
    )
    bad_seats = Text(
        "「名额」应为 1 到 10000 之间的整数，收到「{value}」。",
        "Seats must be a whole number from 1 to 10000, got '{value}'.",
    )
    bad_text = Text(
        "「{field}」不能为空，最多 {limit} 个字符。",
        "{field} must not be empty and may have at most {limit} characters.",
    )
    field_time = Text("时间", "time")
    field_place = Text("地点", "place")
    field_title = Text("标题", "title")
    field_hours = Text("时长", "hours")
    field_seats = Text("名额", "seats")
    edited = Text(
        "已修改活动 #{id}：{field} {old} → {new}。已一对一通知 {n} 位报名和候补的成员。",
        "Changed activity #{id}: {field} {old} → {new}. Told {n} members signed up or waiting.",
    )
    edit_notice = Text(
        "你报名的活动 #{id}「{title}」有变动：{field} {old} → {new}。\n现在：{when} @ {place}，{hours} 小时。",
        "Your activity #{id} '{title}' changed: {field} {old} → {new}.\n"
        "Now: {when} at {place}, {hours} h.",
    )
    hours_value = Text("{hours} 小时", "{hours} h")

    # -- the state every card shows (issue 17)
    status_open = Text("报名中", "open")
    fallback_hours = Text("{hours} 小时", "{hours} h")
    status_full = Text("已满·候补", "full · waitlist")
    status_closed = Text("已截止", "closed")
    status_cancelled = Text("已取消", "cancelled")
    status_done = Text("已结束", "finished")

    # -- check-in (issue 17)
    help_checkin_code = Text(
        "活动的签到码（私信发给你，在现场出示）",
        "an activity's check-in code (sent to you privately)",
    )
    help_checkin = Text("用现场的签到码签到", "check in with the code shown at the activity")
    checkin_code_label = Text("签到码", "code")
    checkin_code = Text(
        "活动 #{id}「{title}」的签到码：{code}\n在 {opens} 到 {closes} 之间，报名的成员发送 /签到 {code}"
        "（群里或私聊机器人）签到。结束活动时只给签到的人记时长。",
        "Check-in code for activity #{id} '{title}': {code}\nBetween {opens} and {closes}, "
        "members signed up send /checkin {code} (in the group or to the bot). Closing the "
        "activity credits those who checked in.",
    )
    checkin_code_sent = Text(
        "活动 #{id} 的签到码已私信发给你。请在现场出示，别发到群里（没来的人也能签到）。",
        "The check-in code for activity #{id} was sent to you privately.",
    )
    checkin_wrong = Text(
        "签到码不对。请核对现场出示的签到码，发送 /签到 <签到码>。",
        "That code is not right. Check the code shown at the activity: /checkin <code>.",
    )
    checkin_throttled = Text(
        "签到码错误次数太多，请 {minutes} 分钟后再试。",
        "Too many wrong codes; try again in {minutes} minutes.",
    )
    checkin_early = Text(
        "活动 #{id} 的签到还没开始，{opens} 起可以签到。",
        "Check-in for activity #{id} opens at {opens}.",
    )
    checkin_late = Text(
        "活动 #{id} 的签到已于 {closes} 结束，请联系管理员补记。",
        "Check-in for activity #{id} closed at {closes}; ask an admin to add you.",
    )
    checkin_not_confirmed = Text(
        "你不在活动 #{id} 的正式报名名单里（候补或未报名），请联系管理员在结束活动时添加你。",
        "You are not confirmed for activity #{id}; ask an admin to add you when closing it.",
    )
    checkin_done = Text(
        "签到成功：活动 #{id}「{title}」。", "Checked in: activity #{id} '{title}'."
    )
    checkin_again = Text("你已经签到过活动 #{id} 了。", "You already checked in to #{id}.")
    done_checked = Text("按签到记录：{n} 人签到。", "From the check-ins: {n} checked in.")
    done_added = Text("补记：{names}", "Added: {names}")
    done_removed = Text("去掉：{names}", "Removed: {names}")
    audit_added = Text("补记", "added")
    audit_removed = Text("去掉", "removed")
    group_members = Text("本群成员", "the members of this group")
    checkins_title = Text("活动签到", "check-ins")
    attendance = Text(
        "出勤率 {rate}%（已结束的报名活动 {came}/{signed}）",
        "Attendance {rate}% ({came} of {signed} finished activities you signed up for)",
    )

    # -- the hours board (issue 17)
    help_board = Text("本群志愿时长榜（本月或全部）", "the group's volunteer-hours board")
    period = Text("范围", "period")
    bad_period = Text(
        "「{value}」不是时间范围：请用 /时长榜 本月 或 /时长榜 全部。",
        "'{value}' is not a period: use /hoursboard month or /hoursboard all.",
    )
    board_month = Text("{month} 志愿时长榜：", "Volunteer hours, {month}:")
    board_all = Text("志愿时长总榜：", "Volunteer hours, all time:")
    board_empty = Text("{title}\n还没有记录。", "{title}\nnothing yet.")
    board_line = Text("{rank}. {name}：{hours} 小时（{n} 次）", "{rank}. {name}: {hours} h ({n})")

    # -- reminders you can set (issue 17)
    help_remind = Text(
        "设置活动提醒时间，例如 /活动 提醒 3 2小时,15分钟（关：不提醒；默认：恢复默认）",
        "set when an activity's reminders go out, e.g. /event remind 3 2h,15m",
    )
    plan = Text("提醒时间", "reminder times")
    bad_plan = Text(
        "看不懂提醒时间「{value}」。请写成开始前的时长，用逗号分开，最多 5 个，例如 2小时,15分钟 或 1天,2小时。",
        "Could not read '{value}'. Give up to 5 times before the start, e.g. 2h,15m or 1d,2h.",
    )
    remind_plan = Text(
        "活动 #{id} 在开始前 {plan} 提醒报名的成员。",
        "Activity #{id} reminds members {plan} before.",
    )
    remind_none = Text("活动 #{id} 不发提醒。", "Activity #{id} sends no reminders.")
    help_my_reminders = Text(
        "关闭或打开我在本群的活动私聊提醒", "turn my one-to-one activity reminders off or on"
    )
    switch = Text("开关", "off/on")
    bad_switch = Text(
        "请发送 /提醒 关 或 /提醒 开（收到「{value}」）。",
        "Send /reminders off or /reminders on (got '{value}').",
    )
    reminders_off = Text(
        "已关闭你在本群的活动私聊提醒。发送 /提醒 开 可以重新打开。",
        "Your one-to-one activity reminders in this group are off. /reminders on turns them on.",
    )
    reminders_on = Text("已打开你在本群的活动私聊提醒。", "Your activity reminders here are on.")
    reminders_off_short = Text("活动私聊提醒：关", "activity reminders: off")
    reminder_setting_title = Text("提醒设置", "reminder setting")
