"""``/help``: the command list, generated from the registered command specs."""

from __future__ import annotations

from bot.context import Context, MessageContext
from bot.errors import UserError
from bot.i18n import Text
from bot.router import Arg, CommandSpec, Router

router = Router("help")


class T:
    """Texts of /help."""

    header = Text(
        "我能做这些（发送「/帮助 命令」查看详情）：",
        "Here is what I can do (send '/help <command>' for details):",
    )
    admin_header = Text("管理员命令：", "Admin commands:")
    unknown = Text(
        "没有「{name}」这个命令。发送 /帮助 查看全部命令。",
        "There is no command '{name}'. Send /help for the list.",
    )
    aliases = Text("也可以写作：{aliases}", "Also written: {aliases}")
    forms = Text("「{label}」可以写：{forms}", "{label} may be written: {forms}")
    footer = Text(
        "参数用中文或英文都可以，例如 /周报 时间 星期三 下午6点半、/交换完成 3 2小时；"
        "不带斜杠发「帮助」也可以。意见和建议：/反馈 <内容>",
        "Arguments may be typed as you would say them, e.g. /digest schedule wed 6:30pm, "
        "/swap done 3 2h; 'help' works without the slash. Feedback: /feedback <text>",
    )
    admin_tag = Text("（管理员）", " (admins)")
    command_label = Text("命令", "command")


def _line(ctx: Context, spec: CommandSpec) -> str:
    return f"{spec.usage(ctx.lang)} — {ctx.t(spec.help)}"


@router.command(
    "help",
    aliases=["帮助"],
    help=Text("查看命令列表，或某个命令的用法", "list the commands, or how to use one"),
    args=[Arg("command", T.command_label, kind="rest", optional=True, max_len=40)],
    needs_group=False,
)
async def show_help(ctx: MessageContext, command: str | None) -> str:
    """List every command this member may use here (modules that are on), or explain one."""
    off = await ctx.repos.groups.disabled_modules(ctx.conversation.id)

    def visible(spec: CommandSpec) -> bool:
        return not spec.hidden and spec.module not in off and (ctx.is_admin or not spec.admin)

    if command:
        route = ctx.commands.find(command)
        if route is None or not visible(route.spec):
            raise UserError(T.unknown, name=command.lstrip("/／")[:40])
        spec = route.spec
        names = ", ".join("/" + n for n in (spec.name, *spec.aliases))
        tag = ctx.t(T.admin_tag) if spec.admin else ""
        lines = [f"{_line(ctx, spec)}{tag}", ctx.t(T.aliases, aliases=names)]
        sep = "、" if ctx.lang == "zh" else ", "
        for arg in spec.args:
            if forms := arg.forms(ctx.lang):
                label = arg.label.render(ctx.lang)
                lines.append(ctx.t(T.forms, label=label, forms=sep.join(forms)))
        return "\n".join(lines)
    member: list[str] = []
    admin: list[str] = []
    for route in ctx.commands.routes:
        if visible(route.spec):
            (admin if route.spec.admin else member).append(_line(ctx, route.spec))
    lines = [ctx.t(T.header), *member]
    if admin:
        lines += ["", ctx.t(T.admin_header), *admin]
    lines += ["", ctx.t(T.footer)]
    return "\n".join(lines)
