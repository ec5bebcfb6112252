"""Stories ("我的钉钉故事"), their review, and honest likes."""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from typing import Any, ClassVar

import numpy as np

from bot import people, safety
from bot.context import Context
from bot.errors import UserError
from bot.i18n import Text, number
from bot.replies import (
    CardButton,
    CardReply,
    CardResponse,
    CardUpdate,
    MarkdownReply,
    Reply,
    TextReply,
    ToMembers,
)
from bot.router import Arg, PrivacySection, Router
from handlers.honest_likes import LikeTable, MemberSignals, Scores, reason_names, score
from storage.models import Story

router = Router("stories", module="stories")


class T:
    """Every text of the stories feature."""

    title = Text("标题", "title")
    body = Text("正文", "body")
    story_id = Text("故事编号", "story id")
    reason = Text("理由", "reason")
    scope = Text("范围", "scope")
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
    suspicious_header = Text("点赞异常：", "Likes that look brushed:")
    burst_line = Text(
        "故事 #{id}「{title}」：{n} 个赞在 {seconds} 秒内，其中 {fresh} 个来自 {hours} 小时内首次出现的成员，"
        "{inactive} 个来自只点赞的成员；{discounted} 个赞按低权重计（真实 {genuine} / 共 {likes}）",
        "Story #{id} '{title}': {n} likes within {seconds} s, {fresh} from members first seen within "
        "{hours} h and {inactive} from members who only like; {discounted} count for little "
        "({genuine} genuine of {likes})",
    )
    ring_line = Text(
        "{a} 与 {b} 互相点赞：{a} 赞了 {b} 的 {ab} 个故事，{b} 赞了 {a} 的 {ba} 个",
        "{a} and {b} like each other: {a} liked {ab} of {b}'s stories, {b} liked {ba} of {a}'s",
    )
    like_only_line = Text(
        "{who} 只点赞、没有其他互动（{n} 个赞）", "{who} only likes, nothing else ({n} likes)"
    )
    capped_line = Text(
        "{who} 超过每日点赞上限，{n} 个赞不计",
        "{who} went over the daily cap; {n} likes do not count",
    )
    card_hint = Text("发送 /赞 {id} 点赞", "Send /like {id} to like it")
    full_hint = Text("全文：发送 /故事 全文 {id}", "Full text: send /story show {id}")
    help_show = Text("查看故事全文", "show a story in full")
    review_hint = Text(
        "发送 /通过 {id} 或 /驳回 {id} 理由", "Send /approve {id} or /reject {id} <reason>"
    )


def _has_words(text: str) -> bool:
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def _status(ctx: Context, status: str) -> str:
    return ctx.t(
        {"pending": T.status_pending, "approved": T.status_approved}.get(status, T.status_rejected)
    )


async def _story(ctx: Context, story_id: int) -> Story:
    assert ctx.conversation is not None
    story = await ctx.repos.stories.get(ctx.conversation.id, story_id)
    if story is None:
        raise UserError(T.unknown, id=story_id)
    return story


def story_card(ctx: Context, story: Story) -> CardReply:
    """The story as a card with a like button (markdown with the command when no template)."""
    author = story.author_nick or ctx.t(people.T.someone)
    hint = ctx.t(T.card_hint, id=story.id)
    return CardReply(
        kind="story",
        entity_id=str(story.id),
        template_id=ctx.settings.cards.story_template,
        title=safety.plain(story.title)[:60],
        data={
            "title": safety.plain(story.title),
            "body": safety.plain(story.body),
            "author": safety.plain(author),
            "likes": str(story.likes),
            "genuine_likes": number(story.genuine_likes),
        },
        buttons=[CardButton(label="赞 / Like", action="like", id=str(story.id))],
        full_command=ctx.t(T.full_hint, id=story.id),
        fallback_markdown=(
            f"#### #{story.id} {safety.md(story.title)}\n\n{safety.md(story.body)}\n\n"
            f"— {safety.md(author)}\n\n👍 {story.likes}  \n{hint}"
        ),
    )


