"""``/推荐`` (``/foryou``): recommendations for one member, each with the reason; the weekly
one-to-one opt-in."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot import people
from bot.context import BaseContext, MessageContext
from bot.router import Router
from domain.recommend import pick_events, pick_partners, pick_stories
from handlers.recommend.texts import T
from storage.recommend import RecommendRepo

router = Router("recommend.commands")

LISTED = 3  # picks per section


def _when(ctx: BaseContext, at: datetime) -> str:
    return at.astimezone(ctx.settings.bot.tz).strftime("%m-%d %H:%M")


async def recommendations(ctx: BaseContext, conversation_id: str, me: str) -> list[str]:
    """The lines recommending things to ``me`` in the group (empty: nothing to go on)."""
    repo = RecommendRepo(ctx.session)
    sep = "；" if ctx.lang == "zh" else "; "
    lines: list[str] = []

    joined = await repo.joined_events(conversation_id, me)
    upcoming = await repo.upcoming_not_joined(conversation_id, me, ctx.now)
    by_id = {u.id: u for u in upcoming}
    events = pick_events([(u.id, u.title, u.place) for u in upcoming], joined, LISTED)
    if events:
        lines.append(ctx.t(T.events))
        for pick in events:
            event = by_id[pick.event_id]
            lines.append(
                ctx.t(
                    T.event_line,
                    id=pick.event_id,
                    title=pick.title,
                    when=_when(ctx, event.starts_at),
                    place=event.place,
                    like=pick.like_title,
                    same=ctx.t(T.same_place) if pick.same_place else "",
                )
            )
        lines.append(ctx.t(T.event_hint))

    posts = await repo.partner_posts(conversation_id, me)
    partners = pick_partners([(p.staff_id, p.kind, p.skill, p.mine) for p in posts], LISTED)
    if partners:
        names = await people.names(
            ctx, conversation_id, [p.member for p in partners], {p.staff_id: p.nick for p in posts}
        )
        lines.append(ctx.t(T.partners))
        for partner in partners:
            why = [ctx.t(T.they_teach, theirs=t, mine=m) for t, m in partner.they_teach]
            why += [ctx.t(T.i_teach, mine=m, theirs=t) for m, t in partner.i_teach]
            lines.append(
                ctx.t(
                    T.partner_line,
                    who=names[partner.member],
                    kind=ctx.t(T.two_way if partner.two_way else T.one_way),
                    why=sep.join(why),
                )
            )
        lines.append(ctx.t(T.partner_hint))

    swapped = await repo.swapped_with(conversation_id, me)
    together = await repo.joined_with(conversation_id, me)
    week = await repo.week_stories(conversation_id, ctx.now - timedelta(days=7), not_by=me)
    stories = pick_stories(week, swapped, together, LISTED)
    if stories:
        authors = await people.names(ctx, conversation_id, [s.author for s in stories])
        lines.append(ctx.t(T.stories))
        for story in stories:
            why = []
            if story.swap_skill:
                why.append(ctx.t(T.swapped, skill=story.swap_skill))
            if story.event_title:
                why.append(ctx.t(T.joined, event=story.event_title))
            lines.append(
                ctx.t(
                    T.story_line,
                    id=story.story_id,
                    title=story.title,
                    author=authors[story.author],
                    why=sep.join(why),
                )
            )
    return lines


@router.command("foryou", aliases=["推荐"], help=T.help_foryou)
async def foryou(ctx: MessageContext) -> str:
    """What this member may like in the group, each with why."""
    lines = await recommendations(ctx, ctx.conversation.id, ctx.member.staff_id)
    if not lines:
        return ctx.t(T.empty)
    return "\n".join([ctx.t(T.header), *lines])


@router.command("foryou subscribe", aliases=["推荐 订阅"], help=T.help_subscribe)
async def subscribe(ctx: MessageContext) -> str:
    """Opt in to the weekly one-to-one recommendations of this group."""
    repo = RecommendRepo(ctx.session)
    added = await repo.subscribe(ctx.conversation.id, ctx.member.staff_id, ctx.now)
    return ctx.t(T.subscribed if added else T.already)


@router.command("foryou unsubscribe", aliases=["推荐 退订"], help=T.help_unsubscribe)
async def unsubscribe(ctx: MessageContext) -> str:
    """Opt out of the weekly recommendations."""
    repo = RecommendRepo(ctx.session)
    removed = await repo.unsubscribe(ctx.conversation.id, ctx.member.staff_id)
    return ctx.t(T.unsubscribed if removed else T.not_subscribed)
