"""Which group a command sent one to one is about.

Most commands work on one group's data (its stories, activities, swaps). Sent in a one-to-one
chat, such a command runs in a group settled this way, and the reply comes back to the chat:

1. ``群:<group name>`` (or ``群：``, ``group:``) at the end of the command names it, e.g.
   ``/报名 5 群:志愿者协会``; any unambiguous part of the name will do;
2. a command about a numbered entity (``/报名 5``, ``/赞 12``, ``/交换 接受 3``) runs in that
   entity's group, when it is one of the member's groups (numbers are unique across groups);
3. a member the bot knows from exactly one group needs to say nothing.

The answers come back to the chat, starting with 【group name】, except a story or activity
card, which is a post for the group and goes there. Otherwise the bot asks which group, listing the member's groups and the form to use, or,
for a member it has never seen in a group, says to use the command in the group first.
"Known from a group" means the member has talked to the bot there: that is all it can see.
"""

from __future__ import annotations

import re
import unicodedata

from bot import safety
from bot.commands import Parsed
from bot.context import Context, ConversationRef
from bot.errors import UserError
from bot.i18n import Text

# The group choice at the end of a one-to-one command: "群:名称", "群：名称", "group: name".
GROUP_CHOICE = re.compile(r"\s+(?:群|group)\s*[:：]\s*(?P<name>\S.*)$", re.IGNORECASE)

# Which kind of numbered entity a command's ``id`` argument names.
ENTITY_OF = {
    "like": "story",
    "unlike": "story",
    "approve": "story",
    "reject": "story",
    "likes": "story",
    "join": "event",
    "leave": "event",
    "event seats": "event",
    "event roster": "event",
    "event done": "event",
    "event cancel": "event",
    "swap": "post",
    "withdraw": "post",
    "swap accept": "swap",
    "swap decline": "swap",
    "swap done": "swap",
    "swap confirm": "swap",
    "reply": "feedback",
}


# Cards that are posts for the whole group: sent from a one-to-one chat, they go into the
# group (a published story, a new activity), not back to the chat.
GROUP_POSTS = frozenset({"story", "event"})


class T:
    """Texts about choosing a group."""

    no_groups = Text(
        "「{command}」要在群里用：请在群里 @我 发送。"
        "（我还没在任何群里见过你；在群里和我说过话之后，也可以在这里发送，"
        "在命令后加上 群:群名。）",
        "{command} works on a group: send it in the group, @-mentioning me. (I have not seen "
        "you in any group yet; once you have talked to me in one, you can also send it here "
        "with group:<name> at the end.)",
    )
    which = Text(
        "你在 {n} 个群里用过我：{groups}。这个命令是关于哪个群的？"
        "请在命令后加上群名再发一次，例如：{example}",
        "You use me in {n} groups: {groups}. Which group is this about? Send it again with "
        "the group at the end, for example: {example}",
    )
    unknown_group = Text(
        "你所在的群里没有叫「{name}」的。你用过我的群：{groups}。",
        "None of your groups is called '{name}'. Your groups: {groups}.",
    )
    several = Text(
        "有 {n} 个群的名字里有「{name}」：{groups}。请写全群名。",
        "{n} of your groups match '{name}': {groups}. Give the full name.",
    )
    prefix = Text("【{group}】", "[{group}] ")
    untitled = Text("（未命名的群）", "(untitled group)")


def split_choice(text: str) -> tuple[str, str]:
    """A one-to-one command and the group it names at its end ("" when none)."""
    match = GROUP_CHOICE.search(text)
    if match is None:
        return text, ""
    return text[: match.start()], match.group("name").strip()


def _fold(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold().strip()


def _listing(ctx: Context, groups: list[tuple[str, str]]) -> str:
    sep = "、" if ctx.lang == "zh" else ", "
    return sep.join(f"「{safety.plain(t or ctx.t(T.untitled))}」" for _, t in groups)


async def choose(ctx: Context, parsed: Parsed, choice: str) -> ConversationRef:
    """The group a one-to-one command runs in (see the module's docstring).

    Raises:
        UserError: the bot cannot tell; the reply asks which group, or says what to do.
    """
    spec = parsed.route.spec
    groups = await ctx.repos.members.groups_of(ctx.member.staff_id)
    command = "/" + parsed.used_name
    if not groups:
        raise UserError(T.no_groups, command=command)
    if choice:
        wanted = _fold(choice)
        exact = [g for g in groups if _fold(g[1]) == wanted]
        partial = exact or [g for g in groups if wanted and wanted in _fold(g[1])]
        if not partial:
            raise UserError(
                T.unknown_group, name=safety.plain(choice[:40]), groups=_listing(ctx, groups)
            )
        if len(partial) > 1:
            raise UserError(
                T.several,
                n=len(partial),
                name=safety.plain(choice[:40]),
                groups=_listing(ctx, partial),
            )
        return ConversationRef(partial[0][0], "2", partial[0][1])
    kind = ENTITY_OF.get(spec.name)
    entity = parsed.kwargs.get("id")
    if kind is not None and isinstance(entity, int):
        owner = await ctx.repos.members.group_of(kind, entity)
        for group_id, title in groups:
            if group_id == owner:
                return ConversationRef(group_id, "2", title)
    if len(groups) == 1:
        return ConversationRef(groups[0][0], "2", groups[0][1])
    example = (
        f"{command} … 群:{groups[0][1]}"
        if ctx.lang == "zh"
        else f"{command} … group:{groups[0][1]}"
    )
    raise UserError(T.which, n=len(groups), groups=_listing(ctx, groups), example=example)
