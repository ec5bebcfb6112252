"""What the stories feature stores about a member (for /我的数据 and /删除我的数据)."""

from __future__ import annotations

from bot import safety
from bot.context import Context
from bot.i18n import Text
from bot.router import PrivacySection, Router
from handlers.stories.texts import T, status_word

router = Router("stories.privacy", module="stories")
PRIVACY_ITEM = Text("#{id}「{title}」（{status}）", "#{id} '{title}' ({status})")


async def _my_stories(ctx: Context, conversation_id: str, staff_id: str) -> tuple[int, list[str]]:
    stories = await ctx.repos.stories.by_author(conversation_id, staff_id)
    return len(stories), [
        ctx.t(PRIVACY_ITEM, id=s.id, title=safety.plain(s.title), status=status_word(ctx, s.status))
        for s in stories[:3]
    ]


async def _erase_stories(ctx: Context, conversation_id: str, staff_id: str) -> int:
    erased = await ctx.repos.stories.delete_by_author(conversation_id, staff_id)
    if erased:
        await ctx.repos.groups.mark_likes_dirty(
            conversation_id, review_default=ctx.settings.stories.review_default
        )
    return erased


async def _my_likes(ctx: Context, conversation_id: str, staff_id: str) -> tuple[int, list[str]]:
    likes = await ctx.repos.likes.given(conversation_id, staff_id)
    return len(likes), [f"#{like.story_id}" for like in likes[:5]]


async def _erase_likes(ctx: Context, conversation_id: str, staff_id: str) -> int:
    erased = await ctx.repos.likes.delete_given(conversation_id, staff_id)
    if erased:
        await ctx.repos.groups.mark_likes_dirty(
            conversation_id, review_default=ctx.settings.stories.review_default
        )
    return erased


async def _my_pictures(ctx: Context, conversation_id: str, staff_id: str) -> tuple[int, list[str]]:
    pictures = [
        p
        for p in await ctx.repos.pictures.by_member(conversation_id, staff_id)
        if p.status != "failed"
    ]
    return len(pictures), [
        ctx.t(T.privacy_picture, id=p.story_id, kb=max(1, round(p.size / 1024)))
        if p.status == "stored"
        else ctx.t(T.privacy_picture_waiting, id=p.story_id)
        for p in pictures[:5]
    ]


async def _erase_pictures(ctx: Context, conversation_id: str, staff_id: str) -> int:
    # The bytes are in the rows (storage.models.StoryPicture): nothing is left on disk.
    return await ctx.repos.pictures.delete_by_member(conversation_id, staff_id)


router.privacy_section(
    PrivacySection("likes", Text("点过的赞", "likes given"), _my_likes, _erase_likes, order=20)
)
router.privacy_section(
    PrivacySection("stories", Text("故事", "stories"), _my_stories, _erase_stories, order=30)
)
router.privacy_section(
    PrivacySection(
        "pictures", Text("故事图片", "story pictures"), _my_pictures, _erase_pictures, order=25
    )
)
