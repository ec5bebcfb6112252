"""Check-in (issue 17, honest hours): ``/签到码 <id>`` gives the admin a short code, valid
from shortly before the start to shortly after; members send ``/签到 <code>`` in the group
or one to one. ``/活动 结束`` then credits those who checked in (see ``commands.event_done``).

Wrong guesses are counted per member and group; beyond ``volunteers.checkin_max_wrong`` in
``volunteers.checkin_wrong_window_minutes`` the member waits. A wrong guess is answered with
a reply, not a ``UserError``, so the counted attempt is kept (a ``UserError`` rolls back).
"""

from __future__ import annotations

import secrets
import unicodedata
from datetime import datetime, timedelta

from bot.context import Context
from bot.errors import UserError
from bot.replies import Reply, TextReply, ToMembers
from bot.router import Arg, Router
from handlers.volunteers.common import LOCKED, local_time
from handlers.volunteers.texts import T
from storage.models import Event

router = Router("volunteers.checkin", module="volunteers")

CODE_DIGITS = 4


def window(ctx: Context, event: Event) -> tuple[datetime, datetime]:
    """When the activity's code is accepted."""
    cfg = ctx.settings.volunteers
    return (
        event.starts_at - timedelta(minutes=cfg.checkin_before_minutes),
        event.starts_at + timedelta(minutes=cfg.checkin_after_minutes),
    )


@router.command(
    "checkin code",
    aliases=["签到码"],
    help=T.help_checkin_code,
    admin=True,
    args=[Arg("id", T.event_id, kind="int", low=1)],
)
async def checkin_code(ctx: Context, id: int) -> list[Reply]:
    """The activity's check-in code (made once, then the same), sent to the admin one to
    one: shown in the group, anyone could check in without coming."""
    event = await LOCKED.find(ctx, id)
    if event.status == "cancelled":
        raise UserError(T.cancelled, id=id)
    if event.status == "done":
        raise UserError(T.finished, id=id)
    code = event.checkin_code
    if not code:
        taken = await ctx.repos.events.open_codes(ctx.conversation.id)
        while not code or code in taken:
            code = str(secrets.randbelow(10**CODE_DIGITS)).zfill(CODE_DIGITS)
        await ctx.repos.events.set_code(event, code)
    opens, closes = window(ctx, event)
    text = ctx.t(
        T.checkin_code,
        id=id,
        title=event.title,
        code=code,
        opens=local_time(ctx, opens),
        closes=local_time(ctx, closes),
    )
    ctx.audit_detail = str(id)  # never the code itself
    if ctx.conversation.is_group:
        return [
            TextReply(content=ctx.t(T.checkin_code_sent, id=id)),
            TextReply(
                content=text,
                # The code is for the organiser: a group fallback only says one waits.
                to=ToMembers(staff_ids=[ctx.member.staff_id], important=True, secret=True),
            ),
        ]
    return [TextReply(content=text)]


@router.command(
    "checkin",
    aliases=["签到"],
    help=T.help_checkin,
    args=[Arg("code", T.checkin_code_label, max_len=20)],
    acts=True,
)
async def checkin(ctx: Context, code: str) -> str:
    """Check in with the code the organiser shows at the activity."""
    cfg = ctx.settings.volunteers
    group, staff = ctx.conversation.id, ctx.member.staff_id
    since = ctx.now - timedelta(minutes=cfg.checkin_wrong_window_minutes)
    if await ctx.repos.checkins.wrong_since(group, staff, since) >= cfg.checkin_max_wrong:
        raise UserError(T.checkin_throttled, minutes=cfg.checkin_wrong_window_minutes)
    code = unicodedata.normalize("NFKC", code).strip()
    event = await ctx.repos.events.by_code(group, code) if code.isdigit() else None
    if event is None:
        await ctx.repos.checkins.wrong(group, staff, ctx.now)
        return ctx.t(T.checkin_wrong)
    opens, closes = window(ctx, event)
    if ctx.now < opens:
        raise UserError(T.checkin_early, id=event.id, opens=local_time(ctx, opens))
    if ctx.now > closes:
        raise UserError(T.checkin_late, id=event.id, closes=local_time(ctx, closes))
    signup = await ctx.repos.signups.find(event.id, staff)
    if signup is None or signup.status != "confirmed":
        raise UserError(T.checkin_not_confirmed, id=event.id)
    if not await ctx.repos.checkins.add(event, staff, ctx.member.nick, ctx.now, by=""):
        return ctx.t(T.checkin_again, id=event.id)
    return ctx.t(T.checkin_done, id=event.id, title=event.title)