def review_card(ctx: Context, story: Story) -> CardReply:
    """A pending story for admins, with approve / reject buttons."""
    author = story.author_nick or ctx.t(people.T.someone)
    return CardReply(
        kind="review",
        entity_id=str(story.id),
        template_id=ctx.settings.cards.review_template,
        title=safety.plain(story.title)[:60],
        data={
            "title": safety.plain(story.title),
            "body": safety.plain(story.body),
            "author": safety.plain(author),
            "status": _status(ctx, story.status),
        },
        buttons=[
            CardButton(label="通过 / Approve", action="approve", id=str(story.id)),
            CardButton(label="驳回 / Reject", action="reject", id=str(story.id)),
        ],
        full_command=ctx.t(T.full_hint, id=story.id),
        fallback_markdown=(
            f"#### #{story.id} {safety.md(story.title)}\n\n{safety.md(story.body)}\n\n"
            f"— {safety.md(author)}  \n{ctx.t(T.review_hint, id=story.id)}"
        ),
    )


async def _card_updates(
    ctx: Context, kind: str, entity_id: int, data: dict[str, str]
) -> list[Reply]:
    return [
        CardUpdate(out_track_id=track, data=data)
        for track in await ctx.repos.cards.track_ids(kind, str(entity_id))
    ]


# -- privacy: what this feature stores about a member ----------------------------------------


async def _my_stories(ctx: Context, conversation_id: str, staff_id: str) -> tuple[int, list[str]]:
    stories = await ctx.repos.stories.by_author(conversation_id, staff_id)
    return len(stories), [
        f"#{s.id}「{safety.plain(s.title)}」（{_status(ctx, s.status)}）" for s in stories[:3]
    ]


async def _erase_stories(ctx: Context, conversation_id: str, staff_id: str) -> int:
    erased = await ctx.repos.stories.delete_by_author(conversation_id, staff_id)
    if erased:
        await ctx.repos.groups.get(
            conversation_id, review_default=ctx.settings.stories.review_default
        )
        await ctx.repos.groups.mark_likes_dirty(conversation_id)
    return erased


async def _my_likes(ctx: Context, conversation_id: str, staff_id: str) -> tuple[int, list[str]]:
    likes = await ctx.repos.likes.given(conversation_id, staff_id)
    return len(likes), [f"#{like.story_id}" for like in likes[:5]]


async def _erase_likes(ctx: Context, conversation_id: str, staff_id: str) -> int:
    erased = await ctx.repos.likes.delete_given(conversation_id, staff_id)
    if erased:
        await ctx.repos.groups.get(
            conversation_id, review_default=ctx.settings.stories.review_default
        )
        await ctx.repos.groups.mark_likes_dirty(conversation_id)
    return erased


router.privacy_section(
    PrivacySection("likes", Text("点过的赞", "likes given"), _my_likes, _erase_likes, order=20)
)
router.privacy_section(
    PrivacySection("stories", Text("故事", "stories"), _my_stories, _erase_stories, order=30)
)


# -- submitting ------------------------------------------------------------------------------


@router.command(
    "story",
    aliases=["故事"],
    help=T.help_story,
    style="pipe",
    args=[Arg("title", T.title), Arg("body", T.body, kind="rest")],
    acts=True,
)
async def submit(ctx: Context, title: str, body: str) -> list[Reply]:
    """Submit a story: to the review queue, or straight to the group where review is off."""
    assert ctx.conversation is not None and ctx.member is not None
    cfg = ctx.settings.stories
    for what, value, limit in ((T.title, title, cfg.title_max), (T.body, body, cfg.body_max)):
        if len(value) > limit:
            raise UserError(T.too_long, what=ctx.t(what), limit=limit, length=len(value))
        if not _has_words(value):
            raise UserError(T.no_words, what=ctx.t(what))
    group = await ctx.repos.groups.get(ctx.conversation.id, review_default=cfg.review_default)
    story = await ctx.repos.stories.submit(
        conversation_id=ctx.conversation.id,
        author=ctx.member.staff_id,
        nick=ctx.member.nick,
        title=title,
        body=body,
        approved=not group.review_stories,
        now=ctx.now,
    )
    if group.review_stories:
        return [TextReply(content=ctx.t(T.submitted_review, id=story.id, title=title))]
    return [TextReply(content=ctx.t(T.published, id=story.id)), story_card(ctx, story)]


