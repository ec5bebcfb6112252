"""Editing an activity (issue 17): ``/活动 修改 <id> 时间|地点|标题|时长|名额 <新值>``.

The change is made under the activity's lock, every card of it is updated, its reminders
are planned again from the new start, and everyone confirmed or waiting is told one to one
what changed (old → new). A started, cancelled or finished activity is refused with the reason.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot import safety
from bot.context import Context, MessageContext
from bot.errors import UserError
from bot.forms import choices_from
from bot.i18n import Text, number
from bot.replies import Reply, TextReply, ToMembers
from bot.router import Arg, Router
from domain.times import normalise, parse_local, parse_time
from handlers.volunteers.cards import card_updates
from handlers.volunteers.common import change_seats, find_event, local_time
from handlers.volunteers.jobs import plan_of
from handlers.volunteers.texts import T
from storage.models import Event

router = Router("volunteers.edit", module="volunteers")

# What people type for each field, Chinese first; folded with ``domain.times.normalise``.
FIELDS = {
    "时间": "time",
    "开始时间": "time",
    "日期": "time",
    "time": "time",
    "start": "time",
    "地点": "place",
    "地址": "place",
    "place": "place",
    "标题": "title",
    "名称": "title",
    "title": "title",
    "时长": "hours",
    "小时": "hours",
    "hours": "hours",
    "名额": "seats",
    "人数": "seats",
    "seats": "seats",
}
LABELS: dict[str, Text] = {
    "time": T.field_time,
    "place": T.field_place,
    "title": T.field_title,
    "hours": T.field_hours,
    "seats": T.field_seats,
}
TITLE_MAX, PLACE_MAX = 40, 60
_HOURS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:个?小时|h|hours?|hrs?)?")
_SEATS = re.compile(r"(\d+)\s*(?:人|个|名|位|seats?)?")


async def _editable(ctx: Context, event_id: int) -> Event:
    event = await find_event(ctx, event_id, lock=True)
    if event.status == "cancelled":
        raise UserError(T.edit_cancelled, id=event_id)
    if event.status == "done":
        raise UserError(T.edit_finished, id=event_id)
    if ctx.now >= event.starts_at:
        raise UserError(T.edit_started, id=event_id)
    return event


@router.command(
    "event edit",
    aliases=["活动 修改", "活动 编辑"],
    help=T.help_edit,
    admin=True,
    args=[
        Arg("id", T.event_id, kind="int", low=1),
        Arg("field", T.field, kind="choice", options=choices_from(FIELDS)),
        Arg("value", T.new_value, kind="rest", max_len=200),
    ],
)
async def edit(ctx: MessageContext, id: int, field: str, value: str) -> list[Reply]:
    """Change one field of an activity that has not started, and tell everyone signed up."""
    event = await _editable(ctx, id)  # an unknown id first: another group's is unknown
    key = FIELDS.get(normalise(field))
    if key is None:
        raise UserError(T.edit_bad_field, field=safety.plain(field[:20]))
    label = ctx.t(LABELS[key])
    raw = normalise(value)
    replies: list[Reply] = []
    if key == "time":
        local = event.starts_at.astimezone(ctx.settings.bot.tz)
        today = ctx.now.astimezone(ctx.settings.bot.tz).date()
        naive = parse_local(value, today)
        if naive is None:
            # A bare time keeps the day: "/活动 修改 3 时间 20:00".
            moment = parse_time(value)
            if moment is None:
                raise UserError(T.bad_when, value=safety.plain(value[:40]))
            naive = datetime.combine(local.date(), moment)
        starts_at = naive.replace(tzinfo=ctx.settings.bot.tz)
        if starts_at <= ctx.now:
            raise UserError(T.past, when=naive.strftime("%Y-%m-%d %H:%M"))
        old, new = local_time(ctx, event.starts_at), local_time(ctx, starts_at)
        if starts_at == event.starts_at:
            raise UserError(T.edit_same, id=id, field=label, value=old)
        await ctx.repos.events.edit(event, starts_at=starts_at)
        await ctx.repos.events.replan_reminders(event, plan_of(ctx.settings, event), ctx.now)
    elif key in ("place", "title"):
        text = " ".join(value.split())
        limit = TITLE_MAX if key == "title" else PLACE_MAX
        if not text or len(text) > limit:
            raise UserError(T.bad_text, field=label, limit=limit)
        old, new = getattr(event, key), text
        if old == new:
            raise UserError(T.edit_same, id=id, field=label, value=old)
        await ctx.repos.events.edit(event, **{key: text})
    elif key == "hours":
        hit = _HOURS.fullmatch(raw)
        hours = float(hit.group(1)) if hit else 0.0
        if not 0.5 <= hours <= 24:
            raise UserError(T.bad_hours, value=safety.plain(value[:20]))
        old = ctx.t(T.hours_value, hours=number(event.hours))
        new = ctx.t(T.hours_value, hours=number(hours))
        if hours == event.hours:
            raise UserError(T.edit_same, id=id, field=label, value=old)
        await ctx.repos.events.edit(event, hours=hours)
    else:
        hit = _SEATS.fullmatch(raw)
        seats = int(hit.group(1)) if hit else 0
        if not 1 <= seats <= 10000:
            raise UserError(T.bad_seats, value=safety.plain(value[:20]))
        old, new = str(event.seats), str(seats)
        if seats == event.seats:
            raise UserError(T.edit_same, id=id, field=label, value=old)
        promoted, confirmed = await change_seats(ctx, event, seats)
        if promoted:
            replies.append(TextReply(content=ctx.t(T.seats_promoted, n=len(promoted))))
        if confirmed > seats:
            replies.append(TextReply(content=ctx.t(T.seats_no_evict, confirmed=confirmed)))
    confirmed_list, waiting = await ctx.repos.signups.roster(event.id)
    everyone = [s.staff_id for s in confirmed_list + waiting]
    if everyone:
        replies.append(
            TextReply(
                content=ctx.t(
                    T.edit_notice,
                    id=id,
                    title=event.title,
                    field=label,
                    old=old,
                    new=new,
                    when=local_time(ctx, event.starts_at),
                    place=event.place,
                    hours=number(event.hours),
                ),
                to=ToMembers(staff_ids=everyone, important=True),
            )
        )
    ctx.audit_detail = f"{id} {label} {old} → {new}"
    return [
        TextReply(content=ctx.t(T.edited, id=id, field=label, old=old, new=new, n=len(everyone))),
        *replies,
        *await card_updates(ctx, event),
    ]
