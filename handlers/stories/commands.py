"""The commands of the stories feature: submitting, review, likes, rankings and audits."""

from __future__ import annotations

import base64
import unicodedata
from datetime import timedelta

from bot import people, safety
from bot.args import PIPES
from bot.context import Context, MessageContext
from bot.errors import UserError
from bot.forms import SWITCH, choices_from
from bot.i18n import Text, number
from bot.replies import ImageReply, MarkdownReply, Reply, TextReply, ToMembers
from bot.router import Arg, Router
from domain.likes import describe, rescore, rescore_if_dirty
from domain.likes_chart import LikePoint, burst_spans, render_off_loop
from handlers.stories.cards import card_updates, review_card, story_card
from handlers.stories.texts import T, has_words, status_word
from storage.models import Story

router = Router("stories.commands", module="stories")


# The words a member may type for a choice: the Chinese the help shows, and English.
SCOPES = {
    "本周": "week",
    "这周": "week",
    "week": "week",
    "全部": "all",
    "所有": "all",
    "all": "all",
}
SWITCHES = {
    "开": "on",
    "开启": "on",
    "打开": "on",
    "on": "on",
    "关": "off",
    "关闭": "off",
    "off": "off",
}


def fold_choice(value: str, words: dict[str, str], bad: Text) -> str:
    """The canonical choice for what a member typed (width and case folded), or a
    ``UserError`` naming the right form."""
    key = unicodedata.normalize("NFKC", value).strip().casefold()
    if key not in words:
        raise UserError(bad)
    return words[key]


async def find_story(ctx: Context, story_id: int) -> Story:
    """The group's story with this id, or a ``UserError`` naming the id."""
    story = await ctx.repos.stories.get(ctx.conversation.id, story_id)
    if story is None:
        raise UserError(T.unknown, id=story_id)
    return story


# -- submitting ------------------------------------------------------------------------------


@router.command(
    "story",
    aliases=["故事"],
    help=T.help_story,
    style="pipe",
    args=[Arg("title", T.title), Arg("body", T.body, kind="rest")],
    acts=True,
)
async def submit(ctx: MessageContext, title: str, body: str) -> list[Reply]:
    """Submit a story: to the review queue, or straight to the group where review is off."""
    cfg = ctx.settings.stories
    check_text(ctx, title, body)
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
async def show(ctx: MessageContext, id: int) -> MarkdownReply:
    """A story in full (a card shows at most 1 KB of it: 创建并投放卡片 value limit)."""
    story = await find_story(ctx, id)
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


@router.command(
    "review",
    aliases=["审核"],
    help=T.help_review,
    admin=True,
    args=[Arg("switch", T.switch, kind="choice", options=SWITCH, optional=True)],
)
async def review(ctx: MessageContext, switch: str | None) -> list[Reply] | Text:
    """List pending stories as review cards (``/审核 开|关`` switches review, in either
    language: "/审核 off" is understood, not refused with a usage line hiding the switch)."""
    if switch is not None:
        on = fold_choice(switch, SWITCHES, T.bad_switch) == "on"
        return await set_review(ctx, on)
    pending = await ctx.repos.stories.pending(ctx.conversation.id)
    if not pending:
        return [TextReply(content=ctx.t(T.no_pending))]
    header: list[Reply] = [TextReply(content=ctx.t(T.pending_header, n=len(pending)))]
    return header + [review_card(ctx, story) for story in pending]


async def set_review(ctx: Context, on: bool) -> Text:
    """Switch story review in this group."""
    await ctx.repos.groups.set_review(
        ctx.conversation.id, on, review_default=ctx.settings.stories.review_default
    )
    return T.review_on if on else T.review_off


@router.command("review on", aliases=["审核 开"], help=T.help_review_on, admin=True)
async def review_on(ctx: MessageContext) -> Text:
    """Review stories in this group."""
    return await set_review(ctx, True)


@router.command("review off", aliases=["审核 关"], help=T.help_review_off, admin=True)
async def review_off(ctx: MessageContext) -> Text:
    """Publish stories in this group without review."""
    return await set_review(ctx, False)


