"""Spreadsheets for organisers (issue 17): ``/导出 时长 [起始日期 结束日期]``,
``/导出 名单 <活动编号>``, ``/导出 时间币`` (``/export hours|roster|credits``), admins only.

Each is an .xlsx with one header row, names not ids, local times and a totals row, sent to
the admin one to one as a file message (``FileReply``: the sender uploads it as media of
type file, then sends the robot's ``sampleFile``). The rows are read here, a page at a
time with a turn of the loop between pages; they are sorted, shaped and written in a
worker thread, so a large export never holds the event loop. In the sandbox the file is saved under the data folder.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import NamedTuple

from bot import people
from bot.context import MessageContext
from bot.errors import UserError
from bot.openapi import MEDIA_MAX_BYTES
from bot.replies import FileReply, Reply, TextReply, ToMembers
from bot.router import Arg, Router
from domain.times import parse_date
from domain.workbook import Sheet, Value, build
from handlers.volunteers.common import EVENT
from handlers.volunteers.export_texts import X
from handlers.volunteers.texts import T
from storage.volunteers import HoursRow

router = Router("volunteers.exports", module="volunteers")


def _local(ctx: MessageContext, at: datetime | None) -> datetime | None:
    """A naive local time for a cell (spreadsheets have no time zones)."""
    return _naive(at, ctx.settings.bot.tz)


def _read_date(ctx: MessageContext, text: str) -> date:
    day = parse_date(text, ctx.now.astimezone(ctx.settings.bot.tz).date())
    if day is None:
        raise UserError(X.bad_date, value=text[:40])
    return day


class Encoded(NamedTuple):
    """A workbook as the file reply carries it (base64), and its size in bytes."""

    size: int
    base64: str


def _encoded(sheets: list[Sheet]) -> Encoded:
    """The workbook of ``sheets``, encoded (in a worker thread: a large one is a few
    milliseconds of base64 that the loop need not spend)."""
    data = build(sheets)
    return Encoded(len(data), base64.b64encode(data).decode("ascii"))


def _send(ctx: MessageContext, file_name: str, book: Encoded, rows: int) -> list[Reply]:
    """The workbook to the admin one to one, and a line saying so where they asked."""
    if book.size > MEDIA_MAX_BYTES:
        raise UserError(X.too_big, mb=round(book.size / 1024 / 1024, 1))
    return [
        TextReply(content=ctx.t(X.sent, file=file_name, rows=rows)),
        FileReply(
            file_name=file_name,
            file_type="xlsx",
            data_base64=book.base64,
            to=ToMembers(staff_ids=[ctx.member.staff_id]),
        ),
    ]


PAGE = 500  # hours records read per query (a few ms of the loop each, on SQLite)


@router.command(
    "export hours",
    aliases=["导出 时长"],
    help=X.help_hours,
    admin=True,
    args=[Arg("since", X.since, optional=True), Arg("until", X.until, optional=True)],
)
async def export_hours(ctx: MessageContext, since: str | None, until: str | None) -> list[Reply]:
    """Every credited activity (by the activity's date, both ends included), and the total
    per member. Read a page at a time, letting the loop run between pages; sorted, shaped
    and written in a worker thread."""
    tz = ctx.settings.bot.tz
    first = _read_date(ctx, since) if since else None
    last = _read_date(ctx, until) if until else None
    if first and last and first > last:
        raise UserError(X.bad_range, since=first.isoformat(), until=last.isoformat())
    if first and not last:
        last = ctx.now.astimezone(tz).date()
    start = datetime.combine(first, time(), tzinfo=tz) if first else None
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=tz) if last else None
    records: list[HoursRow] = []
    while True:
        after = records[-1].id if records else 0
        page = await ctx.repos.exports.hours(
            ctx.conversation.id, start, end, after=after, limit=PAGE
        )
        records += page
        if len(page) < PAGE:
            break
        await asyncio.sleep(0)  # SQLite answered in the loop's thread: let others run
    names = await people.nicks(ctx, ctx.conversation.id, {r.staff_id for r in records})
    span = f"_{first.isoformat()}_{last.isoformat()}" if first and last else ""
    file_name = ctx.t(X.file_hours, range=span)
    book, count = await asyncio.to_thread(_hours_book, records, names, tz)
    return _send(ctx, file_name, book, count)


def _naive(at: datetime | None, tz: tzinfo) -> datetime | None:
    """``at`` in ``tz``, without the zone."""
    return at.astimezone(tz).replace(tzinfo=None) if at is not None else None


def _hours_book(records: list[HoursRow], names: dict[str, str], tz: tzinfo) -> tuple[Encoded, int]:
    """The hours workbook (in a worker thread): the records by member and date, then the
    total per member, most hours first."""
    records = sorted(records, key=lambda r: (names[r.staff_id], r.starts_at or r.at, r.id))
    detail = Sheet(
        X.sheet_detail,
        X.head_hours,
        [
            [
                names[r.staff_id],
                r.event_id,
                r.title,
                _naive(r.starts_at, tz),
                r.hours,
                _naive(r.at, tz),
            ]
            for r in records
        ],
        widths=(16, 10, 24, 18, 12, 18),
    )
    detail.totals = [X.total, "", X.rows_n.format(n=len(records)), "", _sum(detail.rows, 4), ""]
    per: dict[str, tuple[int, float]] = {}
    for r in records:
        n, h = per.get(r.staff_id, (0, 0.0))
        per[r.staff_id] = (n + 1, h + r.hours)
    ranked = sorted(per.items(), key=lambda kv: (-kv[1][1], names[kv[0]]))
    members = Sheet(
        X.sheet_members,
        X.head_members,
        [[names[s], n, round(h, 2)] for s, (n, h) in ranked],
        widths=(16, 10, 14),
    )
    members.totals = [X.total, len(records), _sum(members.rows, 2)]
    return _encoded([detail, members]), len(records)


def _sum(rows: Sequence[Sequence[object]], column: int) -> float:
    """The column's total (the cells that hold numbers)."""
    total = 0.0
    for row in rows:
        value = row[column]
        if isinstance(value, int | float):
            total += value
    return round(total, 2)


@router.command(
    "export roster",
    aliases=["导出 名单"],
    help=X.help_roster,
    admin=True,
    args=[Arg("id", T.event_id, kind="int", low=1)],
)
async def export_roster(ctx: MessageContext, id: int) -> list[Reply]:
    """The activity's confirmed list and waitlist in order, with check-in times and the hours
    credited; those an admin added at the close follow."""
    event = await EVENT.find(ctx, id)
    confirmed, waiting = await ctx.repos.signups.roster(event.id)
    checked = {c.staff_id: c.at for c in await ctx.repos.checkins.of_event(event.id)}
    credited = await ctx.repos.exports.hours_of_event(event.id)
    signed = {s.staff_id for s in confirmed + waiting}
    added = [s for s in credited if s not in signed]
    names = await people.nicks(
        ctx,
        ctx.conversation.id,
        [*signed, *added],
        {s.staff_id: s.nick for s in confirmed + waiting},
    )
    rows: list[Sequence[Value]] = []
    for pos, signup in enumerate(confirmed + waiting, 1):
        state = X.confirmed if signup.status == "confirmed" else X.waiting
        rows.append(
            [
                pos,
                names[signup.staff_id],
                state.format(pos=pos - len(confirmed)),
                _local(ctx, signup.created_at),
                _local(ctx, checked.get(signup.staff_id)),
                credited.get(signup.staff_id),
            ]
        )
    for staff_id in added:
        rows.append(
            [
                len(rows) + 1,
                names[staff_id],
                X.added,
                None,
                _local(ctx, checked.get(staff_id)),
                credited[staff_id],
            ]
        )
    sheet = Sheet(
        f"{X.sheet_roster} #{event.id}",
        X.head_roster,
        rows,
        widths=(6, 16, 12, 18, 18, 14),
    )
    sheet.totals = [
        X.total,
        X.people_n.format(n=len(rows)),
        X.roster_summary.format(confirmed=len(confirmed), waiting=len(waiting)),
        "",
        X.checked_n.format(n=len(checked)),
        _sum(rows, 5),
    ]
    book = await asyncio.to_thread(_encoded, [sheet])
    return _send(ctx, ctx.t(X.file_roster, id=event.id), book, len(rows))


@router.command("export credits", aliases=["导出 时间币"], help=X.help_credits, admin=True)
async def export_credits(ctx: MessageContext) -> list[Reply]:
    """Every member's time credits in the group: earned, spent, balance and swaps."""
    accounts = await ctx.repos.exports.credits(ctx.conversation.id)
    names = await people.nicks(ctx, ctx.conversation.id, [a.account for a in accounts])
    accounts.sort(key=lambda a: (-a.balance, names[a.account]))
    sheet = Sheet(
        X.sheet_credits,
        X.head_credits,
        [
            [names[a.account], round(a.earned, 2), round(a.spent, 2), round(a.balance, 2), a.swaps]
            for a in accounts
        ],
        widths=(16, 12, 12, 12, 10),
    )
    sheet.totals = [X.total, _sum(sheet.rows, 1), _sum(sheet.rows, 2), _sum(sheet.rows, 3), ""]
    book = await asyncio.to_thread(_encoded, [sheet])
    return _send(ctx, ctx.t(X.file_credits), book, len(sheet.rows))
