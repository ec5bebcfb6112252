"""Admin commands of the runtime: per-group modules, bans, and the audit log."""

from __future__ import annotations

from typing import ClassVar

from bot import people, safety
from bot.context import Context, MessageContext
from bot.errors import UserError
from bot.forms import SWITCH, Choice
from bot.i18n import Text, has_cjk
from bot.modules import KEYS as MODULE_KEYS
from bot.modules import name as module_name
from bot.router import Arg, Router

router = Router("admin")

# The words for each module, Chinese first (the help shows 故事|技能|志愿|周报).
MODULE_OPTIONS = (
    Choice("stories", ("故事", "故事分享", "stories", "story")),
    Choice("skills", ("技能", "技能交换", "skills", "swaps")),
    Choice("volunteers", ("志愿", "志愿活动", "活动", "volunteers", "volunteering", "events")),
    Choice("digest", ("周报", "digest")),
)
assert {o.value for o in MODULE_OPTIONS} == set(MODULE_KEYS), "a module without its words"


class T:
    """Texts of the admin commands."""

    module = Text("模块", "module")
    state = Text("开关", "on/off")
    modules_header = Text("本群的功能模块：", "Modules in this group:")
    module_key = Text("{name}（{key}）", "{name} ({key})")
    module_line_on = Text("· {module}：开", "- {module}: on")
    module_line_off = Text("· {module}：关", "- {module}: off")
    modules_hint = Text(
        "开关：/模块 <模块> 开|关，例如 /模块 周报 关",
        "Switch: /modules <module> on|off, e.g. /modules digest off",
    )
    staff = Text("@成员或昵称", "@member or nick")
    help_modules = Text("本群开启或关闭一个功能模块", "turn a module on or off in this group")
    help_ban = Text(
        "禁止成员在本群发布、点赞、报名和发起交换", "stop a member acting in this group"
    )
    help_unban = Text("解除禁止", "lift a ban")
    help_audit = Text("最近的管理员操作", "recent admin actions")
    module_on = Text("本群已开启「{module}」。", "{module} is now on in this group.")
    module_off = Text("本群已关闭「{module}」。", "{module} is now off in this group.")
    banned = Text(
        "已禁止 {staff} 在本群发布、点赞、报名和发起交换。",
        "{staff} can no longer post, like, sign up or propose swaps in this group.",
    )
    already_banned = Text("{staff} 已经被禁止了。", "{staff} is already banned here.")
    unbanned = Text("已解除对 {staff} 的禁止。", "{staff} may act in this group again.")
    not_banned = Text("{staff} 没有被禁止。", "{staff} is not banned here.")
    no_self_ban = Text("不能禁止自己。", "You can't ban yourself.")
    audit_empty = Text("还没有管理员操作记录。", "No admin actions yet.")
    audit_header = Text("最近的管理员操作：", "Recent admin actions:")
    audit_line = Text("{when} {who}：{what}", "{when} {who}: {what}")
    button = Text("按钮「{verb}」", "button '{verb}'")
    verbs: ClassVar[dict[str, Text]] = {
        "approve": Text("通过", "approve"),
        "reject": Text("驳回", "reject"),
        "like": Text("赞", "like"),
        "join": Text("报名", "join"),
        "leave": Text("取消报名", "leave"),
        "accept": Text("接受", "accept"),
        "decline": Text("拒绝", "decline"),
        "confirm": Text("确认", "confirm"),
    }
    kinds: ClassVar[dict[str, Text]] = {
        "story": Text("故事", "story"),
        "review": Text("故事", "story"),
        "event": Text("活动", "activity"),
        "swap": Text("交换", "swap"),
    }


