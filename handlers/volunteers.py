"""Volunteer activities ("公益志愿者平台"): sign-ups, the waitlist, reminders and hours."""

from __future__ import annotations

from collections.abc import Sequence, Set
from datetime import datetime, timedelta

from bot import people, safety
from bot.context import Context
from bot.errors import UserError
from bot.i18n import Text, number
from bot.replies import (
    CardButton,
    CardReply,
    CardResponse,
    CardUpdate,
    Reply,
    TextReply,
    ToGroup,
    ToMembers,
)
from bot.router import Arg, PrivacySection, Router
from storage.models import Event, Signup

router = Router("volunteers", module="volunteers")

REMINDER_CHECK_SECONDS = 60.0


class T:
    """Every text of the volunteers feature."""

    title = Text("标题", "title")
    starts = Text("开始时间", "start time")
    hours = Text("时长（小时）", "hours")
    place = Text("地点", "place")
    seats = Text("名额", "seats")
    event_id = Text("活动编号", "activity id")
    absent = Text("缺席成员（@成员或昵称）", "absent members (@member or nick)")
    reason = Text("理由", "reason")
    help_new = Text("发布志愿活动", "publish a volunteer activity")
    help_events = Text("即将开始的活动和剩余名额", "upcoming activities with seats left")
    help_join = Text("报名活动（满员则候补）", "sign up (the waitlist when full)")
    help_leave = Text("取消报名", "withdraw")
    help_seats = Text("修改名额（增加会从候补中递补）", "change capacity (raising it promotes)")
    help_roster = Text("报名名单和候补名单", "confirmed list and waitlist")
    help_done = Text("结束活动并记录志愿时长", "close an activity and credit hours")
    help_cancel = Text("取消活动并通知报名者", "cancel an activity and tell everyone")
    help_hours = Text("我的志愿时长", "my volunteer hours")

    past = Text(
        "开始时间 {when} 已经过去了，请填写将来的时间（YYYY-MM-DD HH:MM）。",
        "The start time {when} is in the past; give a future time (YYYY-MM-DD HH:MM).",
    )
    created = Text("已发布活动 #{id}「{title}」。", "Published activity #{id} '{title}'.")
    unknown = Text("本群没有编号为 {id} 的活动。", "There is no activity #{id} in this group.")
    cancelled = Text("活动 #{id} 已取消。", "Activity #{id} was cancelled.")
    finished = Text("活动 #{id} 已结束。", "Activity #{id} is over.")
    closed = Text(
        "活动 #{id} 已经开始，报名已截止。", "Activity #{id} has started; sign-ups are closed."
    )
    joined = Text("报名成功：活动 #{id}「{title}」。", "You're in: activity #{id} '{title}'.")
    waitlisted = Text(
        "活动 #{id} 已满，你在候补第 {pos} 位，有人退出时会自动递补并通知你。",
        "Activity #{id} is full; you are number {pos} on the waitlist and will be told if a seat frees up.",
    )
    already_in = Text("你已经报名了活动 #{id}。", "You are already signed up for activity #{id}.")
    already_waiting = Text(
        "你已在活动 #{id} 的候补第 {pos} 位。",
        "You are already number {pos} on the waitlist of #{id}.",
    )
    left = Text("已取消报名活动 #{id}。", "You withdrew from activity #{id}.")
    not_signed = Text("你没有报名活动 #{id}。", "You are not signed up for activity #{id}.")
    promoted = Text(
        "好消息：活动 #{id}「{title}」有空位了，你已从候补转为正式报名。时间 {when}，地点 {place}。",
        "Good news: a seat opened on activity #{id} '{title}' and you are now confirmed. {when}, {place}.",
    )
    state_in = Text("已报名", "Signed up")
    state_wait = Text("候补第 {pos} 位", "Waitlist #{pos}")
    no_events = Text("暂时没有即将开始的活动。", "No upcoming activities.")
    events_header = Text("即将开始的活动：", "Upcoming activities:")
    event_line = Text(
        "#{id}「{title}」{when} @ {place}，{hours} 小时，剩余名额 {left}/{seats}{waiting}",
        "#{id} '{title}' {when} at {place}, {hours} h, {left} of {seats} seats left{waiting}",
    )
    waiting_note = Text("，候补 {n} 人", ", {n} waiting")
    seats_changed = Text("活动 #{id} 名额改为 {seats}。", "Activity #{id} now has {seats} seats.")
    seats_promoted = Text("已从候补递补 {n} 人。", "{n} promoted from the waitlist.")
    seats_no_evict = Text(
        "已报名的 {confirmed} 人不会被移除（名额低于已报名人数时，只是不再接受新的正式报名）。",
        "The {confirmed} members already confirmed stay; no new confirmations until there is room.",
    )
    roster_header = Text(
        "活动 #{id}「{title}」报名 {n}/{seats}：", "Activity #{id} '{title}', {n} of {seats}:"
    )
    roster_wait = Text("候补：", "Waitlist:")
    roster_empty = Text("（无）", "(none)")
    done = Text(
        "活动 #{id} 已结束：{n} 人获得 {hours} 小时志愿时长。",
        "Activity #{id} closed: {n} members credited {hours} h each.",
    )
    done_absent = Text("缺席（不计时长）：{names}", "Absent (no hours): {names}")
    roster_of = Text("活动 #{id} 的正式报名名单", "the confirmed list of activity #{id}")
    audit_absent = Text("缺席", "absent")
    not_started = Text(
        "活动 #{id} 还没开始，开始后才能结束。", "Activity #{id} has not started yet."
    )
    cancel_done = Text(
        "已取消活动 #{id}，已通知 {n} 位报名者。", "Cancelled activity #{id}; told {n} members."
    )
    cancel_notice = Text(
        "活动 #{id}「{title}」已取消。{reason}", "Activity #{id} '{title}' was cancelled. {reason}"
    )
    reason_note = Text("理由：{reason}", "Reason: {reason}")
    reminder = Text(
        "提醒：活动 #{id}「{title}」将于 {when} 在 {place} 开始。已报名：{names}",
        "Reminder: activity #{id} '{title}' starts {when} at {place}. Signed up: {names}",
    )
    reminder_direct = Text(
        "提醒：你报名的活动 #{id}「{title}」将于 {when} 在 {place} 开始。",
        "Reminder: your activity #{id} '{title}' starts {when} at {place}.",
    )
    my_hours = Text(
        "你在本群的志愿时长：共 {total} 小时（{n} 次活动）",
        "Your volunteer hours here: {total} h ({n} activities)",
    )
    my_hours_none = Text(
        "你在本群还没有志愿时长。用 /活动 看看有什么活动吧！",
        "No volunteer hours here yet. See /events!",
    )
    signups_title = Text("活动报名", "sign-ups")
    hours_title = Text("志愿时长记录", "volunteer hours")
    join_hint = Text("发送 /报名 {id} 报名", "Send /join {id} to sign up")


