"""Scheduled work of the volunteers feature: reminders before an activity starts."""

from __future__ import annotations

from datetime import timedelta

from bot.config import Settings
from bot.context import JobContext
from bot.replies import TextReply, ToGroup, ToMembers
from bot.router import Router
from domain.times import MAX_OFFSET_MINUTES, parse_offsets
from handlers.volunteers.cards import card_updates
from handlers.volunteers.common import local_time, member_names
from handlers.volunteers.texts import T
from storage.models import Event

router = Router("volunteers.jobs", module="volunteers")

REMINDER_CHECK_SECONDS = 60.0


def plan_of(settings: Settings, event: Event) -> list[int]:
    """The activity's reminder offsets in minutes (its own, else the config's default)."""
    if event.reminders == "off":
        return []
    return parse_offsets(event.reminders or settings.volunteers.reminders) or []


@router.job("event-reminders", every=lambda settings: REMINDER_CHECK_SECONDS)
async def reminders(ctx: JobContext) -> None:
    """Before the start, at each offset of the activity's plan (default 24 h and 1 h): one
    group message naming the confirmed members, and one-to-one reminders (in batches of 20)
    to those who have not turned them off. Reminders missed while down: the latest one due
    goes out now, if the activity has not started. A row written before the send makes each
    go out once, even with several processes or a restart."""
    now = ctx.now
    # Sign-ups close at the start, which no member action marks: the cards learn it here.
    for event_id in await ctx.repos.events.claim_started(now):
        started = await ctx.repos.events.by_id(event_id)
        if started is not None:
            for update in await card_updates(ctx, started):
                ctx.reply(update)
    horizon = now + timedelta(minutes=MAX_OFFSET_MINUTES)
    off_in: dict[str, bool] = {}  # per group: the volunteers module turned off there
    for event in await ctx.repos.events.reminding(now, horizon):
        group = event.conversation_id
        if group not in off_in:
            off_in[group] = "volunteers" in await ctx.repos.groups.disabled_modules(group)
        if off_in[group]:
            # Not claimed: turned back on before the start, the latest one due goes out.
            continue
        due = [
            m for m in plan_of(ctx.settings, event) if event.starts_at - timedelta(minutes=m) <= now
        ]
        if not due:
            continue
        fresh = await ctx.repos.events.claim_reminder(event.id, due)
        if min(due) not in fresh:
            continue  # the latest due one went out before; older ones are only marked
        confirmed, _ = await ctx.repos.signups.roster(event.id)
        if not confirmed:
            continue
        when = local_time(ctx, event.starts_at)
        names = "、".join(await member_names(ctx, event, confirmed))
        ctx.reply(
            TextReply(
                content=ctx.t(
                    T.reminder,
                    id=event.id,
                    title=event.title,
                    when=when,
                    place=event.place,
                    names=names,
                ),
                to=ToGroup(conversation_id=event.conversation_id),
            )
        )
        off = await ctx.repos.reminder_optouts.opted_out(
            event.conversation_id, [s.staff_id for s in confirmed]
        )
        direct = [s.staff_id for s in confirmed if s.staff_id not in off]
        if direct:
            ctx.reply(
                TextReply(
                    content=ctx.t(
                        T.reminder_direct,
                        id=event.id,
                        title=event.title,
                        when=when,
                        place=event.place,
                    ),
                    to=ToMembers(staff_ids=direct),
                )
            )
