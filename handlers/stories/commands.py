"""The commands of the stories feature: submitting, review, likes, rankings and audits."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from bot import safety
from bot.args import PIPES
from bot.context import Context, MessageContext
from bot.errors import UserError
from bot.i18n import Text
from bot.lookup import Lookup
from bot.replies import MarkdownReply, Reply, TextReply, ToMembers
from bot.router import Arg, Router
from handlers.stories.cards import card_updates, story_card
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


# The group's story with the number a member typed or a card button sent, or a refusal
# naming the number (bot.lookup: one converter for every feature).
STORY: Lookup[Story] = Lookup(lambda repos, group, id: repos.stories.get(group, id), T.unknown)


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
    # Pictures are only recorded here (with the story, before the ack): fetching them is
    # network work done afterwards by ``handlers.stories.pictures``, outside this
    # transaction, so a slow or failed download never loses or doubles the story.
    codes = ctx.message.pictures
    limit = cfg.pictures_per_story
    note = ""
    if codes[:limit]:
        await ctx.repos.pictures.add(
            story.id, ctx.conversation.id, ctx.member.staff_id, codes[:limit], ctx.now
        )
        note = ctx.t(T.pictures_saving, n=len(codes[:limit]))
    if len(codes) > limit:
        note += ctx.t(T.pictures_too_many, limit=limit, extra=len(codes) - limit)
    if group.review_stories:
        text = ctx.t(T.submitted_review, id=story.id, title=title) + note
        return [TextReply(content=text)]
    published = TextReply(content=ctx.t(T.published, id=story.id) + note)
    if codes[:limit]:
        return [published]  # the card goes out once its pictures are saved
    return [published, story_card(ctx, story)]


# A picture sent on its own joins the member's story of the last minutes (DingTalk sends a
# picture alone as a ``picture`` message, and only text with pictures as ``richText``:
# developerpedia docs/learn/bot/message.md).
PICTURE_WINDOW = timedelta(minutes=10)


@router.command(
    "story picture",
    aliases=["故事 图片"],
    help=T.help_picture,
    hidden=True,
    needs_group=False,
    acts=True,
)
async def picture(ctx: MessageContext) -> str:
    """Pictures sent alone (the dispatcher routes a ``picture`` message here): they join
    the member's newest story of the last ``PICTURE_WINDOW``, in whichever group."""
    minutes = int(PICTURE_WINDOW.total_seconds() // 60)
    codes = ctx.message.pictures
    if not codes:
        raise UserError(T.picture_how, minutes=minutes)
    story = await ctx.repos.stories.latest_by_author(ctx.member.staff_id, ctx.now - PICTURE_WINDOW)
    if story is None:
        raise UserError(T.picture_no_story, minutes=minutes)
    limit = ctx.settings.stories.pictures_per_story
    room = limit - len(await ctx.repos.pictures.of_story(story.id))
    if room <= 0:
        raise UserError(T.pictures_full, id=story.id, limit=limit)
    await ctx.repos.pictures.add(
        story.id, story.conversation_id, ctx.member.staff_id, codes[:room], ctx.now
    )
    return ctx.t(T.picture_added, id=story.id, title=story.title, n=len(codes[:room]))


@router.command(
    "story show",
    aliases=["故事 全文"],
    help=T.help_show,
    args=[Arg("id", T.story_id, kind="int", low=1)],
)
async def show(ctx: MessageContext, id: int) -> MarkdownReply:
    """A story in full (a card shows at most 1 KB of it: 创建并投放卡片 value limit)."""
    story = await STORY.find(ctx, id)
    mine = story.author_staff_id == ctx.member.staff_id
    if story.status != "approved" and not ctx.is_admin and not mine:
        raise UserError(T.unknown, id=id)  # others' unpublished stories are not theirs to see
    author = story.author_nick or story.author_staff_id
    return MarkdownReply(
        title=safety.plain(story.title)[:60],
        text=(
            f"#### #{story.id} {safety.md(story.title)}\n\n{safety.md(story.body)}\n\n"
            f"— {safety.md(author)}"
        ),
    )


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
    story = await STORY.find(ctx, id)  # an unknown id is named before the form is checked
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
    story = await STORY.find(ctx, id)
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
    story = await STORY.find(ctx, id)
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
