"""The volunteers' commands: publishing, signing up, managing, hours."""

from __future__ import annotations

from datetime import datetime

from bot import people, safety
from bot.context import MessageContext
from bot.errors import UserError
from bot.i18n import number
from bot.replies import Reply, TextReply, ToMembers
from bot.router import Arg, Router
from handlers.volunteers.cards import card_updates, event_card, status_of
from handlers.volunteers.common import (
    EVENT,
    change_seats,
    join_members,
    leave_event,
    local_time,
    member_names,
    open_event,
)
from handlers.volunteers.series import publish_series
from handlers.volunteers.series_texts import S
from handlers.volunteers.texts import T

router = Router("volunteers.commands", module="volunteers")


# -- publishing ----------------------------------------------------------------------------


@router.command(
    "event new",
    aliases=["活动 新建"],
    help=T.help_new,
    admin=True,
    style="pipe",
    args=[
        Arg("title", T.title, max_len=40),
        Arg("starts", T.starts, kind="datetime"),
        Arg("hours", T.hours, kind="hours", low=0.5, high=24),
        Arg("place", T.place, max_len=60),
        Arg("seats", T.seats, kind="int", low=1, high=10000),
        Arg("repeat", S.repeat, optional=True, max_len=40),
    ],
)
async def new_event(
    ctx: MessageContext,
    title: str,
    starts: datetime,
    hours: float,
    place: str,
    seats: int,
    repeat: str | None,
) -> list[Reply]:
    """Create an activity (the time is local, in the bot's zone) and post its sign-up card;
    with a repeat (``每周三``), a series of them (``handlers.volunteers.series``)."""
    starts_at = starts.replace(tzinfo=ctx.settings.bot.tz)
    if starts_at <= ctx.now:
        raise UserError(T.past, when=starts.strftime("%Y-%m-%d %H:%M"))
    if repeat:
        return await publish_series(
            ctx, title=title, starts=starts, hours=hours, place=place, seats=seats, repeat=repeat
        )
    event = await ctx.repos.events.create(
        conversation_id=ctx.conversation.id,
        title=title,
        starts_at=starts_at,
        hours=hours,
        place=place,
        seats=seats,
        by=ctx.member.staff_id,
        now=ctx.now,
    )
    return [
        TextReply(content=ctx.t(T.created, id=event.id, title=title)),
        await event_card(ctx, event),
    ]


@router.command(
    "events",
    aliases=["活动"],
    help=T.help_events,
    args=[Arg("id", T.event_id, kind="int", low=1, optional=True)],
)
async def events(ctx: MessageContext, id: int | None) -> str:
    """Upcoming activities with seats left; with an id, that activity in full, and where
    the member stands (signed up, waiting, or how to sign up)."""
    if id is not None:
        return await _event_detail(ctx, id)
    upcoming = await ctx.repos.events.upcoming(ctx.conversation.id, ctx.now)
    if not upcoming:
        return ctx.t(T.no_events)
    lines = [ctx.t(T.events_header)]
    counts = await ctx.repos.signups.counts_many([event.id for event in upcoming])
    for event in upcoming:
        taken, waiting = counts[event.id]
        lines.append(
            ctx.t(
                T.event_line,
                id=event.id,
                title=event.title,
                when=local_time(ctx, event.starts_at),
                place=event.place,
                hours=number(event.hours),
                left=max(event.seats - taken, 0),
                seats=event.seats,
                waiting=ctx.t(T.waiting_note, n=waiting) if waiting else "",
            )
        )
    return "\n".join(lines)


async def _event_detail(ctx: MessageContext, id: int) -> str:
    event = await EVENT.find(ctx, id)
    taken, waiting = await ctx.repos.signups.counts(event.id)
    status, joinable = status_of(event, ctx.now, taken)
    lines = [
        ctx.t(
            T.event_detail,
            id=event.id,
            title=event.title,
            when=local_time(ctx, event.starts_at),
            hours=number(event.hours),
            place=event.place,
            status=ctx.t(status),
            taken=taken,
            seats=event.seats,
            waiting=ctx.t(T.waiting_note, n=waiting) if waiting else "",
        )
    ]
    mine = await ctx.repos.signups.find(event.id, ctx.member.staff_id)
    if mine is not None and mine.status == "confirmed":
        lines.append(ctx.t(T.detail_confirmed, id=event.id))
    elif mine is not None and mine.status == "waitlisted":
        n = await ctx.repos.signups.position(mine)
        lines.append(ctx.t(T.detail_waiting, n=n, id=event.id))
    elif joinable:
        lines.append(ctx.t(T.join_hint, id=event.id))
    return "\n".join(lines)


