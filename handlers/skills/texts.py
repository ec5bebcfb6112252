"""Every text of the skills feature, and the words for a swap's status."""

from __future__ import annotations

from typing import ClassVar

from bot.context import BaseContext
from bot.i18n import Text


class T:
    """Every text of skill swaps."""

    skill = Text("技能", "skill")
    detail = Text("说明", "detail")
    keyword = Text("关键词", "keyword")
    post_id = Text("编号", "post id")
    swap_id = Text("交换编号", "swap id")
    hours = Text("小时数", "hours")
    help_offer = Text("我会：发布可以教别人的技能", "offer a skill you can teach")
    help_want = Text("我想学：发布想学的技能", "ask for a skill you want to learn")
    help_skills = Text("浏览本群的技能（可按关键词）", "browse offers and wants here")
    help_withdraw = Text("撤回自己的技能帖", "withdraw your own post")
    help_match = Text("找最合适的交换搭档", "your best swap partners")
    help_swap = Text("向某个技能帖的发布者提出交换", "propose a swap to a post's author")
    help_accept = Text("接受交换", "accept a swap")
    help_decline = Text("拒绝交换", "decline a swap")
    help_done = Text(
        "记录完成的交换和小时数（对方确认后计入时间币）",
        "record a finished swap (the other side confirms)",
    )
    help_confirm = Text("确认对方记录的交换", "confirm a swap the other side recorded")
    help_credits = Text("我的时间币余额和记录", "my time-credit balance and history")
    kind_offer = Text("会", "offers")
    kind_want = Text("想学", "wants")
    # Said to the poster: "you offer", not the third person's "offers".
    you_offer = Text("会", "offer")
    you_want = Text("想学", "want")
    no_words = Text(
        "技能名称需要包含文字。用法：/我会 技能 | 说明",
        "A skill needs some words. Usage: /offer <skill> | <detail>",
    )
    posted = Text("已发布 #{id}：你{kind}「{skill}」。", "Posted #{id}: you {kind} '{skill}'.")
    matches_header = Text("可能的搭档：", "Possible partners:")
    match_line = Text(
        "#{id} {who} {kind}「{skill}」（匹配度 {pct}%）— 发送 /交换 {id}",
        "#{id} {who} {kind} '{skill}' ({pct}% match): send /swap {id}",
    )
    no_matches = Text(
        "暂时没有匹配的人，有人发布相关技能时用 /匹配 看看。", "No match yet; try /match later."
    )
    skills_header = Text("本群的技能：", "Skills here:")
    skills_line = Text(
        "#{id} {who} {kind}「{skill}」{detail}", "#{id} {who} {kind} '{skill}'{detail}"
    )
    skills_none_for = Text(
        "没有与「{keyword}」相关的技能帖。发送 /技能 看全部，或用 /我想学 {keyword} 发布需求。",
        "No skill posts about '{keyword}'. Send /skills for all, or /want {keyword} to ask.",
    )
    skills_empty = Text(
        "还没有技能帖。用 /我会 或 /我想学 发布一个吧！", "No skill posts yet. Try /offer or /want!"
    )
    unknown_post = Text(
        "本群没有编号为 {id} 的技能帖。", "There is no skill post #{id} in this group."
    )
    not_yours = Text("只能撤回自己的技能帖。", "You can only withdraw your own posts.")
    withdrawn = Text("已撤回 #{id}。{cancelled}", "Withdrew #{id}. {cancelled}")
    cancelled_note = Text("{n} 个待回复的交换请求已取消。", "{n} pending proposals were cancelled.")
    proposal_cancelled = Text(
        "你对 #{post} 的交换请求已取消：对方撤回了技能帖。",
        "Your proposal on #{post} was cancelled: the post was withdrawn.",
    )
    match_header = Text("你的最佳搭档（双向匹配优先）：", "Your best partners (two-way first):")
    match_two_way = Text("双向", "two-way")
    match_one_way = Text("单向", "one-way")
    match_recent = Text("，最近交换过", ", swapped recently")
    match_entry = Text(
        "{i}. {who}（{kind}，得分 {score}{recent}）：{why}",
        "{i}. {who} ({kind}, score {score}{recent}): {why}",
    )
    why_they = Text(
        "TA 会「{theirs}」，你想学「{mine}」", "they offer '{theirs}', you want '{mine}'"
    )
    why_me = Text("你会「{mine}」，TA 想学「{theirs}」", "you offer '{mine}', they want '{theirs}'")
    no_partners = Text(
        "还没有匹配的搭档。先用 /我会 和 /我想学 发布技能吧。",
        "No partners yet. Post with /offer and /want first.",
    )
    self_swap = Text("不能和自己交换哦。", "You can't swap with yourself.")
    closed_post = Text("技能帖 #{id} 已撤回。", "Post #{id} was withdrawn.")
    partner_banned = Text(
        "暂时无法和这位成员交换。", "A swap with this member is not possible for now."
    )
    already_proposed = Text(
        "你已经对 #{post} 提出过交换（#{id}，{status}）。",
        "You already proposed on #{post} (#{id}, {status}).",
    )
    proposed = Text(
        "{partner}，{proposer} 想和你交换「{skill}」（#{id}）。发送 /交换 接受 {id} 或 /交换 拒绝 {id}",
        "{partner}, {proposer} would like to swap '{skill}' with you (#{id}). Send /swap accept {id} or /swap decline {id}",
    )
    unknown_swap = Text("本群没有编号为 {id} 的交换。", "There is no swap #{id} in this group.")
    only_partner = Text(
        "只有被邀请的一方可以回复这个交换。", "Only the member invited can answer this swap."
    )
    not_open = Text("交换 #{id} 已经是「{status}」了。", "Swap #{id} is already {status}.")
    accepted = Text(
        "交换 #{id} 达成：{teacher} 教 {learner}「{skill}」。完成后发送 /交换完成 {id} 小时数",
        "Swap #{id} agreed: {teacher} teaches {learner} '{skill}'. When done, send /swap done {id} <hours>",
    )
    declined = Text(
        "{partner} 婉拒了交换 #{id}（「{skill}」）。", "{partner} declined swap #{id} ('{skill}')."
    )
    declined_ok = Text("已拒绝交换 #{id}。", "Declined swap #{id}.")
    accepted_ok = Text("已接受交换 #{id}。", "Accepted swap #{id}.")
    not_participant = Text("你不是交换 #{id} 的参与者。", "You are not part of swap #{id}.")
    recorded = Text(
        "已记录交换 #{id}：{hours} 小时，等待 {other} 确认。",
        "Recorded swap #{id}: {hours} h, waiting for {other} to confirm.",
    )
    please_confirm = Text(
        "{who} 记录了交换 #{id}（「{skill}」{hours} 小时）。请确认：/交换 确认 {id}",
        "{who} recorded swap #{id} ('{skill}', {hours} h). Please confirm: /swap confirm {id}",
    )
    own_record = Text(
        "需要由另一方确认（你已经记录了）。", "The other side must confirm (you recorded it)."
    )
    confirmed = Text(
        "交换 #{id} 已确认：{teacher} +{hours}，{learner} -{hours} 时间币。",
        "Swap #{id} confirmed: {teacher} +{hours}, {learner} -{hours} credits.",
    )
    ledger_conflict = Text(
        "交换 #{id} 的时间币没能记账（账目冲突），什么都没有变动。已记录，请联系管理员。",
        "Swap #{id} could not be booked (a ledger conflict); nothing changed. "
        "It has been logged; please contact an admin.",
    )
    credits_header = Text("你在本群的时间币：{balance}", "Your time credits here: {balance}")
    credits_line = Text("- 交换 #{swap}：{amount}（{day}）", "- swap #{swap}: {amount} ({day})")
    credits_none = Text("还没有时间币记录。", "No time-credit history yet.")
    status_names: ClassVar[dict[str, Text]] = {
        "proposed": Text("待回复", "waiting for an answer"),
        "accepted": Text("已接受", "accepted"),
        "declined": Text("已拒绝", "declined"),
        "cancelled": Text("已取消", "cancelled"),
        "done_pending": Text("待确认", "waiting for confirmation"),
        "done": Text("已完成", "done"),
    }
    posts_title = Text("技能帖", "skill posts")
    swaps_title = Text("交换", "swaps")
    credits_title = Text(
        "时间币记录（删除后匿名保留）", "time-credit entries (kept anonymised when erased)"
    )
    credits_kept = Text(
        "时间币记录 {n} 条，已改为匿名账户（群的时间币收支需要平衡）",
        "{n} time-credit entries, moved to an anonymous account (the group's credits must "
        "still balance)",
    )


def status_word(ctx: BaseContext, status: str) -> str:
    return ctx.t(T.status_names.get(status, Text(status, status)))