@router.command(
    "story show",
    aliases=["故事 全文"],
    help=T.help_show,
    args=[Arg("id", T.story_id, kind="int", low=1)],
)
async def show(ctx: Context, id: int) -> MarkdownReply:
    """A story in full (a card shows at most 1 KB of it: 创建并投放卡片 value limit)."""
    story = await _story(ctx, id)
    if story.status != "approved" and not ctx.is_admin:
        raise UserError(T.unknown, id=id)
    author = story.author_nick or story.author_staff_id
    return MarkdownReply(
        title=safety.plain(story.title)[:60],
        text=(
            f"#### #{story.id} {safety.md(story.title)}\n\n{safety.md(story.body)}\n\n"
            f"— {safety.md(author)}"
        ),
    )


# -- review ------------------------------------------------------------------------------------


@router.command("review", aliases=["审核"], help=T.help_review, admin=True)
async def review(ctx: Context) -> list[Reply]:
    """List pending stories as review cards."""
    assert ctx.conversation is not None
    pending = await ctx.repos.stories.pending(ctx.conversation.id)
    if not pending:
        return [TextReply(content=ctx.t(T.no_pending))]
    header: list[Reply] = [TextReply(content=ctx.t(T.pending_header, n=len(pending)))]
    return header + [review_card(ctx, story) for story in pending]


@router.command("review on", aliases=["审核 开"], help=T.help_review_on, admin=True)
async def review_on(ctx: Context) -> Text:
    """Review stories in this group."""
    assert ctx.conversation is not None
    await ctx.repos.groups.set_review(
        ctx.conversation.id, True, review_default=ctx.settings.stories.review_default
    )
    return T.review_on


@router.command("review off", aliases=["审核 关"], help=T.help_review_off, admin=True)
async def review_off(ctx: Context) -> Text:
    """Publish stories in this group without review."""
    assert ctx.conversation is not None
    await ctx.repos.groups.set_review(
        ctx.conversation.id, False, review_default=ctx.settings.stories.review_default
    )
    return T.review_off


async def _decide(ctx: Context, story_id: int, *, approve: bool, reason: str) -> list[Reply]:
    """Approve or reject once, even when two admins press at the same moment."""
    assert ctx.conversation is not None and ctx.member is not None
    story = await ctx.repos.stories.decide(
        ctx.conversation.id,
        story_id,
        approve=approve,
        by=ctx.member.staff_id,
        reason=reason,
        now=ctx.now,
    )
    if story is None:
        existing = await ctx.repos.stories.get(ctx.conversation.id, story_id)
        if existing is None:
            raise UserError(T.not_pending, id=story_id)
        raise UserError(T.decided_already, id=story_id, status=_status(ctx, existing.status))
    title = safety.plain(story.title)
    replies: list[Reply] = await _card_updates(
        ctx, "review", story.id, {"status": _status(ctx, story.status)}
    )
    if approve:
        replies.append(story_card(ctx, story))
        note = ctx.t(T.approved_author, id=story.id, title=title)
    else:
        shown = safety.plain(reason) if reason else ctx.t(T.no_reason)
        note = ctx.t(T.rejected_author, id=story.id, title=title, reason=shown)
    replies.append(TextReply(content=note, to=ToMembers(staff_ids=[story.author_staff_id])))
    return replies


@router.command(
    "approve",
    aliases=["通过"],
    help=T.help_approve,
    admin=True,
    args=[Arg("id", T.story_id, kind="int", low=1)],
)
async def approve(ctx: Context, id: int) -> list[Reply]:
    """Approve a story: it is posted, and its author is told."""
    replies = await _decide(ctx, id, approve=True, reason="")
    return [TextReply(content=ctx.t(T.approved_admin, id=id)), *replies]


