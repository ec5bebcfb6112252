"""Every text of the stories feature, in one place for review and translation."""

from __future__ import annotations

import unicodedata
from typing import ClassVar

from bot.context import BaseContext
from bot.i18n import Text


class T:
    """Every text of the stories feature."""

    title = Text("标题", "title")
    body = Text("正文", "body")
    story_id = Text("故事编号", "story id")
    reason = Text("理由", "reason")
    scope = Text("范围", "scope")
    switch = Text("开关", "on/off")
    bad_scope = Text(
        "范围只能是「本周」或「全部」，例如：/故事榜 全部",
        "The scope is 'week' or 'all', e.g. /stories all",
    )
    bad_switch = Text(
        "只能是「开」或「关」：/审核 开 或 /审核 关；只看待审核的故事：/审核",
        "Say 'on' or 'off': /review on or /review off; pending stories: /review",
    )
    help_story = Text("分享一个故事（我的钉钉故事）", "share a story")
    help_stories = Text("按真实点赞数看故事榜（本周或全部）", "top stories by genuine likes")
    help_like = Text("给故事点赞", "like a story")
    help_unlike = Text("取消点赞", "take a like back")
    help_review = Text("查看待审核的故事", "stories waiting for review")
    help_review_on = Text("本群开启故事审核", "review stories in this group")
    help_review_off = Text("本群关闭故事审核（直接发布）", "publish stories without review here")
    help_approve = Text("通过故事", "approve a story")
    help_reject = Text("驳回故事（可附理由）", "reject a story, optionally saying why")
    help_likes = Text(
        "查看某个故事的每个赞、权重和原因", "each like of a story, its weight and why"
    )
    help_suspicious = Text(
        "点赞异常的故事及证据", "stories whose likes look brushed, with evidence"
    )

    too_long = Text(
        "{what}最多 {limit} 个字符，现在是 {length} 个。请删减后再发：/故事 标题 | 正文",
        "The {what} can be at most {limit} characters; yours has {length}. "
        "Shorten it and send: /story <title> | <body>",
    )
    no_words = Text(
        "{what}需要包含文字（不能只有表情或符号）。用法：/故事 标题 | 正文",
        "The {what} needs some words, not only emoji or symbols. Usage: /story <title> | <body>",
    )
    submitted_review = Text(
        "收到你的故事 #{id}「{title}」，管理员审核通过后会发到群里。",
        "Thanks! Your story #{id} '{title}' is waiting for an admin's review.",
    )
    published = Text("故事 #{id} 已发布。", "Story #{id} is published.")
    unknown = Text("本群没有编号为 {id} 的故事。", "There is no story #{id} in this group.")
    not_likeable = Text(
        "故事 #{id} 现在是「{status}」，不能点赞。", "Story #{id} is {status}; it cannot be liked."
    )
    not_approved = Text(
        "故事 #{id} 还没有通过审核，通过后才能点赞。",
        "Story #{id} has not been approved yet; it can be liked once it is.",
    )
    own_story = Text("不能给自己的故事点赞哦。", "You can't like your own story.")
    liked = Text(
        "已为故事 #{id} 点赞（现有 {likes} 个赞）。", "You liked story #{id} ({likes} likes)."
    )
    already_liked = Text("你已经赞过故事 #{id} 了。", "You already like story #{id}.")
    unliked = Text("已取消对故事 #{id} 的赞。", "You no longer like story #{id}.")
    not_liked = Text("你还没有赞过故事 #{id}。", "You haven't liked story #{id}.")
    liked_state = Text("已赞", "Liked")
    no_pending = Text("没有待审核的故事。", "No stories are waiting for review.")
    pending_header = Text("待审核的故事（{n} 个）：", "Stories waiting for review ({n}):")
    decided_already = Text(
        "故事 #{id} 已经处理过了（{status}）。", "Story #{id} was already decided ({status})."
    )
    not_pending = Text(
        "本群没有待审核的故事 #{id}。", "There is no story #{id} waiting for review here."
    )
    approved_admin = Text("已通过故事 #{id}，已发到群里。", "Approved story #{id}; it is posted.")
    rejected_admin = Text("已驳回故事 #{id}。", "Rejected story #{id}.")
    approved_author = Text(
        "你的故事 #{id}「{title}」已通过审核，已发到群里。",
        "Your story #{id} '{title}' was approved and posted.",
    )
    rejected_author = Text(
        "你的故事 #{id}「{title}」没有通过审核。理由：{reason}",
        "Your story #{id} '{title}' was not approved. Reason: {reason}",
    )
    no_reason = Text("（管理员未说明）", "(none given)")
    status_pending = Text("待审核", "pending")
    status_approved = Text("已通过", "approved")
    status_rejected = Text("已驳回", "rejected")
    review_on = Text("本群已开启故事审核。", "Stories in this group are now reviewed.")
    review_off = Text(
        "本群已关闭故事审核，新故事会直接发布。", "Stories here are now published without review."
    )
    top_header_week = Text("本周故事榜（按真实点赞）：", "This week's top stories (genuine likes):")
    top_header_all = Text("故事总榜（按真实点赞）：", "Top stories of all time (genuine likes):")
    top_line = Text(
        "#{id}「{title}」— {author}，真实 {genuine} 赞（共 {likes}）",
        "#{id} '{title}' by {author}: {genuine} genuine likes ({likes} in all)",
    )
    top_empty = Text(
        "还没有故事。用 /故事 标题 | 正文 分享一个吧！",
        "No stories yet. Share one: /story <title> | <body>",
    )
    likes_header = Text(
        "故事 #{id} 的点赞：共 {likes} 个，真实 {genuine}",
        "Likes of story #{id}: {likes} in all, {genuine} genuine",
    )
    likes_line = Text("{who} — 权重 {weight} — {why}", "{who}: weight {weight}, {why}")
    likes_none = Text("故事 #{id} 还没有赞。", "Story #{id} has no likes yet.")
    full_weight = Text("正常", "organic")
    reason_words: ClassVar[dict[str, Text]] = {
        "daily_cap": Text("超过每日点赞上限", "over the daily cap"),
        "burst": Text("短时间集中点赞", "part of a burst"),
        "ring": Text("互赞小圈子", "a mutual-like ring"),
        "like_only": Text("只点赞没有其他互动", "likes only, no other activity"),
    }
    suspicious_none = Text("没有发现异常点赞。", "No brushed likes found.")
    edit_form = Text("标题 | 正文", "title | body")
    help_edit = Text("修改待审核的故事", "edit your story while it waits for review")
    help_withdraw = Text("撤回自己的故事", "withdraw your story")
    help_remove = Text(
        "删除已发布的故事（附理由，作者会收到通知）",
        "remove a published story, saying why (its author is told)",
    )
    edit_needs_both = Text(
        "请同时写标题和正文，用 | 分开。用法：/故事 修改 {id} 标题 | 正文",
        "Give both a title and a body, separated by |. Usage: /story edit {id} <title> | <body>",
    )
    not_author = Text(
        "故事 #{id} 不是你写的，只有作者可以修改或撤回。",
        "Story #{id} is not yours; only its author can edit or withdraw it.",
    )
    edit_not_pending = Text(
        "故事 #{id} 现在是「{status}」，只有待审核的故事可以修改。可以用 /故事 撤回 {id} 撤回后重新分享。",
        "Story #{id} is already {status}; only a story waiting for review can be edited. "
        "You can withdraw it (/story withdraw {id}) and share it again.",
    )
    edited = Text(
        "已修改故事 #{id}「{title}」，仍在等待审核。",
        "Story #{id} '{title}' is updated and still waiting for review.",
    )
    withdrawn_already = Text("故事 #{id} 已经撤回了。", "Story #{id} is already withdrawn.")
    withdrawn = Text(
        "已撤回故事 #{id}「{title}」，它的赞不再计入排行。",
        "Story #{id} '{title}' is withdrawn; its likes no longer count.",
    )
    withdrawn_card_title = Text("（已撤回）{title}", "(withdrawn) {title}")
    withdrawn_card_body = Text("作者已撤回这个故事。", "The author withdrew this story.")
    not_published = Text(
        "故事 #{id} 现在是「{status}」，只能删除已发布的故事。",
        "Story #{id} is {status}; only a published story can be removed.",
    )
    removed_admin = Text(
        "已删除故事 #{id}，作者已收到通知。", "Removed story #{id}; its author is told."
    )
    removed_author = Text(
        "你的故事 #{id}「{title}」已被管理员删除。理由：{reason}",
        "Your story #{id} '{title}' was removed by an admin. Reason: {reason}",
    )
    removed_card_title = Text("（已删除）{title}", "(removed) {title}")
    removed_card_body = Text("这个故事已被管理员删除。", "An admin removed this story.")
    status_withdrawn = Text("已撤回", "withdrawn")
    status_removed = Text("已删除", "removed")
    this_group = Text("本群", "this group")
    notice_item = Text("#{id}「{title}」", "#{id} '{title}'")
    review_notice = Text(
        "「{group}」有 {n} 个新故事等待审核：{stories}。在群里发送 /审核 查看并处理。",
        "Stories waiting for review in '{group}' ({n}): {stories}. Send /review in the group.",
    )
    notice_more = Text("（另有 {n} 个）", " (and {n} more)")
    chart_title = Text("故事 #{id} 的点赞走势", "Likes of story #{id} over time")
    picture_alt = Text("图片", "picture")
    help_picture = Text(
        "发完故事后单独发图片，图片会加到刚发的故事里",
        "send pictures right after a story to add them to it",
    )
    picture_how = Text(
        "发完故事后，在 {minutes} 分钟内单独发送图片即可加到故事里。",
        "Send the pictures on their own within {minutes} minutes of your story.",
    )
    picture_no_story = Text(
        "我只能读文字消息里的命令，这张图片没有保存：没有找到你最近 {minutes} 分钟内发的故事。"
        "要给故事配图，请在 /故事 标题 | 正文 的消息里带上图片，或发完故事后 {minutes} 分钟内单独发图片。",
        "I only read commands in text messages, so this picture was not kept: no story of yours "
        "from the last {minutes} minutes. Put pictures in the /story title | body message, or "
        "send them on their own within {minutes} minutes of it.",
    )
    pictures_full = Text(
        "故事 #{id} 已有 {limit} 张图片，不能再加了。",
        "Story #{id} already has {limit} pictures; no more can be added.",
    )
    picture_added = Text(
        "已把 {n} 张图片加到故事 #{id}「{title}」，正在保存。",
        '{n} picture(s) added to story #{id} "{title}"; saving them now.',
    )
    pictures_saving = Text(
        "（含 {n} 张图片，正在保存，保存好后随故事卡片一起发出）",
        " ({n} picture(s) being saved; they go out with the story's card)",
    )
    pictures_too_many = Text(
        "（每个故事最多保存 {limit} 张图片，多出的 {extra} 张没有保存）",
        " (at most {limit} pictures per story; {extra} more were not kept)",
    )
    picture_failed = Text(
        "故事 #{id}「{title}」的 {n} 张图片没能保存：{why}。故事的文字已保留。",
        '{n} picture(s) of story #{id} "{title}" could not be saved: {why}. '
        "The story's text is kept.",
    )
    picture_why: ClassVar[dict[str, Text]] = {
        "too-large": Text("图片超过 {limit} KB 的上限", "larger than the {limit} KB limit"),
        "not-image": Text(
            "文件不是 JPG、PNG、GIF 或 BMP 图片", "the file is not a JPG, PNG, GIF or BMP picture"
        ),
        "expired": Text(
            "钉钉的图片下载码已失效，请重新发送图片",
            "DingTalk's download code has expired; please send the picture again",
        ),
        "unavailable": Text(
            "多次尝试都没能从钉钉取到图片", "DingTalk did not hand the picture over after retries"
        ),
    }
    privacy_picture = Text("故事 #{id} 的图片（{kb} KB）", "picture of story #{id} ({kb} KB)")
    privacy_picture_waiting = Text("故事 #{id} 的图片（保存中）", "picture of story #{id} (saving)")
    card_hint = Text("发送 /赞 {id} 点赞", "Send /like {id} to like it")
    full_hint = Text("全文：发送 /故事 全文 {id}", "Full text: send /story show {id}")
    help_show = Text("查看故事全文", "show a story in full")
    review_hint = Text(
        "发送 /通过 {id} 或 /驳回 {id} 理由", "Send /approve {id} or /reject {id} <reason>"
    )


def has_words(text: str) -> bool:
    """Whether ``text`` holds a letter or a digit (not only emoji or symbols)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def status_word(ctx: BaseContext, status: str) -> str:
    """A story's review status in the reader's language."""
    words = {
        "pending": T.status_pending,
        "approved": T.status_approved,
        "withdrawn": T.status_withdrawn,
        "removed": T.status_removed,
    }
    return ctx.t(words.get(status, T.status_rejected))