@router.command(
    "modules",
    aliases=["模块"],
    help=T.help_modules,
    admin=True,
    args=[
        Arg("module", T.module, kind="choice", options=MODULE_OPTIONS, optional=True),
        Arg("state", T.state, kind="choice", options=SWITCH, optional=True),
    ],
)
async def modules(ctx: MessageContext, module: str | None, state: str | None) -> str:
    """Switch a module on or off here (its commands then answer that it is off); without
    a switch, show which modules are on in this group."""
    if module is None or state is None:
        off = await ctx.repos.groups.disabled_modules(ctx.conversation.id)
        lines = [ctx.t(T.modules_header)]
        for option in MODULE_OPTIONS:
            line = T.module_line_off if option.value in off else T.module_line_on
            name, key = ctx.t(module_name(option.value)), option.shown(ctx.lang)
            shown = name if key == name else ctx.t(T.module_key, name=name, key=key)
            lines.append(ctx.t(line, module=shown))
        lines.append(ctx.t(T.modules_hint))
        return "\n".join(lines)
    on = state == "on"
    await ctx.repos.groups.set_module(
        ctx.conversation.id, module, on, review_default=ctx.settings.stories.review_default
    )
    return ctx.t(T.module_on if on else T.module_off, module=ctx.t(module_name(module)))


@router.command(
    "ban",
    aliases=["封禁"],
    help=T.help_ban,
    admin=True,
    args=[Arg("staff", T.staff, max_len=200, optional=True)],
)
async def ban(ctx: MessageContext, staff: str | None) -> str:
    """Ban a member (named by @-mention or nick) from acting in this group."""
    target = await people.member(ctx, staff or "")
    if target.staff_id == ctx.member.staff_id:
        raise UserError(T.no_self_ban)
    added = await ctx.repos.bans.ban(
        ctx.conversation.id, target.staff_id, ctx.member.staff_id, ctx.now
    )
    ctx.audit_detail = people.ref(target.staff_id)
    return ctx.t(T.banned if added else T.already_banned, staff=target.name)


@router.command(
    "unban",
    aliases=["解封"],
    help=T.help_unban,
    admin=True,
    args=[Arg("staff", T.staff, max_len=200, optional=True)],
)
async def unban(ctx: MessageContext, staff: str | None) -> str:
    """Lift a ban (the member named by @-mention or nick)."""
    target = await people.member(ctx, staff or "")
    removed = await ctx.repos.bans.unban(ctx.conversation.id, target.staff_id)
    ctx.audit_detail = people.ref(target.staff_id)
    return ctx.t(T.unbanned if removed else T.not_banned, staff=target.name)


@router.command("audit", aliases=["审计"], help=T.help_audit, admin=True)
async def audit(ctx: MessageContext) -> str:
    """The group's recent admin actions, with members by name."""
    entries = await ctx.repos.audit.recent(ctx.conversation.id)
    if not entries:
        return ctx.t(T.audit_empty)
    zone = ctx.settings.bot.tz
    admins = await people.names(ctx, ctx.conversation.id, [e.staff_id for e in entries])
    lines = [ctx.t(T.audit_header)]
    for entry in entries:
        when = entry.at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        what = await _action(ctx, entry.action, entry.detail)
        lines.append(ctx.t(T.audit_line, when=when, who=admins[entry.staff_id], what=what))
    return "\n".join(lines)


async def _action(ctx: Context, action: str, detail: str) -> str:
    """An audited action as the admin would say it: the command in the reader's language,
    or the card button and what it was on."""
    detail = await people.render_refs(ctx, ctx.conversation.id, detail)
    if action.startswith("card:"):
        verb = action.removeprefix("card:")
        kind, _, entity = detail.partition(" ")
        shown_verb = ctx.t(T.verbs.get(verb, Text(verb, verb)))
        shown_kind = ctx.t(T.kinds[kind]) if kind in T.kinds else ""
        target = f"{shown_kind} #{safety.plain(entity)}" if entity.isdigit() else ""
        return f"{ctx.t(T.button, verb=shown_verb)} {target}".rstrip()
    route = ctx.commands.find(action)
    command = action
    if route is not None:
        if ctx.lang == "zh":
            command = "/" + next((a for a in route.spec.aliases if has_cjk(a)), route.spec.name)
        # A choice is stored as its value ("stories off"), in the order of the arguments:
        # shown as the reader says it ("故事 关").
        tokens = detail.split(" ")
        for i, arg in enumerate(route.spec.args[: len(tokens)]):
            if arg.kind == "choice":
                tokens[i] = arg.show(tokens[i], ctx.lang)
        detail = " ".join(tokens)
    return f"{command} {detail}".rstrip()