def _when(ctx: Context, at: datetime) -> str:
    return at.astimezone(ctx.settings.bot.tz).strftime("%Y-%m-%d %H:%M")


async def _event(ctx: Context, event_id: int, *, lock: bool = False) -> Event:
    assert ctx.conversation is not None
    event = await ctx.repos.events.get(ctx.conversation.id, event_id, lock=lock)
    if event is None:
        raise UserError(T.unknown, id=event_id)
    return event


async def _open_event(ctx: Context, event_id: int) -> Event:
    event = await _event(ctx, event_id, lock=True)
    if event.status == "cancelled":
        raise UserError(T.cancelled, id=event_id)
    if event.status == "done":
        raise UserError(T.finished, id=event_id)
    return event


def _card_data(ctx: Context, event: Event, taken: int, waiting: int) -> dict[str, str]:
    return {
        "title": safety.plain(event.title),
        "starts": _when(ctx, event.starts_at),
        "place": safety.plain(event.place),
        "hours": number(event.hours),
        "seats": str(event.seats),
        "taken": str(taken),
        "waitlist": str(waiting),
    }


async def event_card(ctx: Context, event: Event) -> CardReply:
    """The sign-up card: seats taken / total and the waitlist length, with join / leave."""
    taken, waiting = await ctx.repos.signups.counts(event.id)
    data = _card_data(ctx, event, taken, waiting)
    return CardReply(
        kind="event",
        entity_id=str(event.id),
        template_id=ctx.settings.cards.event_template,
        title=data["title"][:60],
        data=data,
        buttons=[
            CardButton(label="报名 / Join", action="join", id=str(event.id)),
            CardButton(label="取消报名 / Leave", action="leave", id=str(event.id)),
        ],
        fallback_markdown=(
            f"#### #{event.id} {safety.md(event.title)}\n\n{data['starts']} @ {safety.md(event.place)}  \n"
            f"{data['hours']} h · {taken}/{event.seats} · {waiting}  \n{ctx.t(T.join_hint, id=event.id)}"
        ),
    )


