"""People by name: the names members see, and the members an admin names in a command.

Members never see a raw staff id. The bot keeps a directory (``members``: one row per member
and group, with the nick DingTalk sent on the member's latest message), so a name can be
shown for anyone the bot has heard from, including card clicks, which carry only a userId.

An admin names a member by @-mentioning them or by their nick. A mention arrives in the
push's ``atUsers`` as ``{"dingtalkId", "staffId"}`` (the official receive-message sample,
dingtalk-stream's ``chatbot.AtUser``), with the robot itself in the list too (its
``chatbotUserId`` as ``dingtalkId``, no staff id). The text normally keeps ``@nick`` for
every mention but the robot's; the sources do not promise it, so a mention counts whether
or not its ``@nick`` is in the text. A name that fits nobody, or several members, is refused with a
reply saying how to name the member instead, never "done".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot import safety
from bot.context import BaseContext, Context, MessageContext
from bot.errors import UserError
from bot.i18n import Text

AT = ("@", "＠")
# An audit line refers to members as {m:<staff id>}; /audit shows the name last seen instead.
# Only the id is stored, never the nick: erasing a member replaces the id with a pseudonym
# (storage.admin), and the line then names "a member".
MEMBER_REF = re.compile(r"\{m:([^{}]{1,200})\}")


class T:
    """Texts about people."""

    someone = Text("一位成员", "a member")
    unknown_name = Text(
        "本群没有叫「{name}」的成员（我只认识在本群和我说过话的成员）。"
        "请在命令里 @ 这位成员（从 @ 列表里选），或写他在群里的昵称。",
        "Nobody called '{name}' here (I only know members who have talked to me in this "
        "group). @-mention the member in the command (pick them from the @ list), or use "
        "their nick.",
    )
    ambiguous = Text(
        "本群有 {n} 位成员都叫「{name}」，请用 @ 选出你说的那一位。",
        "{n} members here are called '{name}'; @-mention the one you mean.",
    )
    one_only = Text(
        "一次只能指定一位成员，你 @ 了 {n} 位。", "Name one member at a time; you mentioned {n}."
    )
    not_among = Text("{name} 不在{where}里。", "{name} is not on {where}.")
    nobody = Text(
        "请指定成员：在命令里 @ 这位成员（从 @ 列表里选），或写他在群里的昵称。",
        "Name the member: @-mention them in the command (pick them from the @ list), or use "
        "their nick.",
    )


def _fold(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold().strip()


def shown(nick: str, ctx: BaseContext) -> str:
    """A nick as members see it (inert text), or "a member" when there is none."""
    return safety.plain(nick) if nick else ctx.t(T.someone)


async def nicks(
    ctx: BaseContext,
    conversation_id: str,
    staff_ids: Iterable[str],
    stored: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Each member's name as raw text (make it inert before showing it): the nick last seen
    in the group, else the nick stored with the entity (``stored``), else "a member"."""
    wanted = list(dict.fromkeys(staff_ids))
    seen = await ctx.repos.members.nicks(conversation_id, wanted)
    return {s: seen.get(s) or (stored or {}).get(s) or ctx.t(T.someone) for s in wanted}


