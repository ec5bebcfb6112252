"""One guarded run for commands, card clicks and jobs alike.

Every unit of work a member or the clock starts goes through the same steps:

1. ``refusal``: a module switched off in the group, an admin-only action, a banned member;
   the member is told why and nothing runs.
2. ``savepoint``: the work runs in a savepoint; if it raises, what it wrote and the replies it
   queued are rolled back, and the exception goes on (a ``UserError`` becomes the member's
   answer, anything else is the caller's to report).
3. ``audit``: an admin's command or button is written to the audit log.

``bot.dispatch`` (commands), ``bot.clicks`` (buttons) and the digest job use these.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import modules, safety
from bot.context import BaseContext, ClickContext, EventContext
from bot.errors import UserError
from bot.i18n import Text

log = logging.getLogger(__name__)


class T:
    """Texts of the refusals."""

    admin_only = Text(
        "抱歉，{command} 只有管理员可以使用。",
        "Sorry, {command} is for admins only.",
    )
    admin_only_click = Text("抱歉，只有管理员可以这样操作。", "Sorry, only admins can do that.")
    module_off = Text(
        # The hint is the whole command, as it must be typed: "/模块 开启" alone is refused.
        "本群没有开启「{module}」功能。管理员可以发送 /模块 {module} 开 打开它。",
        "The {module} module is off in this group; an admin can turn it on with /modules {key} on.",
    )
    banned = Text(
        "抱歉，你在本群暂时不能这样操作。如有疑问请联系群管理员。",
        "Sorry, you can't do that in this group for now. Please ask an admin if unsure.",
    )


async def refusal(ctx: EventContext, module: str | None, *, admin: bool, acts: bool) -> str | None:
    """Why the member may not do this here, or None. One place for every command and
    button: a module switched off, an admin-only action, a banned member. An admin-only
    command's refusal has a ``{command}`` placeholder for the name the member used."""
    if module is not None and module in await ctx.repos.groups.disabled_modules(
        ctx.conversation.id
    ):
        return ctx.t(T.module_off, module=ctx.t(modules.name(module)), key=module)
    if admin and not ctx.is_admin:
        return ctx.t(
            T.admin_only_click if isinstance(ctx, ClickContext) else T.admin_only,
            command="{command}",
        )
    if acts and await ctx.repos.bans.is_banned(ctx.conversation.id, ctx.member.staff_id):
        return ctx.t(T.banned)
    return None


@asynccontextmanager
async def savepoint(session: AsyncSession, *contexts: BaseContext) -> AsyncIterator[None]:
    """Run a block in a savepoint of ``session``. If the block raises, its writes are rolled
    back, the replies it queued on ``contexts`` are dropped, and the exception goes on."""
    nested = await session.begin_nested()
    marks = [len(ctx.replies) for ctx in contexts]
    try:
        yield
    except UserError:
        await nested.rollback()  # the unit of work goes on: this must have worked
        _drop_replies(contexts, marks)
        raise
    except Exception:
        try:
            await nested.rollback()
        except Exception:  # the session itself is broken: the first error is the one to tell
            log.debug("savepoint rollback failed too", exc_info=True)
        _drop_replies(contexts, marks)
        raise
    await nested.commit()


def _drop_replies(contexts: tuple[BaseContext, ...], marks: list[int]) -> None:
    for ctx, mark in zip(contexts, marks, strict=True):
        del ctx.replies[mark:]


async def audit(ctx: EventContext, action: str, detail: dict[str, object]) -> None:
    """Write an admin's command or button to the audit log: what the handler said
    (``ctx.audit_detail``), else the arguments as the admin gave them."""
    if ctx.audit_detail is not None:
        text = ctx.audit_detail
    else:
        # The arguments as the admin gave them, read by people: no keys, no reprs.
        text = safety.plain(
            " ".join(_audit_value(v) for v in detail.values() if v not in (None, [], ""))
        )
    await ctx.repos.audit.record(ctx.conversation.id, ctx.member.staff_id, action, text, ctx.now)


def _audit_value(value: object) -> str:
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)