async def _card_updates(
    ctx: Context, event: Event, skip: Set[str] = frozenset(), counts: tuple[int, int] | None = None
) -> list[Reply]:
    taken, waiting = counts or await ctx.repos.signups.counts(event.id)
    data = _card_data(ctx, event, taken, waiting)
    return [
        CardUpdate(out_track_id=track, data=data)
        for track in await ctx.repos.cards.track_ids("event", str(event.id))
        if track not in skip
    ]


def _tell_promoted(ctx: Context, event: Event, promoted: list[Signup]) -> None:
    if promoted:
        ctx.reply(
            TextReply(
                content=ctx.t(
                    T.promoted,
                    id=event.id,
                    title=event.title,
                    when=_when(ctx, event.starts_at),
                    place=event.place,
                ),
                to=ToMembers(staff_ids=[s.staff_id for s in promoted]),
            )
        )


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
        Arg("hours", T.hours, kind="float", low=0.5, high=24),
        Arg("place", T.place, max_len=60),
        Arg("seats", T.seats, kind="int", low=1, high=10000),
    ],
)
async def new_event(
    ctx: Context, title: str, starts: datetime, hours: float, place: str, seats: int
) -> list[Reply]:
    """Create an activity (the time is local, in the bot's zone) and post its sign-up card."""
    assert ctx.conversation is not None and ctx.member is not None
    starts_at = starts.replace(tzinfo=ctx.settings.bot.tz)
    if starts_at <= ctx.now:
        raise UserError(T.past, when=starts.strftime("%Y-%m-%d %H:%M"))
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


@router.command("events", aliases=["活动"], help=T.help_events)
async def events(ctx: Context) -> str:
    """Upcoming activities with seats left."""
    assert ctx.conversation is not None
    upcoming = await ctx.repos.events.upcoming(ctx.conversation.id, ctx.now)
    if not upcoming:
        return ctx.t(T.no_events)
    lines = [ctx.t(T.events_header)]
    for event in upcoming:
        taken, waiting = await ctx.repos.signups.counts(event.id)
        lines.append(
            ctx.t(
                T.event_line,
                id=event.id,
                title=event.title,
                when=_when(ctx, event.starts_at),
                place=event.place,
                hours=number(event.hours),
                left=max(event.seats - taken, 0),
                seats=event.seats,
                waiting=ctx.t(T.waiting_note, n=waiting) if waiting else "",
            )
        )
    return "\n".join(lines)


# -- signing up ------------------------------------------------------------------------------


async def _join(ctxs: Sequence[Context], event_id: int) -> tuple[list[tuple[str, str]], Event]:
    """Sign up each context's member once, in order: (message, own state) each, and the
    activity. A closed or unknown activity refuses them all."""
    ctx = ctxs[0]
    event = await _open_event(ctx, event_id)
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


async def _leave(ctx: Context, event_id: int) -> Event:
    assert ctx.member is not None
    event = await _open_event(ctx, event_id)
    removed = await ctx.repos.signups.leave(event, ctx.member.staff_id)
    if removed is None:
        raise UserError(T.not_signed, id=event_id)
    _tell_promoted(ctx, event, await ctx.repos.signups.promote(event))
    return event


@router.command(
    "join",
    aliases=["报名"],
    help=T.help_join,
    args=[Arg("id", T.event_id, kind="int", low=1)],
    acts=True,
)
async def join(ctx: Context, id: int) -> list[Reply]:
    """Sign up: confirmed while seats remain, else waitlisted with the position."""
    [(message, _)], event = await _join([ctx], id)
    return [TextReply(content=message), *await _card_updates(ctx, event)]


@router.command(
    "leave",
    aliases=["取消报名"],
    help=T.help_leave,
    args=[Arg("id", T.event_id, kind="int", low=1)],
)
async def leave(ctx: Context, id: int) -> list[Reply]:
    """Withdraw; the first on the waitlist moves up and is told."""
    event = await _leave(ctx, id)
    return [TextReply(content=ctx.t(T.left, id=id)), *await _card_updates(ctx, event)]


