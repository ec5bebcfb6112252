"""What the volunteers feature stores about a member: sign-ups and hours (/mydata, /forget)."""

from __future__ import annotations

from bot.context import Context
from bot.i18n import number
from bot.router import PrivacySection, Router
from handlers.volunteers.cards import card_updates
from handlers.volunteers.common import tell_promoted
from handlers.volunteers.texts import T

router = Router("volunteers.privacy", module="volunteers")


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
                tell_promoted(ctx, event, await ctx.repos.signups.promote(event))
                for update in await card_updates(ctx, event):
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


async def _my_checkins(ctx: Context, conversation_id: str, staff_id: str) -> tuple[int, list[str]]:
    checkins = await ctx.repos.checkins.of_member(conversation_id, staff_id)
    return len(checkins), [f"#{c.event_id}" for c in checkins[:3]]


async def _erase_checkins(ctx: Context, conversation_id: str, staff_id: str) -> int:
    return await ctx.repos.checkins.erase(conversation_id, staff_id)


router.privacy_section(
    PrivacySection("checkins", T.checkins_title, _my_checkins, _erase_checkins, order=46)
)


async def _my_reminder_setting(
    ctx: Context, conversation_id: str, staff_id: str
) -> tuple[int, list[str]]:
    off = await ctx.repos.reminder_optouts.opted_out(conversation_id, [staff_id])
    return len(off), [ctx.t(T.reminders_off_short)] if off else []


async def _erase_reminder_setting(ctx: Context, conversation_id: str, staff_id: str) -> int:
    off = await ctx.repos.reminder_optouts.opted_out(conversation_id, [staff_id])
    await ctx.repos.reminder_optouts.switch(conversation_id, staff_id, False, ctx.now)
    return len(off)


router.privacy_section(
    PrivacySection(
        "reminders",
        T.reminder_setting_title,
        _my_reminder_setting,
        _erase_reminder_setting,
        order=47,
    )
)