async def names(
    ctx: BaseContext,
    conversation_id: str,
    staff_ids: Iterable[str],
    stored: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The name to show for each member, as inert plain text (see ``nicks``); never the
    staff id."""
    raw = await nicks(ctx, conversation_id, staff_ids, stored)
    return {s: safety.plain(n) for s, n in raw.items()}


async def name(ctx: BaseContext, conversation_id: str, staff_id: str, stored: str = "") -> str:
    """The name to show for one member (see ``names``)."""
    return (await names(ctx, conversation_id, [staff_id], {staff_id: stored}))[staff_id]


async def render_refs(ctx: BaseContext, conversation_id: str, text: str) -> str:
    """Replace each ``{m:<staff id>}`` in a stored line with that member's name."""
    found = MEMBER_REF.findall(text)
    if not found:
        return text
    shown_names = await names(ctx, conversation_id, found)
    return MEMBER_REF.sub(lambda m: shown_names[m.group(1)], text)


def ref(staff_id: str) -> str:
    """How a stored line (the audit log) refers to a member: rendered as a name when read."""
    return "{m:" + "".join(ch for ch in staff_id if ch not in "{}") + "}"


@dataclass(frozen=True, slots=True)
class Member:
    """A member named in a command."""

    staff_id: str
    name: str


async def _directory(ctx: Context, among: Mapping[str, str] | None) -> dict[str, str]:
    if among is not None:
        return dict(among)
    return await ctx.repos.members.directory(ctx.conversation.id)


def _by_name(word: str, directory: Mapping[str, str]) -> list[str]:
    folded = _fold(word)
    hits = [s for s, nick in directory.items() if nick and _fold(nick) == folded]
    if not hits and word in directory:  # an admin may know a member's staff id
        hits = [word]
    return hits


async def member(
    ctx: Context, word: str, *, among: Mapping[str, str] | None = None, where: str = ""
) -> Member:
    """The one member ``word`` names: an @-mention, a nick, or (for admins who know them) a
    staff id. ``among`` (staff id → nick) limits the choice, e.g. to an activity's roster,
    named ``where`` in the refusal.

    Raises:
        UserError: nobody or several members fit; the reply says how to name one.
    """
    word = word.strip()
    directory = await _directory(ctx, among)
    mentioned = ctx.message.mentioned_staff_ids if isinstance(ctx, MessageContext) else []
    if not word:
        # Unsure whether every client keeps "@nick" in the text besides ``atUsers``: a
        # command whose only argument is one mention works either way.
        if len(mentioned) != 1:
            raise UserError(T.nobody if not mentioned else T.one_only, n=len(mentioned))
        word = "@"
    if word.startswith(AT) and mentioned:
        bare = word[1:].strip()
        if len(mentioned) > 1:
            fits = [s for s in _by_name(bare, directory) if s in mentioned]
            if len(fits) != 1:
                raise UserError(T.one_only, n=len(mentioned))
            mentioned = fits
        staff_id = mentioned[0]
        if among is not None and staff_id not in among:
            raise UserError(T.not_among, name=safety.plain(bare), where=where)
        known = (await ctx.repos.members.nicks(ctx.conversation.id, [staff_id])).get(staff_id)
        return Member(staff_id, shown(known or directory.get(staff_id) or bare, ctx))
    bare = word[1:].strip() if word.startswith(AT) else word
    hits = _by_name(bare, directory)
    if not hits:
        if among is not None and _by_name(
            bare, await ctx.repos.members.directory(ctx.conversation.id)
        ):
            raise UserError(T.not_among, name=safety.plain(bare), where=where)
        raise UserError(T.unknown_name, name=safety.plain(bare[:40]))
    if len(hits) > 1:
        raise UserError(T.ambiguous, n=len(hits), name=safety.plain(bare[:40]))
    return Member(hits[0], shown(directory.get(hits[0], ""), ctx))


async def members(
    ctx: Context, words: list[str], *, among: Mapping[str, str], where: str
) -> list[Member]:
    """The members a list of words names (``/event done 3 @Bob 小明``): every @-mention in
    the message, and each other word as a nick among ``among``.

    Raises:
        UserError: a word fits nobody or several members; nothing is half done.
    """
    mentioned = ctx.message.mentioned_staff_ids if isinstance(ctx, MessageContext) else []
    text = " ".join(words)
    if mentioned:
        # A mention is "@nick" in the text, and a nick may hold spaces: take the mentioned
        # members' nicks out first, then every word still starting with @ is a mention too.
        nicks = await ctx.repos.members.nicks(ctx.conversation.id, mentioned)
        for staff_id in mentioned:
            nick = nicks.get(staff_id) or among.get(staff_id, "")
            if nick:
                text = text.replace("@" + nick, " ").replace("＠" + nick, " ")
    out: dict[str, Member] = {}
    for staff_id in mentioned:
        if staff_id not in among:
            who = await name(ctx, ctx.conversation.id, staff_id)
            raise UserError(T.not_among, name=who, where=where)
        out[staff_id] = Member(
            staff_id, await name(ctx, ctx.conversation.id, staff_id, among[staff_id])
        )
    for word in text.split():
        if word.startswith(AT) and mentioned:
            continue
        found = await member(ctx, word, among=among, where=where)
        out.setdefault(found.staff_id, found)
    return list(out.values())