async def _click_answers(
    ctxs: Sequence[Context], event: Event, outcomes: list[tuple[str, str]]
) -> list[CardResponse]:
    """Answers to clicks on an activity's card, one per (message, own state): each carries
    the counts after all of them. The acks update the clicked cards; the activity's other
    cards are updated once, by the last click's context."""
    taken, waiting = await ctxs[0].repos.signups.counts(event.id)
    clicked = {c.click.out_track_id for c in ctxs if c.click is not None}
    for update in await _card_updates(ctxs[-1], event, skip=clicked, counts=(taken, waiting)):
        ctxs[-1].reply(update)
    return [
        CardResponse(
            card_data={"taken": str(taken), "waitlist": str(waiting), "seats": str(event.seats)},
            private_data={"state": state, "message": message},
        )
        for message, state in outcomes
    ]


@router.batch_action("join", acts=True)
async def join_clicks(ctxs: Sequence[Context]) -> list[CardResponse | UserError]:
    """The join button, for every click that arrived together: signed up in arrival order,
    each answered at once with the counts and the clicker's own state."""
    answers: list[CardResponse | UserError | None] = [None] * len(ctxs)
    by_event: dict[int, list[int]] = {}
    for index, ctx in enumerate(ctxs):
        try:
            by_event.setdefault(ctx.click_id(T.unknown), []).append(index)
        except UserError as exc:
            answers[index] = exc
    for event_id, indexes in by_event.items():
        group = [ctxs[i] for i in indexes]
        try:
            outcomes, event = await _join(group, event_id)
        except UserError as exc:
            for i in indexes:
                answers[i] = exc
            continue
        for i, answer in zip(indexes, await _click_answers(group, event, outcomes), strict=True):
            answers[i] = answer
    return [answer for answer in answers if answer is not None]


@router.action("leave")
async def leave_click(ctx: Context) -> CardResponse:
    """The leave button."""
    event_id = ctx.click_id(T.unknown)
    event = await _leave(ctx, event_id)
    [answer] = await _click_answers([ctx], event, [(ctx.t(T.left, id=event_id), "")])
    return answer


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
async def seats(ctx: Context, id: int, seats: int) -> list[Reply]:
    """Change capacity; raising it promotes in order, lowering it never evicts."""
    event = await _open_event(ctx, id)
    await ctx.repos.events.set_seats(event, seats)
    promoted = await ctx.repos.signups.promote(event)
    _tell_promoted(ctx, event, promoted)
    confirmed, _ = await ctx.repos.signups.counts(event.id)
    lines = [ctx.t(T.seats_changed, id=id, seats=seats)]
    if promoted:
        lines.append(ctx.t(T.seats_promoted, n=len(promoted)))
    if confirmed > seats:
        lines.append(ctx.t(T.seats_no_evict, confirmed=confirmed))
    return [TextReply(content="\n".join(lines)), *await _card_updates(ctx, event)]


async def _names(ctx: Context, event: Event, signups: list[Signup]) -> list[str]:
    """The members' names in order: the nick last seen, else the one they signed up with."""
    shown = await people.names(
        ctx,
        event.conversation_id,
        [s.staff_id for s in signups],
        {s.staff_id: s.nick for s in signups},
    )
    return [shown[s.staff_id] for s in signups]