async def decide(ctx: Context, story_id: int, *, approve: bool, reason: str) -> list[Reply]:
    """Approve or reject once, even when two admins press at the same moment."""
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
        raise UserError(T.decided_already, id=story_id, status=status_word(ctx, existing.status))
    title = safety.plain(story.title)
    replies: list[Reply] = await card_updates(
        ctx, "review", story.id, {"status": status_word(ctx, story.status)}
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
async def approve(ctx: MessageContext, id: int) -> list[Reply]:
    """Approve a story: it is posted, and its author is told."""
    replies = await decide(ctx, id, approve=True, reason="")
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
async def reject(ctx: MessageContext, id: int, reason: str | None) -> list[Reply]:
    """Reject a story; its author is told the reason."""
    replies = await decide(ctx, id, approve=False, reason=reason or "")
    return [TextReply(content=ctx.t(T.rejected_admin, id=id)), *replies]


# -- edits, withdrawal and removal --------------------------------------------------------------


def check_text(ctx: Context, title: str, body: str) -> None:
    """A story's title and body within the limits and with words in them."""
    cfg = ctx.settings.stories
    for what, value, limit in ((T.title, title, cfg.title_max), (T.body, body, cfg.body_max)):
        if len(value) > limit:
            raise UserError(T.too_long, what=ctx.t(what), limit=limit, length=len(value))
        if not has_words(value):
            raise UserError(T.no_words, what=ctx.t(what))


@router.command(
    "story edit",
    aliases=["故事 修改"],
    help=T.help_edit,
    args=[Arg("id", T.story_id, kind="int", low=1), Arg("text", T.edit_form, kind="rest")],
    acts=True,
)
async def edit(ctx: MessageContext, id: int, text: str) -> list[Reply]:
    """The author changes a story while it waits for review; review cards show the change."""
    story = await find_story(ctx, id)  # an unknown id is named before the form is checked
    if story.author_staff_id != ctx.member.staff_id:
        raise UserError(T.not_author, id=id)
    parts = [p.strip() for p in PIPES.split(text, maxsplit=1)]
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise UserError(T.edit_needs_both, id=id)
    title, body = parts
    check_text(ctx, title, body)
    edited = await ctx.repos.stories.edit(ctx.conversation.id, id, ctx.member.staff_id, title, body)
    if edited is None:
        raise UserError(T.edit_not_pending, id=id, status=status_word(ctx, story.status))
    updates = await card_updates(
        ctx, "review", id, {"title": safety.plain(title), "body": safety.plain(body)}
    )
    return [TextReply(content=ctx.t(T.edited, id=id, title=title)), *updates]


async def _gone_cards(ctx: Context, story: Story, title: Text, body: Text) -> list[Reply]:
    """Every delivered card of a story taken down says so; its likes count for nothing."""
    story_data = {
        "title": ctx.t(title, title=story.title)[:200],
        "body": ctx.t(body),
        "genuine_likes": "0",
    }
    updates = await card_updates(ctx, "story", story.id, story_data)
    review_data = {"status": status_word(ctx, story.status)}
    return updates + await card_updates(ctx, "review", story.id, review_data)


@router.command(
    "story withdraw",
    aliases=["故事 撤回"],
    help=T.help_withdraw,
    args=[Arg("id", T.story_id, kind="int", low=1)],
)
async def withdraw(ctx: MessageContext, id: int) -> list[Reply]:
    """The author takes a story back at any time: it leaves the rankings and its card says so."""
    story = await find_story(ctx, id)
    if story.author_staff_id != ctx.member.staff_id:
        raise UserError(T.not_author, id=id)
    gone = await ctx.repos.stories.take_down(
        ctx.conversation.id,
        id,
        status="withdrawn",
        allowed=("pending", "approved", "rejected"),
        by=ctx.member.staff_id,
        reason="",
        now=ctx.now,
    )
    if gone is None:
        if story.status == "withdrawn":
            raise UserError(T.withdrawn_already, id=id)
        raise UserError(T.unknown, id=id)
    await ctx.repos.groups.mark_likes_dirty(
        ctx.conversation.id, review_default=ctx.settings.stories.review_default
    )
    updates = await _gone_cards(ctx, gone, T.withdrawn_card_title, T.withdrawn_card_body)
    return [TextReply(content=ctx.t(T.withdrawn, id=id, title=gone.title)), *updates]


@router.command(
    "story remove",
    aliases=["故事 删除"],
    help=T.help_remove,
    admin=True,
    args=[
        Arg("id", T.story_id, kind="int", low=1),
        Arg("reason", T.reason, kind="rest", optional=True, max_len=500),
    ],
)
async def remove(ctx: MessageContext, id: int, reason: str | None) -> list[Reply]:
    """An admin removes a published story with a reason; the author is told one to one."""
    story = await find_story(ctx, id)
    gone = await ctx.repos.stories.take_down(
        ctx.conversation.id,
        id,
        status="removed",
        allowed=("approved",),
        by=ctx.member.staff_id,
        reason=reason or "",
        now=ctx.now,
    )
    if gone is None:
        raise UserError(T.not_published, id=id, status=status_word(ctx, story.status))
    await ctx.repos.groups.mark_likes_dirty(
        ctx.conversation.id, review_default=ctx.settings.stories.review_default
    )
    updates = await _gone_cards(ctx, gone, T.removed_card_title, T.removed_card_body)
    shown = safety.plain(reason) if reason else ctx.t(T.no_reason)
    note = ctx.t(T.removed_author, id=id, title=gone.title, reason=shown)
    return [
        TextReply(content=ctx.t(T.removed_admin, id=id)),
        *updates,
        TextReply(content=note, to=ToMembers(staff_ids=[gone.author_staff_id])),
    ]


# -- likes ----------------------------------------------------------------------------------


async def likeable(ctx: Context, story_id: int) -> Story:
    story = await find_story(ctx, story_id)
    if story.status != "approved":
        raise UserError(T.not_approved if story.status == "pending" else T.unknown, id=story_id)
    if story.author_staff_id == ctx.member.staff_id:
        raise UserError(T.own_story)
    return story


async def after_like_change(ctx: Context, story: Story) -> list[Reply]:
    await ctx.repos.groups.mark_likes_dirty(
        story.conversation_id, review_default=ctx.settings.stories.review_default
    )
    await ctx.session.refresh(story)
    return await card_updates(
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
async def like(ctx: MessageContext, id: int) -> list[Reply]:
    """Like a story (once; a second like is a friendly no-op)."""
    await ctx.repos.likes.count_like_message(ctx.conversation.id, ctx.member.staff_id)
    story = await likeable(ctx, id)
    if not await ctx.repos.likes.add(story, ctx.member.staff_id, ctx.now):
        return [TextReply(content=ctx.t(T.already_liked, id=id))]
    updates = await after_like_change(ctx, story)
    return [TextReply(content=ctx.t(T.liked, id=id, likes=story.likes)), *updates]


@router.command(
    "unlike",
    aliases=["取消赞"],
    help=T.help_unlike,
    args=[Arg("id", T.story_id, kind="int", low=1)],
)
async def unlike(ctx: MessageContext, id: int) -> list[Reply]:
    """Take a like back."""
    await ctx.repos.likes.count_like_message(ctx.conversation.id, ctx.member.staff_id)
    story = await find_story(ctx, id)
    if not await ctx.repos.likes.remove(story, ctx.member.staff_id):
        return [TextReply(content=ctx.t(T.not_liked, id=id))]
    updates = await after_like_change(ctx, story)
    return [TextReply(content=ctx.t(T.unliked, id=id)), *updates]


@router.command(
    "stories",
    aliases=["故事榜"],
    help=T.help_stories,
    args=[Arg("scope", T.scope, kind="choice", options=choices_from(SCOPES), optional=True)],
)
async def stories(ctx: MessageContext, scope: str | None) -> str:
    """Top stories by genuine likes, showing genuine and raw counts."""
    if scope is not None:
        scope = fold_choice(scope, SCOPES, T.bad_scope)
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
async def likes_audit(ctx: MessageContext, id: int) -> list[Reply] | str:
    """Each like of a story, its weight and the reason; and a chart of the likes over time,
    brushed ones marked and bursts shaded (rendered in a worker process: a render takes
    longer than the event loop may be blocked)."""
    await rescore_if_dirty(ctx, ctx.conversation.id)
    story = await find_story(ctx, id)
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
    window = ctx.settings.likes.burst_window_seconds
    bursts = burst_spans(
        [like.created_at for like in likes if "burst" in like.reasons.split(",")], window
    )
    points = [LikePoint(like.created_at, like.weight) for like in likes]
    png = await render_off_loop(id, points, bursts, ctx.settings.bot.tz, ctx.lang)
    chart = ImageReply(
        title=ctx.t(T.chart_title, id=id), png_base64=base64.b64encode(png).decode("ascii")
    )
    return [TextReply(content="\n".join(lines)), chart]


@router.command("suspicious", aliases=["异常点赞"], help=T.help_suspicious, admin=True)
async def suspicious(ctx: MessageContext) -> str:
    """Stories whose likes look brushed, with the evidence in plain words."""
    scores = await rescore(ctx, ctx.conversation.id)
    return await describe(ctx, scores, ctx.conversation.id) or ctx.t(T.suspicious_none)