@router.command(
    "reject",
    aliases=["驳回"],
    help=T.help_reject,
    admin=True,
    args=[
        Arg("id", T.story_id, kind="int", low=1),
        Arg("reason", T.reason, kind="rest", optional=True, max_len=500),
    ],
)
async def reject(ctx: Context, id: int, reason: str | None) -> list[Reply]:
    """Reject a story; its author is told the reason."""
    replies = await _decide(ctx, id, approve=False, reason=reason or "")
    return [TextReply(content=ctx.t(T.rejected_admin, id=id)), *replies]


@router.action("approve", admin=True)
async def approve_click(ctx: Context) -> CardResponse:
    """The approve button of a review card."""
    story_id = ctx.click_id(T.unknown)
    for reply in await _decide(ctx, story_id, approve=True, reason=""):
        ctx.reply(reply)
    return CardResponse(
        card_data={"status": ctx.t(T.status_approved)},
        private_data={"message": ctx.t(T.approved_admin, id=story_id)},
    )


@router.action("reject", admin=True)
async def reject_click(ctx: Context) -> CardResponse:
    """The reject button of a review card (no reason: the author is told none was given)."""
    story_id = ctx.click_id(T.unknown)
    for reply in await _decide(ctx, story_id, approve=False, reason=""):
        ctx.reply(reply)
    return CardResponse(
        card_data={"status": ctx.t(T.status_rejected)},
        private_data={"message": ctx.t(T.rejected_admin, id=story_id)},
    )


# -- likes ----------------------------------------------------------------------------------


async def _likeable(ctx: Context, story_id: int) -> Story:
    story = await _story(ctx, story_id)
    if story.status != "approved":
        raise UserError(T.not_approved if story.status == "pending" else T.unknown, id=story_id)
    assert ctx.member is not None
    if story.author_staff_id == ctx.member.staff_id:
        raise UserError(T.own_story)
    return story


async def _after_like_change(ctx: Context, story: Story) -> list[Reply]:
    await ctx.repos.groups.get(
        story.conversation_id, review_default=ctx.settings.stories.review_default
    )
    await ctx.repos.groups.mark_likes_dirty(story.conversation_id)
    await ctx.session.refresh(story)
    return await _card_updates(
        ctx,
        "story",
        story.id,
        {"likes": str(story.likes), "genuine_likes": number(story.genuine_likes)},
    )


@router.command(
    "like",
    aliases=["赞"],
    help=T.help_like,
    args=[Arg("id", T.story_id, kind="int", low=1)],
    acts=True,
)
async def like(ctx: Context, id: int) -> list[Reply]:
    """Like a story (once; a second like is a friendly no-op)."""
    assert ctx.member is not None and ctx.conversation is not None
    await ctx.repos.likes.count_like_message(ctx.conversation.id, ctx.member.staff_id)
    story = await _likeable(ctx, id)
    if not await ctx.repos.likes.add(story, ctx.member.staff_id, ctx.now):
        return [TextReply(content=ctx.t(T.already_liked, id=id))]
    updates = await _after_like_change(ctx, story)
    return [TextReply(content=ctx.t(T.liked, id=id, likes=story.likes)), *updates]


@router.command(
    "unlike",
    aliases=["取消赞"],
    help=T.help_unlike,
    args=[Arg("id", T.story_id, kind="int", low=1)],
)
async def unlike(ctx: Context, id: int) -> list[Reply]:
    """Take a like back."""
    assert ctx.member is not None and ctx.conversation is not None
    await ctx.repos.likes.count_like_message(ctx.conversation.id, ctx.member.staff_id)
    story = await _story(ctx, id)
    if not await ctx.repos.likes.remove(story, ctx.member.staff_id):
        return [TextReply(content=ctx.t(T.not_liked, id=id))]
    updates = await _after_like_change(ctx, story)
    return [TextReply(content=ctx.t(T.unliked, id=id)), *updates]


