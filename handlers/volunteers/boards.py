"""The group's volunteer-hours board (issue 17): ``/时长榜 [本月|全部]`` (``/hoursboard``)."""

from __future__ import annotations

from bot import people
from bot.context import Context
from bot.errors import UserError
from bot.forms import choices_from
from bot.i18n import number
from bot.router import Arg, Router
from domain.times import normalise
from handlers.volunteers.texts import T

router = Router("volunteers.boards", module="volunteers")

BOARD_SIZE = 10
# What people type for the period; this month is the default (what a monthly report wants).
PERIODS = {
    "本月": "month",
    "这个月": "month",
    "当月": "month",
    "月": "month",
    "month": "month",
    "全部": "all",
    "所有": "all",
    "总": "all",
    "总榜": "all",
    "all": "all",
}


@router.command(
    "hoursboard",
    aliases=["时长榜"],
    help=T.help_board,
    args=[Arg("period", T.period, kind="choice", options=choices_from(PERIODS), optional=True)],
)
async def hoursboard(ctx: Context, period: str | None) -> str:
    """The members with the most volunteer hours in this group, this month or ever."""
    key = PERIODS.get(normalise(period)) if period else "month"
    if key is None:
        raise UserError(T.bad_period, value=period or "")
    local_now = ctx.now.astimezone(ctx.settings.bot.tz)
    since = None
    title = ctx.t(T.board_all)
    if key == "month":
        since = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        title = ctx.t(T.board_month, month=local_now.strftime("%Y-%m"))
    rows = await ctx.repos.hours.board(ctx.conversation.id, since, BOARD_SIZE)
    if not rows:
        return ctx.t(T.board_empty, title=title)
    shown = await people.names(ctx, ctx.conversation.id, [staff for staff, _, _ in rows])
    lines = [title]
    for rank, (staff, total, count) in enumerate(rows, 1):
        lines.append(
            ctx.t(T.board_line, rank=rank, name=shown[staff], hours=number(total), n=count)
        )
    return "\n".join(lines)