@router.command(
    "event roster",
    aliases=["活动 名单"],
    help=T.help_roster,
    admin=True,
    args=[Arg("id", T.event_id, kind="int", low=1)],
)
async def roster(ctx: Context, id: int) -> str:
    """The confirmed list and the waitlist, in order."""
    event = await _event(ctx, id)
    confirmed, waiting = await ctx.repos.signups.roster(event.id)
    lines = [ctx.t(T.roster_header, id=id, title=event.title, n=len(confirmed), seats=event.seats)]
    in_names, wait_names = await _names(ctx, event, confirmed), await _names(ctx, event, waiting)
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
async def event_done(ctx: Context, id: int, absent: list[str]) -> str:
    """Close an activity that has started and credit its hours to those who came."""
    event = await _open_event(ctx, id)
    if ctx.now < event.starts_at:
        raise UserError(T.not_started, id=id)
    confirmed, _ = await ctx.repos.signups.roster(event.id)
    # Absentees are named by @-mention or nick, among those confirmed; a name that fits
    # nobody (or several) refuses the whole command rather than crediting everyone.
    missing = await people.members(
        ctx,
        absent,
        among={s.staff_id: s.nick for s in confirmed},
        where=ctx.t(T.roster_of, id=id),
    )
    gone = {m.staff_id for m in missing}
    came = [s.staff_id for s in confirmed if s.staff_id not in gone]
    credited = await ctx.repos.hours.credit(event, came, ctx.now)
    await ctx.repos.events.set_status(event, "done")
    ctx.audit_detail = f"{id}" + (
        f" {ctx.t(T.audit_absent)} " + "、".join(people.ref(m.staff_id) for m in missing)
        if missing
        else ""
    )
    lines = [ctx.t(T.done, id=id, n=credited, hours=number(event.hours))]
    if missing:
        lines.append(ctx.t(T.done_absent, names="、".join(m.name for m in missing)))
    return "\n".join(lines)


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
async def cancel(ctx: Context, id: int, reason: str | None) -> list[Reply]:
    """Cancel; everyone signed up (confirmed and waiting) is told."""
    event = await _open_event(ctx, id)
    await ctx.repos.events.set_status(event, "cancelled", reason or "")
    confirmed, waiting = await ctx.repos.signups.roster(event.id)
    everyone = [s.staff_id for s in confirmed + waiting]
    replies: list[Reply] = [TextReply(content=ctx.t(T.cancel_done, id=id, n=len(everyone)))]
    if everyone:
        note = ctx.t(T.reason_note, reason=reason) if reason else ""
        replies.append(
            TextReply(
                content=ctx.t(T.cancel_notice, id=id, title=event.title, reason=note),
                to=ToMembers(staff_ids=everyone),
            )
        )
    return replies + await _card_updates(ctx, event)


@router.command("hours", aliases=["志愿时长"], help=T.help_hours)
async def hours(ctx: Context) -> str:
    """My volunteer hours and activities in this group."""
    assert ctx.conversation is not None and ctx.member is not None
    records = await ctx.repos.hours.of_member(ctx.conversation.id, ctx.member.staff_id)
    if not records:
        return ctx.t(T.my_hours_none)
    total = sum(r.hours for r in records)
    lines = [ctx.t(T.my_hours, total=number(total), n=len(records))]
    for r in records[:20]:
        day = r.at.astimezone(ctx.settings.bot.tz).strftime("%Y-%m-%d")
        lines.append(f"- #{r.event_id} {safety.plain(r.title)}：{number(r.hours)} h，{day}")
    return "\n".join(lines)


# -- reminders -------------------------------------------------------------------------------


@router.job("event-reminders", every=lambda settings: REMINDER_CHECK_SECONDS)
async def reminders(ctx: Context) -> None:
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
        when = _when(ctx, event.starts_at)
        names = "、".join(await _names(ctx, event, confirmed))
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


# -- privacy ---------------------------------------------------------------------------------


async def _my_signups(ctx: Context, conversation_id: str, staff_id: str) -> tuple[int, list[str]]:
    signups = await ctx.repos.signups.of_member(conversation_id, staff_id)
    items = []
    for s in signups[:3]:
        pos = await ctx.repos.signups.position(s)
        items.append(
            f"#{s.event_id} " + (ctx.t(T.state_wait, pos=pos) if pos else ctx.t(T.state_in))
        )
    return len(signups), items


async def _erase_signups(ctx: Context, conversation_id: str, staff_id: str) -> int:
    """Withdraw every sign-up; freed seats go to the waitlist, who are told."""
    erased = 0
    for signup in await ctx.repos.signups.of_member(conversation_id, staff_id):
        event = await ctx.repos.events.get(conversation_id, signup.event_id, lock=True)
        if event is None:
            continue
        if await ctx.repos.signups.leave(event, staff_id) is not None:
            erased += 1
            if event.status == "open":
                _tell_promoted(ctx, event, await ctx.repos.signups.promote(event))
                for update in await _card_updates(ctx, event):
                    ctx.reply(update)
    return erased


async def _my_hours(ctx: Context, conversation_id: str, staff_id: str) -> tuple[int, list[str]]:
    records = await ctx.repos.hours.of_member(conversation_id, staff_id)
    return len(records), [f"#{r.event_id} {number(r.hours)} h" for r in records[:3]]


async def _erase_hours(ctx: Context, conversation_id: str, staff_id: str) -> int:
    return await ctx.repos.hours.erase(conversation_id, staff_id)


router.privacy_section(
    PrivacySection("signups", T.signups_title, _my_signups, _erase_signups, order=40)
)
router.privacy_section(PrivacySection("hours", T.hours_title, _my_hours, _erase_hours, order=45))
