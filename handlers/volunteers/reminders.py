"""Reminders you can set (issue 17): ``/活动 提醒 <id> 2h,15m`` per activity (admins; the
default comes from ``volunteers.reminders``), and ``/提醒 关|开`` for a member's own
one-to-one reminders in the group."""

from __future__ import annotations

from bot import safety
from bot.context import Context
from bot.errors import UserError
from bot.forms import Choice
from bot.router import Arg, Router
from domain.times import describe_offsets, normalise, parse_offsets
from handlers.volunteers.common import open_event
from handlers.volunteers.jobs import plan_of
from handlers.volunteers.texts import T

router = Router("volunteers.reminders", module="volunteers")

OFF_WORDS = {"关", "关闭", "off", "不要", "无", "none"}
ON_WORDS = {"开", "打开", "开启", "on", "要"}
DEFAULT_WORDS = {"默认", "default"}
# The words of /提醒 as the router reads them (the help shows 关|开).
REMINDER_SWITCH = (
    Choice("off", ("关", "关闭", "不要", "off", "none")),
    Choice("on", ("开", "打开", "开启", "要", "on")),
)


@router.command(
    "event remind",
    aliases=["活动 提醒"],
    help=T.help_remind,
    admin=True,
    args=[
        Arg("id", T.event_id, kind="int", low=1),
        Arg("plan", T.plan, kind="rest", optional=True, max_len=100),
    ],
)
async def event_remind(ctx: Context, id: int, plan: str | None) -> str:
    """Set (or show) when an activity's reminders go out."""
    event = await open_event(ctx, id)
    if plan is not None:
        word = normalise(plan)
        if word in OFF_WORDS:
            stored = "off"
        elif word in DEFAULT_WORDS:
            stored = ""
        else:
            offsets = parse_offsets(plan)
            if offsets is None or len(offsets) > 5:
                raise UserError(T.bad_plan, value=safety.plain(plan[:40]))
            stored = ",".join(f"{m}m" for m in offsets)
        await ctx.repos.events.set_reminders(event, stored)
        await ctx.repos.events.replan_reminders(event, plan_of(ctx.settings, event), ctx.now)
    offsets = plan_of(ctx.settings, event)
    if not offsets:
        return ctx.t(T.remind_none, id=id)
    return ctx.t(T.remind_plan, id=id, plan=describe_offsets(offsets, ctx.lang))


@router.command(
    "reminders",
    aliases=["提醒"],
    help=T.help_my_reminders,
    args=[Arg("switch", T.switch, kind="choice", options=REMINDER_SWITCH)],
)
async def my_reminders(ctx: Context, switch: str) -> str:
    """Turn my own one-to-one activity reminders in this group off or on."""
    word = normalise(switch)
    if word not in OFF_WORDS | ON_WORDS:
        raise UserError(T.bad_switch, value=safety.plain(switch[:20]))
    off = word in OFF_WORDS
    await ctx.repos.reminder_optouts.switch(ctx.conversation.id, ctx.member.staff_id, off, ctx.now)
    return ctx.t(T.reminders_off if off else T.reminders_on)
