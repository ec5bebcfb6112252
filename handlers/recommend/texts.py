"""Every text of the recommendations (千人千面)."""

from __future__ import annotations

from bot.i18n import Text


class T:
    """Texts of /推荐."""

    help_foryou = Text(
        "为你推荐：相似的活动、技能伙伴（双向优先）和本周故事，每条都说明原因",
        "for you: activities like yours, skill partners (two-way first), stories, with reasons",
    )
    help_subscribe = Text("每周私信接收推荐", "receive recommendations one to one weekly")
    help_unsubscribe = Text("不再接收每周推荐", "stop the weekly recommendations")
    header = Text("为你推荐：", "For you:")
    weekly_header = Text("「{group}」本周为你推荐：", "This week in '{group}', for you:")
    events = Text("即将开始的活动", "Upcoming activities")
    event_line = Text(
        "- #{id}「{title}」· {when} · {place} —— 你参加过「{like}」{same}",
        "- #{id} '{title}' · {when} · {place}: like '{like}', which you joined{same}",
    )
    same_place = Text("，地点相同", ", same place")
    event_hint = Text("报名：/报名 编号", "Sign up: /join <id>")
    partners = Text("技能伙伴（双向优先）", "Skill partners (two-way first)")
    partner_line = Text("- {who}（{kind}）：{why}", "- {who} ({kind}): {why}")
    two_way = Text("双向", "two-way")
    one_way = Text("单向", "one-way")
    they_teach = Text(
        "TA 会「{theirs}」，你想学「{mine}」", "they offer '{theirs}', you want '{mine}'"
    )
    i_teach = Text(
        "你会「{mine}」，TA 想学「{theirs}」", "you offer '{mine}', they want '{theirs}'"
    )
    partner_hint = Text("更多匹配：/匹配", "More matches: /match")
    stories = Text("本周故事", "Stories of the week")
    story_line = Text(
        "- #{id}「{title}」— {author} —— {why}", "- #{id} '{title}' by {author}: {why}"
    )
    swapped = Text("你们交换过「{skill}」", "you swapped '{skill}'")
    joined = Text("你们一起参加过「{event}」", "you both joined '{event}'")
    empty = Text(
        "暂时没有为你推荐的内容。报名活动（/活动）、发布技能（/我会、/我想学）或完成一次交换后再来看看。",
        "Nothing to recommend yet. Join an activity (/events), post a skill (/offer, /want) or "
        "finish a swap, then look again.",
    )
    subscribed = Text(
        "已订阅：每周一会私信你一份本群的推荐。退订：/推荐 退订",
        "Subscribed: every Monday you get this group's recommendations one to one. "
        "Stop: /foryou unsubscribe",
    )
    already = Text("你已经订阅了每周推荐。退订：/推荐 退订", "You are already subscribed.")
    unsubscribed = Text("已退订每周推荐。", "You no longer receive the weekly recommendations.")
    not_subscribed = Text("你没有订阅每周推荐。订阅：/推荐 订阅", "You are not subscribed.")
    privacy_title = Text("每周推荐订阅", "weekly recommendations")
    privacy_item = Text("已订阅", "subscribed")