# -- signing up ------------------------------------------------------------------------------


@router.command(
    "join",
    aliases=["报名"],
    help=T.help_join,
    args=[Arg("id", T.event_id, kind="int", low=1)],
    acts=True,
)
async def join(ctx: MessageContext, id: int) -> list[Reply]:
    """Sign up: confirmed while seats remain, else waitlisted with the position."""
    [(message, _)], event = await join_members([ctx], id)
    return [TextReply(content=message), *await card_updates(ctx, event)]


@router.command(
    "leave",
    aliases=["取消报名"],
    help=T.help_leave,
    args=[Arg("id", T.event_id, kind="int", low=1)],
)
async def leave(ctx: MessageContext, id: int) -> list[Reply]:
    """Withdraw; the first on the waitlist moves up and is told."""
    event = await leave_event(ctx, id)
    return [TextReply(content=ctx.t(T.left, id=id)), *await card_updates(ctx, event)]


# -- managing --------------------------------------------------------------------------------


@router.command(
    "event seats",
    aliases=["活动 名额"],
    help=T.help_seats,
    admin=True,
    args=[
        Arg("id", T.event_id, kind="int", low=1),
        Arg("seats", T.seats, kind="int", low=1, high=10000),
    ],
)
async def seats(ctx: MessageContext, id: int, seats: int) -> list[Reply]:
    """Change capacity; raising it promotes in order, lowering it never evicts."""
    event = await open_event(ctx, id)
    promoted, confirmed = await change_seats(ctx, event, seats)
    lines = [ctx.t(T.seats_changed, id=id, seats=seats)]
    if promoted:
        lines.append(ctx.t(T.seats_promoted, n=len(promoted)))
    if confirmed > seats:
        lines.append(ctx.t(T.seats_no_evict, confirmed=confirmed))
    return [TextReply(content="\n".join(lines)), *await card_updates(ctx, event)]


@router.command(
    "event roster",
    aliases=["活动 名单"],
    help=T.help_roster,
    admin=True,
    args=[Arg("id", T.event_id, kind="int", low=1)],
)
async def roster(ctx: MessageContext, id: int) -> str:
    """The confirmed list and the waitlist, in order."""
    event = await EVENT.find(ctx, id)
    confirmed, waiting = await ctx.repos.signups.roster(event.id)
    lines = [ctx.t(T.roster_header, id=id, title=event.title, n=len(confirmed), seats=event.seats)]
    in_names, wait_names = (
        await member_names(ctx, event, confirmed),
        await member_names(ctx, event, waiting),
    )
    lines += [f"{i}. {n}" for i, n in enumerate(in_names, 1)] or [ctx.t(T.roster_empty)]
    lines.append(ctx.t(T.roster_wait))
    lines += [f"{i}. {n}" for i, n in enumerate(wait_names, 1)] or [ctx.t(T.roster_empty)]
    return "\n".join(lines)


