"""What the volunteers' commands, clicks, jobs and privacy share: finding an activity,
showing times and names, signing up and withdrawing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot import people
from bot.context import BaseContext, Context
from bot.errors import UserError
from bot.replies import TextReply, ToMembers
from handlers.volunteers.texts import T
from storage.models import Event, Signup


def local_time(ctx: BaseContext, at: datetime) -> str:
    return at.astimezone(ctx.settings.bot.tz).strftime("%Y-%m-%d %H:%M")


async def find_event(ctx: Context, event_id: int, *, lock: bool = False) -> Event:
    event = await ctx.repos.events.get(ctx.conversation.id, event_id, lock=lock)
    if event is None:
        raise UserError(T.unknown, id=event_id)
    return event


async def open_event(ctx: Context, event_id: int) -> Event:
    event = await find_event(ctx, event_id, lock=True)
    if event.status == "cancelled":
        raise UserError(T.cancelled, id=event_id)
    if event.status == "done":
        raise UserError(T.finished, id=event_id)
    return event


def tell_promoted(ctx: Context, event: Event, promoted: list[Signup]) -> None:
    if promoted:
        ctx.reply(
            TextReply(
                content=ctx.t(
                    T.promoted,
                    id=event.id,
                    title=event.title,
                    when=local_time(ctx, event.starts_at),
                    place=event.place,
                ),
                to=ToMembers(staff_ids=[s.staff_id for s in promoted], important=True),
            )
        )


async def member_names(ctx: BaseContext, event: Event, signups: list[Signup]) -> list[str]:
    """The members' names in order: the nick last seen, else the one they signed up with."""
    shown = await people.names(
        ctx,
        event.conversation_id,
        [s.staff_id for s in signups],
        {s.staff_id: s.nick for s in signups},
    )
    return [shown[s.staff_id] for s in signups]


async def join_members(
    ctxs: Sequence[Context], event_id: int
) -> tuple[list[tuple[str, str]], Event]:
    """Sign up each context's member once, in order: (message, own state) each, and the
    activity. A closed or unknown activity refuses them all."""
    ctx = ctxs[0]
    event = await open_event(ctx, event_id)
    if ctx.now >= event.starts_at:
        raise UserError(T.closed, id=event_id)
    members = [(c.member.staff_id, c.member.nick) for c in ctxs if c.member is not None]
    assert len(members) == len(ctxs)
    placements = await ctx.repos.signups.join_many(event, members, ctx.now)
    out = []
    for c, placement in zip(ctxs, placements, strict=True):
        pos = placement.position
        state = c.t(T.state_wait, pos=pos) if pos else c.t(T.state_in)
        if placement.new:
            message = (
                c.t(T.waitlisted, id=event.id, pos=pos)
                if pos
                else c.t(T.joined, id=event.id, title=event.title)
            )
        else:
            message = (
                c.t(T.already_waiting, id=event.id, pos=pos)
                if pos
                else c.t(T.already_in, id=event.id)
            )
        out.append((message, state))
    return out, event


async def leave_event(ctx: Context, event_id: int) -> Event:
    event = await open_event(ctx, event_id)
    removed = await ctx.repos.signups.leave(event, ctx.member.staff_id)
    if removed is None:
        raise UserError(T.not_signed, id=event_id)
    tell_promoted(ctx, event, await ctx.repos.signups.promote(event))
    return event


async def change_seats(ctx: Context, event: Event, seats: int) -> tuple[list[Signup], int]:
    """Set the capacity (the caller holds the lock): raising it promotes in order and tells
    those promoted; lowering it never evicts. (promoted, confirmed now)."""
    await ctx.repos.events.set_seats(event, seats)
    promoted = await ctx.repos.signups.promote(event)
    tell_promoted(ctx, event, promoted)
    confirmed, _ = await ctx.repos.signups.counts(event.id)
    return promoted, confirmed
