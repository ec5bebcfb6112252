"""Recurring activities (issue 17): ``/活动 新建 … | 每周三``, ``/活动 系列 <编号>`` and
``/活动 取消系列 <编号> [理由]``.

A series creates its occurrences ahead (``volunteers.series_horizon_days``, default 28), each
an activity of its own with its own seats, waitlist, reminders and hours, so history is kept;
the ``event-series`` job extends the horizon day by day and posts each new occurrence's card
in the group. An occurrence is created at most once per date, settled in SQL (the unique
index on series and date), across restarts and processes. One occurrence is cancelled like
any activity (``/活动 取消 <活动编号>``); cancelling the series cancels every occurrence
still ahead and tells each member signed up once, one to one, which of them they lose.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot import safety
from bot.context import BaseContext, JobContext, MessageContext
from bot.errors import UserError
from bot.i18n import Text, number
from bot.lookup import Lookup
from bot.replies import Reply, TextReply, ToGroup, ToMembers
from bot.router import Arg, Router
from domain.recurrence import Rule, parse_rule
from handlers.volunteers.cards import card_updates, event_card
from handlers.volunteers.common import local_time
from handlers.volunteers.series_texts import S
from handlers.volunteers.texts import T
from storage.models import Event, EventSeries

router = Router("volunteers.series", module="volunteers")
# The group's series with the number a member typed, or a refusal (bot.lookup).
SERIES: Lookup[EventSeries] = Lookup(
    lambda repos, group, id: repos.series.get(group, id), S.unknown
)

SERIES_CHECK_SECONDS = 3600.0


def read_rule(ctx: BaseContext, text: str, first: date) -> Rule:
    """The rule an organiser typed, or a ``UserError`` naming the forms."""
    rule = parse_rule(text, first)
    if rule is None:
        raise UserError(S.bad_rule, value=safety.plain(text[:40]))
    return rule


async def extend(ctx: BaseContext, series: EventSeries) -> list[int]:
    """Create the series' occurrences from today to the horizon (the first one always) that
    do not exist yet and have not started; the ids of those this call created."""
    tz = ctx.settings.bot.tz
    today = ctx.now.astimezone(tz).date()
    until = max(
        today + timedelta(days=ctx.settings.volunteers.series_horizon_days), series.first_on
    )
    hour, minute = (int(part) for part in series.local_time.split(":"))
    have = await ctx.repos.series.dates(series.id, today)
    created = []
    for day in Rule.from_code(series.rule).dates(series.first_on, today, until):
        starts_at = datetime.combine(day, time(hour, minute), tzinfo=tz)
        if starts_at <= ctx.now or day in have:
            continue
        # Another process may create the same date between the look and the insert: the
        # unique index settles it, and only the insert that made the row returns an id.
        new = await ctx.repos.series.add_occurrence(series, day, starts_at, ctx.now)
        if new is not None:
            created.append(new)
    return created


async def publish_series(
    ctx: MessageContext,
    *,
    title: str,
    starts: datetime,
    hours: float,
    place: str,
    seats: int,
    repeat: str,
) -> list[Reply]:
    """Create a series from ``/活动 新建``'s fields and the rule; the reply names its
    occurrences, and the first one's sign-up card follows."""
    rule = read_rule(ctx, repeat, starts.date())
    first = rule.first_on_or_after(starts.date())
    if first is None:
        raise UserError(S.bad_rule, value=safety.plain(repeat[:40]))
    series = await ctx.repos.series.create(
        conversation_id=ctx.conversation.id,
        title=title,
        hours=hours,
        place=place,
        seats=seats,
        rule=rule.code,
        local_time=starts.strftime("%H:%M"),
        first_on=first,
        by=ctx.member.staff_id,
        now=ctx.now,
    )
    await extend(ctx, series)
    events = await ctx.repos.series.occurrences(series.id)
    if not events:
        raise UserError(T.past, when=starts.strftime("%Y-%m-%d %H:%M"))
    lines = [
        ctx.t(
            S.created,
            id=series.id,
            title=title,
            rule=rule.describe(ctx.lang),
            at=series.local_time,
            n=len(events),
        ),
        *[ctx.t(S.occurrence, id=e.id, when=local_time(ctx, e.starts_at)) for e in events],
        ctx.t(S.created_hint, id=series.id),
    ]
    return [TextReply(content="\n".join(lines)), await event_card(ctx, events[0])]