@router.action("like", acts=True)
async def like_click(ctx: Context) -> CardResponse:
    """The like button toggles; the card shows the new count and the clicker's own state."""
    assert ctx.member is not None and ctx.conversation is not None
    story = await _likeable(ctx, ctx.click_id(T.unknown))
    member = ctx.member.staff_id
    await ctx.repos.likes.ensure_member(story.conversation_id, member, ctx.now)
    if await ctx.repos.likes.add(story, member, ctx.now):
        message, state = ctx.t(T.liked, id=story.id, likes="?"), ctx.t(T.liked_state)
    else:
        await ctx.repos.likes.remove(story, member)
        message, state = ctx.t(T.unliked, id=story.id), ""
    for update in await _after_like_change(ctx, story):
        if isinstance(update, CardUpdate) and update.out_track_id == ctx.click.out_track_id:  # type: ignore[union-attr]
            continue  # the ack itself updates the clicked card
        ctx.reply(update)
    message = message.replace("?", str(story.likes))
    return CardResponse(
        card_data={"likes": str(story.likes), "genuine_likes": number(story.genuine_likes)},
        private_data={"liked": state, "message": message},
    )


# -- rankings and audits ----------------------------------------------------------------------


def scoring_columns(
    likes: list[Any], members: list[Any]
) -> tuple[LikeTable, dict[str, MemberSignals]]:
    """The scorer's input from ``LikeRepo.scoring_input`` rows."""
    table = LikeTable.build(
        np.fromiter((row[1] for row in likes), np.int64, len(likes)),
        [row[2] for row in likes],
        [row[3] for row in likes],
        np.fromiter((row[4] for row in likes), np.float64, len(likes)),
    )
    signals = {
        staff: MemberSignals(first_seen=first, active=other > 0 or stories > 0)
        for staff, first, other, stories in members
    }
    return table, signals


async def rescore(ctx: Context, conversation_id: str) -> Scores:
    """Recompute every like weight of a group from the evidence in the database."""
    likes, members = await ctx.repos.likes.scoring_input(conversation_id)
    table, signals = scoring_columns(likes, members)
    scores = score(table, signals, ctx.settings.likes, ctx.settings.bot.tz)
    old_weight = np.fromiter((row[5] for row in likes), np.float64, len(likes))
    old_reasons = [row[6] for row in likes]
    names = {mask: ",".join(reason_names(mask)) for mask in np.unique(scores.reasons).tolist()}
    changed = set(np.flatnonzero(np.abs(scores.weight - old_weight) > 1e-9).tolist())
    changed.update(i for i, old in enumerate(old_reasons) if old != names[int(scores.reasons[i])])
    changes: list[dict[str, object]] = [
        {"lid": likes[i][0], "w": float(scores.weight[i]), "r": names[int(scores.reasons[i])]}
        for i in sorted(changed)
    ]
    await ctx.repos.likes.save_weights(changes)
    if changes:
        await ctx.repos.likes.recount_group(conversation_id)
    await ctx.repos.groups.clear_dirty(conversation_id)
    return scores


async def rescore_if_dirty(ctx: Context, conversation_id: str) -> None:
    """Bring a group's weights up to date before showing counts (cheap when they are)."""
    group = await ctx.repos.groups.get(
        conversation_id, review_default=ctx.settings.stories.review_default
    )
    if group.likes_dirty:
        await rescore(ctx, conversation_id)


@router.job("likes-rescore", every=lambda settings: settings.likes.rescore_seconds)
async def rescore_dirty(ctx: Context) -> None:
    """The scheduled job: recompute the groups with new likes since the last run."""
    for conversation_id in await ctx.repos.groups.dirty_groups():
        await rescore(ctx, conversation_id)


