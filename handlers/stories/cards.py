"""Story and review cards (markdown with the text command where no template is set)."""

from __future__ import annotations

from bot import people, safety
from bot.context import Context
from bot.i18n import number
from bot.replies import CardButton, CardReply, CardUpdate, Reply
from handlers.stories.texts import T, status_word
from storage.models import Story


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
            "status": status_word(ctx, story.status),
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


async def card_updates(
    ctx: Context, kind: str, entity_id: int, data: dict[str, str]
) -> list[Reply]:
    return [
        CardUpdate(out_track_id=track, data=data)
        for track in await ctx.repos.cards.track_ids(kind, str(entity_id))
    ]