@router.command(
    "event series",
    aliases=["活动 系列"],
    help=S.help_series,
    args=[Arg("id", S.series_id, kind="int", low=1)],
)
async def show_series(ctx: MessageContext, id: int) -> str:
    """The series and its occurrences: date, state and seats taken."""
    series = await SERIES.find(ctx, id)
    rule = Rule.from_code(series.rule)
    head = S.header if series.status == "open" else S.header_cancelled
    lines = [
        ctx.t(
            head,
            id=id,
            title=series.title,
            rule=rule.describe(ctx.lang),
            at=series.local_time,
            place=series.place,
            hours=number(series.hours),
            seats=series.seats,
        )
    ]
    for event in await ctx.repos.series.occurrences(series.id):
        taken, waiting = await ctx.repos.signups.counts(event.id)
        lines.append(
            ctx.t(
                S.line,
                id=event.id,
                when=local_time(ctx, event.starts_at),
                state=ctx.t(_state(ctx, event)),
                taken=taken,
                seats=event.seats,
                waiting=ctx.t(T.waiting_note, n=waiting) if waiting else "",
            )
        )
    return "\n".join(lines)


def _state(ctx: BaseContext, event: Event) -> Text:
    if event.status == "cancelled":
        return T.status_cancelled
    if event.status == "done":
        return T.status_done
    return T.status_closed if ctx.now >= event.starts_at else T.status_open


@router.command(
    "event cancel-series",
    aliases=["活动 取消系列"],
    help=S.help_cancel,
    admin=True,
    args=[
        Arg("id", S.series_id, kind="int", low=1),
        Arg("reason", T.reason, kind="rest", optional=True, max_len=300),
    ],
)
async def cancel_series(ctx: MessageContext, id: int, reason: str | None) -> list[Reply]:
    """Stop the series and cancel every occurrence that has not started; each member signed
    up for any of them is told once, one to one, with the occurrences they lose."""
    series = await SERIES.find(ctx, id)
    if series.status != "open":
        raise UserError(S.already_cancelled, id=id)
    await ctx.repos.series.cancel(series, reason or "")
    lost: dict[str, list[str]] = {}
    cancelled: list[Event] = []
    replies: list[Reply] = []
    for occurrence in await ctx.repos.series.occurrences(series.id):
        if occurrence.status != "open" or occurrence.starts_at <= ctx.now:
            continue  # history stays: started, finished or already cancelled
        event = await ctx.repos.events.get(ctx.conversation.id, occurrence.id, lock=True)
        if event is None or event.status != "open":
            continue
        await ctx.repos.events.set_status(event, "cancelled", reason or "")
        cancelled.append(event)
        confirmed, waiting = await ctx.repos.signups.roster(event.id)
        for signup in confirmed + waiting:
            lost.setdefault(signup.staff_id, []).append(
                f"#{event.id} {local_time(ctx, event.starts_at)}"
            )
        replies += await card_updates(ctx, event)
    note = ctx.t(T.reason_note, reason=reason) if reason else ""
    # One notice per member (one call each: the list of occurrences differs per member).
    for staff_id, whens in lost.items():
        replies.append(
            TextReply(
                content=ctx.t(
                    S.cancel_notice,
                    id=id,
                    title=series.title,
                    whens="、".join(whens),
                    reason=note,
                ),
                to=ToMembers(staff_ids=[staff_id]),
            )
        )
    done = ctx.t(S.cancel_done, id=id, n=len(cancelled), people=len(lost))
    return [TextReply(content=done), *replies]


@router.job("event-series", every=lambda settings: SERIES_CHECK_SECONDS)
async def extend_series(ctx: JobContext) -> None:
    """Keep every open series created up to the horizon; each new occurrence's sign-up card
    is posted in its group (once: only the run that created the date posts it)."""
    for series in await ctx.repos.series.open_series():
        off = await ctx.repos.groups.disabled_modules(series.conversation_id)
        if "volunteers" in off:
            continue  # the group turned activities off (/模块): nothing new is posted there
        for event_id in await extend(ctx, series):
            event = await ctx.repos.events.by_id(event_id)
            if event is None:
                continue
            card = await event_card(ctx, event)
            ctx.reply(
                card.model_copy(update={"to": ToGroup(conversation_id=event.conversation_id)})
            )
