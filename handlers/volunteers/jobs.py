"""Scheduled work of the volunteers feature: reminders before an activity starts."""

from __future__ import annotations

from datetime import timedelta

from bot.context import JobContext
from bot.replies import TextReply, ToGroup, ToMembers
from bot.router import Router
from handlers.volunteers.common import local_time, member_names
from handlers.volunteers.texts import T

router = Router("volunteers.jobs", module="volunteers")

REMINDER_CHECK_SECONDS = 60.0


@router.job("event-reminders", every=lambda settings: REMINDER_CHECK_SECONDS)
async def reminders(ctx: JobContext) -> None:
    """24 h and 1 h before the start: one group message naming the confirmed members, and
    one-to-one reminders (in batches of 20). Due ones missed while down go out now, if the
    activity has not started; a flag flipped with the send makes each go out once."""
    now = ctx.now
    due = await ctx.repos.events.claim_reminders(now, now + timedelta(hours=1), hour=True)
    due += await ctx.repos.events.claim_reminders(
        now + timedelta(hours=1), now + timedelta(hours=24), hour=False
    )
    for event_id in due:
        event = await ctx.repos.events.by_id(event_id)
        if event is None:
            continue
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
        ctx.reply(
            TextReply(
                content=ctx.t(
                    T.reminder_direct, id=event.id, title=event.title, when=when, place=event.place
                ),
                to=ToMembers(staff_ids=[s.staff_id for s in confirmed]),
            )
        )
