"""The digest's admin commands: preview, post now, schedule, off and on."""

from __future__ import annotations

from datetime import timedelta

from bot.context import MessageContext
from bot.errors import UserError
from bot.events import is_staff_id
from bot.forms import WEEKDAY
from bot.i18n import Text
from bot.replies import Reply, TextReply, ToMembers
from bot.router import Arg, Router
from handlers.digest.content import (
    build,
    day_name,
    group_slot,
    last_slot,
    period_key,
    post_digest,
    render,
)
from handlers.digest.texts import WEEKDAYS, ZH_WEEKDAYS, T
from storage.models import GroupSettings

router = Router("digest.commands", module="digest")


@router.command("digest preview", aliases=["周报", "周报 预览"], help=T.help_preview, admin=True)
async def preview(ctx: MessageContext) -> list[Reply]:
    """This week's digest, sent to the admin privately, not posted."""
    end = ctx.now
    sections = await build(ctx, ctx.conversation.id, end - timedelta(days=7), end)
    if not sections:
        return [TextReply(content=ctx.t(T.nothing))]
    parts: list[Reply] = [
        part.model_copy(update={"to": ToMembers(staff_ids=[ctx.member.staff_id])})
        for part in render(ctx, sections, end - timedelta(days=7), end)
    ]
    if not is_staff_id(ctx.member.staff_id):
        return parts  # no private delivery possible: the outbox says so (bot/outbox.py)
    return [*parts, TextReply(content=ctx.t(T.preview_sent))]


async def _settings(ctx: MessageContext) -> GroupSettings:
    return await ctx.repos.groups.get(ctx.conversation.id, review_default=_review_default(ctx))


def _review_default(ctx: MessageContext) -> bool:
    return ctx.settings.stories.review_default


@router.command("digest now", aliases=["周报 立即"], help=T.help_now, admin=True)
async def now(ctx: MessageContext) -> str:
    """Post now; it counts for the coming period, whose scheduled digest is then not sent."""
    weekday, at = group_slot(ctx, await _settings(ctx))
    upcoming = last_slot(ctx.now, weekday, at, ctx) + timedelta(days=7)
    period = period_key(upcoming)
    shown = f"{day_name(ctx, weekday)} {upcoming.strftime('%m-%d')} {at}"
    if await ctx.repos.digest.run(ctx.conversation.id, period) is not None:
        raise UserError(T.already_posted, next=shown)
    posted = await post_digest(
        ctx, ctx.conversation.id, ctx.now - timedelta(days=7), ctx.now, period, status="manual"
    )
    if not posted:
        # Nothing to say yet: leave the period open for the scheduled digest.
        await ctx.repos.digest.forget_empty(ctx.conversation.id, period)
        raise UserError(T.nothing)
    return ctx.t(T.posted_now, next=shown)


DAY_CHOICES = WEEKDAYS + ZH_WEEKDAYS


@router.command(
    "digest schedule",
    aliases=["周报 时间"],
    help=T.help_schedule,
    admin=True,
    args=[Arg("day", T.day, kind="choice", options=WEEKDAY), Arg("at", T.at, kind="time")],
)
async def schedule(ctx: MessageContext, day: str, at: str) -> Text | str:
    """Set this group's digest slot."""
    try:
        hour, minute = (int(x) for x in at.split(":"))
        if not (0 <= hour < 24 and 0 <= minute < 60) or len(at) != 5:
            raise ValueError(at)
    except ValueError:
        raise UserError(T.bad_time, value=at) from None
    weekday = DAY_CHOICES.index(day) % 7
    await ctx.repos.digest.set_schedule(
        ctx.conversation.id, weekday=weekday, time=at, review_default=_review_default(ctx)
    )
    return ctx.t(T.scheduled, day=day_name(ctx, weekday), at=at)


@router.command("digest off", aliases=["周报 关"], help=T.help_off, admin=True)
async def off(ctx: MessageContext) -> Text:
    """Stop the scheduled digest here."""
    await ctx.repos.digest.set_schedule(
        ctx.conversation.id, enabled=False, review_default=_review_default(ctx)
    )
    return T.off


@router.command("digest on", aliases=["周报 开"], help=T.help_on, admin=True)
async def on(ctx: MessageContext) -> str:
    """Resume the scheduled digest here."""
    settings = await _settings(ctx)
    await ctx.repos.digest.set_schedule(
        ctx.conversation.id, enabled=True, review_default=_review_default(ctx)
    )
    weekday, at = group_slot(ctx, settings)
    return ctx.t(T.on, day=day_name(ctx, weekday), at=at)


@router.command("digest status", aliases=["周报 状态"], help=T.help_status, admin=True)
async def status(ctx: MessageContext) -> str:
    """This group's digest settings: on or off, its day and time, and when it goes out next."""
    settings = await _settings(ctx)
    weekday, at = group_slot(ctx, settings)
    upcoming = last_slot(ctx.now, weekday, at, ctx) + timedelta(days=7)
    if not settings.digest_enabled:
        return ctx.t(T.status_off, day=day_name(ctx, weekday), at=at)
    shown = f"{upcoming.strftime('%Y-%m-%d')} {at}"
    return ctx.t(T.status_on, day=day_name(ctx, weekday), at=at, next=shown)