@router.command(
    "event done",
    aliases=["活动 结束"],
    help=T.help_done,
    admin=True,
    args=[
        Arg("id", T.event_id, kind="int", low=1),
        Arg("absent", T.absent, kind="many", optional=True),
    ],
)
async def event_done(ctx: MessageContext, id: int, absent: list[str]) -> list[Reply]:
    """Close an activity that has started and credit its hours to those who came.

    Who came: those who checked in when a check-in code was given out, else everyone
    confirmed. Each word after the id names a member by @-mention or nick (never by an id
    nobody can see): ``+名字`` adds someone, ``-名字`` or a bare name takes someone off.
    """
    event = await open_event(ctx, id)
    if ctx.now < event.starts_at:
        raise UserError(T.not_started, id=id)
    confirmed, _ = await ctx.repos.signups.roster(event.id)
    by_code = bool(event.checkin_code)
    if by_code:
        base = {c.staff_id: c.nick for c in await ctx.repos.checkins.of_event(event.id)}
    else:
        base = {s.staff_id: s.nick for s in confirmed}
    adds = [w.lstrip("+＋") for w in absent if w[:1] in "+＋" and w.lstrip("+＋")]
    drops = [w.lstrip("-－") for w in absent if w[:1] not in "+＋" and w.lstrip("-－")]
    # A name that fits nobody (or several) refuses the whole command rather than crediting
    # the wrong people; those taken off are named among the people credited, those added
    # among the group's members.
    where = ctx.t(T.checked_in_of if by_code else T.roster_of, id=id)
    removed: dict[str, people.Member] = {}
    not_checked: dict[str, people.Member] = {}  # taken off, but they never checked in
    for word in drops:
        try:
            m = await people.member(ctx, word, among=base, where=where)
        except UserError:
            if not by_code:
                raise
            # Confirmed but not checked in: not credited anyway, so taking them off is
            # what the admin wants; any other name is still refused.
            roster = {s.staff_id: s.nick for s in confirmed}
            m = await people.member(ctx, word, among=roster, where=ctx.t(T.roster_of, id=id))
            not_checked[m.staff_id] = m
        else:
            removed[m.staff_id] = m
    directory = await ctx.repos.members.directory(ctx.conversation.id)
    added = {
        m.staff_id: m
        for m in [
            await people.member(ctx, w, among=directory, where=ctx.t(T.group_members)) for w in adds
        ]
    }
    came = [s for s in base if s not in removed] + [s for s in added if s not in base]
    credited = await ctx.repos.hours.credit(event, came, ctx.now)
    await ctx.repos.events.set_status(event, "done")
    parts = [str(id)]
    if removed:
        parts.append(ctx.t(T.audit_absent) + " " + "、".join(people.ref(s) for s in removed))
    if added:
        parts.append(ctx.t(T.audit_added) + " " + "、".join(people.ref(s) for s in added))
    ctx.audit_detail = " ".join(parts)
    lines = [ctx.t(T.done, id=id, n=credited, hours=number(event.hours))]
    if by_code:
        lines.append(ctx.t(T.done_checked, n=len(base)))
    if removed:
        lines.append(ctx.t(T.done_absent, names="、".join(m.name for m in removed.values())))
    if not_checked:
        names = "、".join(m.name for m in not_checked.values())
        lines.append(ctx.t(T.done_not_checked, names=names))
    if added:
        lines.append(ctx.t(T.done_added, names="、".join(m.name for m in added.values())))
    return [TextReply(content="\n".join(lines)), *await card_updates(ctx, event)]


@router.command(
    "event cancel",
    aliases=["活动 取消"],
    help=T.help_cancel,
    admin=True,
    args=[
        Arg("id", T.event_id, kind="int", low=1),
        Arg("reason", T.reason, kind="rest", optional=True, max_len=300),
    ],
)
async def cancel(ctx: MessageContext, id: int, reason: str | None) -> list[Reply]:
    """Cancel; everyone signed up (confirmed and waiting) is told."""
    event = await open_event(ctx, id)
    await ctx.repos.events.set_status(event, "cancelled", reason or "")
    confirmed, waiting = await ctx.repos.signups.roster(event.id)
    everyone = [s.staff_id for s in confirmed + waiting]
    replies: list[Reply] = [TextReply(content=ctx.t(T.cancel_done, id=id, n=len(everyone)))]
    if everyone:
        note = ctx.t(T.reason_note, reason=reason) if reason else ""
        replies.append(
            TextReply(
                content=ctx.t(T.cancel_notice, id=id, title=event.title, reason=note),
                to=ToMembers(staff_ids=everyone, important=True),
            )
        )
    return replies + await card_updates(ctx, event)


@router.command("hours", aliases=["志愿时长"], help=T.help_hours)
async def hours(ctx: MessageContext) -> str:
    """My volunteer hours and activities in this group."""
    records = await ctx.repos.hours.of_member(ctx.conversation.id, ctx.member.staff_id)
    signed, came = await ctx.repos.hours.attendance(ctx.conversation.id, ctx.member.staff_id)
    # Attendance: of the finished activities the member was confirmed for, the share they
    # were credited for (checked in, or kept on the list by the organiser).
    rate = (
        [ctx.t(T.attendance, rate=round(100 * came / signed), came=came, signed=signed)]
        if signed
        else []
    )
    if not records:
        return "\n".join([ctx.t(T.my_hours_none), *rate])
    total = sum(r.hours for r in records)
    lines = [ctx.t(T.my_hours, total=number(total), n=len(records)), *rate]
    for r in records[:20]:
        day = r.at.astimezone(ctx.settings.bot.tz).strftime("%Y-%m-%d")
        lines.append(
            ctx.t(
                T.hours_line,
                id=r.event_id,
                title=safety.plain(r.title),
                hours=number(r.hours),
                day=day,
            )
        )
    return "\n".join(lines)