@router.command(
    "stories",
    aliases=["故事榜"],
    help=T.help_stories,
    args=[Arg("scope", T.scope, kind="choice", choices=("week", "all"), optional=True)],
)
async def stories(ctx: Context, scope: str | None) -> str:
    """Top stories by genuine likes, showing genuine and raw counts."""
    assert ctx.conversation is not None
    await rescore_if_dirty(ctx, ctx.conversation.id)
    since = None if scope == "all" else ctx.now - timedelta(days=7)
    top = await ctx.repos.stories.top(ctx.conversation.id, since, ctx.settings.stories.top)
    if not top:
        return ctx.t(T.top_empty)
    lines = [ctx.t(T.top_header_all if scope == "all" else T.top_header_week)]
    authors = await people.names(
        ctx,
        ctx.conversation.id,
        [s.author_staff_id for s in top],
        {s.author_staff_id: s.author_nick for s in top},
    )
    for story in top:
        lines.append(
            ctx.t(
                T.top_line,
                id=story.id,
                title=story.title,
                author=authors[story.author_staff_id],
                genuine=number(story.genuine_likes),
                likes=story.likes,
            )
        )
    return "\n".join(lines)


@router.command(
    "likes",
    aliases=["点赞明细"],
    help=T.help_likes,
    admin=True,
    args=[Arg("id", T.story_id, kind="int", low=1)],
)
async def likes_audit(ctx: Context, id: int) -> str:
    """Each like of a story, its weight and the reason."""
    assert ctx.conversation is not None
    await rescore_if_dirty(ctx, ctx.conversation.id)
    story = await _story(ctx, id)
    await ctx.session.refresh(story)
    likes = await ctx.repos.likes.of_story(story.id)
    if not likes:
        return ctx.t(T.likes_none, id=id)
    lines = [ctx.t(T.likes_header, id=id, likes=story.likes, genuine=number(story.genuine_likes))]
    who = await people.names(ctx, ctx.conversation.id, [like.staff_id for like in likes])
    for like in likes:
        why = [ctx.t(T.reason_words[r]) for r in like.reasons.split(",") if r in T.reason_words]
        lines.append(
            ctx.t(
                T.likes_line,
                who=who[like.staff_id],
                weight=f"{like.weight:.2f}",
                why="；".join(why)
                if why and ctx.lang == "zh"
                else ", ".join(why) or ctx.t(T.full_weight),
            )
        )
    return "\n".join(lines)


@router.command("suspicious", aliases=["异常点赞"], help=T.help_suspicious, admin=True)
async def suspicious(ctx: Context) -> str:
    """Stories whose likes look brushed, with the evidence in plain words."""
    assert ctx.conversation is not None
    scores = await rescore(ctx, ctx.conversation.id)
    return await describe(ctx, scores, ctx.conversation.id) or ctx.t(T.suspicious_none)


async def describe(ctx: Context, scores: Scores, conversation_id: str) -> str:
    """The evidence of a scoring run in plain words (empty when nothing looks brushed)."""
    lines: list[str] = []
    hours = number(ctx.settings.likes.fresh_member_hours)
    for burst in scores.bursts:
        story = await ctx.repos.stories.get(conversation_id, burst.story_id)
        if story is None:
            continue
        await ctx.session.refresh(story)
        lines.append(
            ctx.t(
                T.burst_line,
                id=story.id,
                title=story.title,
                n=burst.likes,
                seconds=round(burst.seconds),
                fresh=burst.fresh,
                hours=hours,
                inactive=burst.inactive,
                discounted=burst.discounted,
                genuine=number(story.genuine_likes),
                likes=story.likes,
            )
        )
    named = await people.names(
        ctx,
        conversation_id,
        [m for a, b, _, _ in scores.rings for m in (a, b)]
        + list(scores.like_only)
        + list(scores.capped),
    )
    for a, b, ab, ba in scores.rings:
        lines.append(ctx.t(T.ring_line, a=named[a], b=named[b], ab=ab, ba=ba))
    for who, n in sorted(scores.like_only.items()):
        lines.append(ctx.t(T.like_only_line, who=named[who], n=n))
    for who, n in sorted(scores.capped.items()):
        lines.append(ctx.t(T.capped_line, who=named[who], n=n))
    return "\n".join([ctx.t(T.suspicious_header), *lines]) if lines else ""
