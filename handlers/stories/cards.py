"""Story and review cards (markdown with the text command where no template is set)."""

from __future__ import annotations

from collections.abc import Sequence

from bot import people, safety
from bot.cards import CATALOG
from bot.context import BaseContext
from bot.i18n import number
from bot.replies import CardReply, Reply, Target
from handlers.stories.texts import T, status_word
from storage.models import Story


def story_card(
    ctx: BaseContext, story: Story, pictures: Sequence[str] = (), to: Target | None = None
) -> CardReply:
    """The story as a card with a like button (markdown with the command when no template).

    ``pictures`` are the media ids of its stored pictures: the card's ``picture`` variable
    takes the first (a card image component shows an uploaded media id), the markdown shows
    them all as ``![](media_id)`` (DingTalk connectors put uploaded media ids in markdown the
    same way: dingtalk-moltbot-connector, openclaw-china's dingtalk media module).
    """
    author = story.author_nick or ctx.t(people.T.someone)
    hint = ctx.t(T.card_hint, id=story.id)
    shown = "".join(f"![{ctx.t(T.picture_alt)}]({media_id})\n\n" for media_id in pictures)
    return CATALOG["story"].build(
        ctx.settings,
        entity_id=story.id,
        title=safety.plain(story.title)[:60],
        data={
            "title": safety.plain(story.title),
            "body": safety.plain(story.body),
            "author": safety.plain(author),
            "likes": str(story.likes),
            "genuine_likes": number(story.genuine_likes),
            "picture": pictures[0] if pictures else "",
        },
        full_command=ctx.t(T.full_hint, id=story.id),
        fallback_markdown=(
            f"#### #{story.id} {safety.md(story.title)}\n\n{safety.md(story.body)}\n\n"
            f"{shown}— {safety.md(author)}\n\n👍 {story.likes}  \n{hint}"
        ),
        to=to,
    )


def review_card(ctx: BaseContext, story: Story) -> CardReply:
    """A pending story for admins, with approve / reject buttons."""
    author = story.author_nick or ctx.t(people.T.someone)
    return CATALOG["review"].build(
        ctx.settings,
        entity_id=story.id,
        title=safety.plain(story.title)[:60],
        data={
            "title": safety.plain(story.title),
            "body": safety.plain(story.body),
            "author": safety.plain(author),
            "status": status_word(ctx, story.status),
        },
        full_command=ctx.t(T.full_hint, id=story.id),
        fallback_markdown=(
            f"#### #{story.id} {safety.md(story.title)}\n\n{safety.md(story.body)}\n\n"
            f"— {safety.md(author)}  \n{ctx.t(T.review_hint, id=story.id)}"
        ),
    )


async def card_updates(
    ctx: BaseContext, kind: str, entity_id: int, data: dict[str, str]
) -> list[Reply]:
    return [
        CATALOG[kind].update(track, data)
        for track in await ctx.repos.cards.track_ids(kind, str(entity_id))
    ]
