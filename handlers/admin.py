"""Admin commands of the runtime: per-group modules, bans, and the audit log."""

from __future__ import annotations

from bot import safety
from bot.context import Context
from bot.dispatch import MODULE_NAMES
from bot.errors import UserError
from bot.i18n import Text
from bot.router import MODULES, Arg, Router

router = Router("admin")

ON = ("on", "开", "开启")
OFF = ("off", "关", "关闭")


class T:
    """Texts of the admin commands."""

    module = Text("模块", "module")
    state = Text("开关", "on|off")
    staff = Text("成员 staffId", "staffId")
    help_modules = Text("本群开启或关闭一个功能模块", "turn a module on or off in this group")
    help_ban = Text(
        "禁止成员在本群发布、点赞、报名和发起交换", "stop a member acting in this group"
    )
    help_unban = Text("解除禁止", "lift a ban")
    help_audit = Text("最近的管理员操作", "recent admin actions")
    module_on = Text("本群已开启「{module}」。", "{module} is now on in this group.")
    module_off = Text("本群已关闭「{module}」。", "{module} is now off in this group.")
    banned = Text(
        "已禁止 {staff} 在本群发布和点赞等操作。", "{staff} can no longer act in this group."
    )
    already_banned = Text("{staff} 已经被禁止了。", "{staff} is already banned here.")
    unbanned = Text("已解除对 {staff} 的禁止。", "{staff} may act in this group again.")
    not_banned = Text("{staff} 没有被禁止。", "{staff} is not banned here.")
    no_self_ban = Text("不能禁止自己。", "You can't ban yourself.")
    audit_empty = Text("还没有管理员操作记录。", "No admin actions yet.")
    audit_header = Text("最近的管理员操作：", "Recent admin actions:")


@router.command(
    "modules",
    aliases=["模块"],
    help=T.help_modules,
    admin=True,
    args=[
        Arg("module", T.module, kind="choice", choices=MODULES),
        Arg("state", T.state, kind="choice", choices=ON + OFF),
    ],
)
async def modules(ctx: Context, module: str, state: str) -> str:
    """Switch a module on or off here; its commands then answer that it is off."""
    assert ctx.conversation is not None
    on = state in ON
    await ctx.repos.groups.set_module(
        ctx.conversation.id, module, on, review_default=ctx.settings.stories.review_default
    )
    return ctx.t(T.module_on if on else T.module_off, module=ctx.t(MODULE_NAMES[module]))


@router.command(
    "ban", aliases=["封禁"], help=T.help_ban, admin=True, args=[Arg("staff", T.staff, max_len=200)]
)
async def ban(ctx: Context, staff: str) -> str:
    """Ban a member from acting in this group."""
    assert ctx.conversation is not None and ctx.member is not None
    if staff == ctx.member.staff_id:
        raise UserError(T.no_self_ban)
    added = await ctx.repos.bans.ban(ctx.conversation.id, staff, ctx.member.staff_id, ctx.now)
    return ctx.t(T.banned if added else T.already_banned, staff=staff)


@router.command(
    "unban",
    aliases=["解封"],
    help=T.help_unban,
    admin=True,
    args=[Arg("staff", T.staff, max_len=200)],
)
async def unban(ctx: Context, staff: str) -> str:
    """Lift a ban."""
    assert ctx.conversation is not None
    removed = await ctx.repos.bans.unban(ctx.conversation.id, staff)
    return ctx.t(T.unbanned if removed else T.not_banned, staff=staff)


@router.command("audit", aliases=["审计"], help=T.help_audit, admin=True)
async def audit(ctx: Context) -> str:
    """The group's recent admin actions."""
    assert ctx.conversation is not None
    entries = await ctx.repos.audit.recent(ctx.conversation.id)
    if not entries:
        return ctx.t(T.audit_empty)
    zone = ctx.settings.bot.tz
    lines = [ctx.t(T.audit_header)]
    for entry in entries:
        when = entry.at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        lines.append(
            f"{when} {safety.plain(entry.staff_id)} {entry.action} {entry.detail}".rstrip()
        )
    return "\n".join(lines)
