"""The privacy dashboard: /mydata shows what the bot stores about me, /forget erases it."""

from __future__ import annotations

from datetime import timedelta

from bot import people
from bot.cards import CATALOG
from bot.context import ClickContext, Context, MessageContext
from bot.errors import UserError
from bot.events import is_staff_id
from bot.forms import CONFIRM
from bot.i18n import Text
from bot.replies import CardResponse, Reply, TextReply, ToMembers
from bot.router import Arg, PrivacySection, Router
from handlers.retention import retention_note
from storage.db import SCRUB
from storage.secrets import pseudonym_of

router = Router("privacy")

CONFIRM_WINDOW = timedelta(minutes=10)


class T:
    """Texts of the privacy dashboard."""

    help_mydata = Text("查看机器人在本群存储的关于我的数据", "what the bot stores about me here")
    help_forget = Text("删除我在本群的数据（需要确认）", "erase my data in this group (asks first)")
    confirm_word = Text("确认", "confirm")
    profile = Text("个人资料", "profile")
    raw = Text("仍保留的原始消息", "raw messages still kept")
    raw_erased = Text("原始消息", "raw messages")
    latest = Text("最近 {n} 条：{items}", "latest {n}: {items}")
    header = Text(
        "机器人在「{group}」存储的关于你的数据：", "What the bot stores about you in '{group}':"
    )
    line = Text("{title}：{n} 条{items}", "{title}: {n}{items}")
    nothing = Text("（没有）", "(none)")
    sent_privately = Text("已私信发给你。", "Sent to you privately.")
    forget_prompt = Text(
        "确定要删除你在本群存储的全部数据吗？请在 10 分钟内发送：/删除我的数据 确认",
        "Erase everything the bot stores about you in this group? Within 10 minutes, send: "
        "/forget confirm",
    )
    no_request = Text(
        "没有待确认的删除请求，或已超过 10 分钟。请先发送 /删除我的数据",
        "There is no erase request waiting (or it is over 10 minutes old). Send /forget first.",
    )
    erased = Text("已删除你在本群的数据：{what}。", "Erased your data in this group: {what}.")
    erased_item = Text("{title} {n} 条", "{title} {n}")
    erased_nothing = Text("没有需要删除的数据", "there was nothing to erase")
    not_yours = Text("这是别人的删除确认。", "This confirmation is someone else's.")
    first_seen = Text("首次出现 {date}", "first seen {date}")
    messages = Text("消息 {n} 条", "{n} messages")
    group_label = Text("本群", "this group")
    header_all = Text(
        "机器人存储的关于你的全部数据（你用过它的 {n} 个群，和这个私聊）：",
        "Everything the bot stores about you ({n} groups you used it in, and this chat):",
    )
    chat_label = Text("这个私聊", "this chat")
    quoted = Text("「{name}」", "'{name}'")
    group_heading = Text("「{group}」：", "'{group}':")
    forget_prompt_all = Text(
        "确定要删除机器人在你用过它的全部 {n} 个群（{groups}）和这个私聊里存储的关于你的数据吗？"
        "请在 10 分钟内发送：/删除我的数据 确认",
        "Erase everything the bot stores about you in all {n} groups you used it in "
        "({groups}) and this chat? Within 10 minutes, send: /forget confirm",
    )
    erased_all = Text(
        "已删除你在全部 {n} 个群和这个私聊里的数据：\n{what}",
        "Erased your data in all {n} groups and this chat:\n{what}",
    )
    erased_in = Text("「{group}」：{what}", "'{group}': {what}")
    copies = Text("发给你或提到你的消息副本", "copies of messages to or about you")
    audit = Text("审计记录（删除后匿名保留）", "audit entries (kept under a pseudonym)")
    ban = Text("封禁记录", "ban")
    kept = Text("保留：{what}", "Kept: {what}")
    kept_ban = Text(
        "封禁记录（群管理员解封前保留，删除数据不能绕过封禁）",
        "the ban (kept until an admin lifts it; erasing data does not lift a ban)",
    )
    kept_audit = Text(
        "审计记录 {n} 条，已改为匿名编号（群的管理操作需要留痕）",
        "{n} audit entries, under a pseudonym (the group's admin actions stay on record)",
    )


async def _profile(ctx: Context, conversation_id: str, staff_id: str) -> tuple[int, list[str]]:
    member = await ctx.repos.members.get(conversation_id, staff_id)
    if member is None:
        return 0, []
    date = member.first_seen_at.astimezone(ctx.settings.bot.tz).strftime("%Y-%m-%d")
    return 1, [
        people.shown(member.nick, ctx),
        ctx.t(T.first_seen, date=date),
        ctx.t(T.messages, n=member.messages),
    ]


async def _erase_profile(ctx: Context, conversation_id: str, staff_id: str) -> int:
    return await ctx.repos.privacy.erase_profile(conversation_id, staff_id)


async def _raw(ctx: Context, conversation_id: str, staff_id: str) -> tuple[int, list[str]]:
    return await ctx.repos.privacy.raw_messages(conversation_id, staff_id), []


async def _erase_raw(ctx: Context, conversation_id: str, staff_id: str) -> int:
    return await ctx.repos.privacy.erase_raw_messages(conversation_id, staff_id)


async def _nicks(ctx: Context, conversation_id: str, staff_id: str) -> list[str]:
    member = await ctx.repos.members.get(conversation_id, staff_id)
    names = {member.nick if member else ""}
    if ctx.member is not None and ctx.member.staff_id == staff_id:
        names.add(ctx.member.nick)
    return sorted(n for n in names if n)


async def _copies(ctx: Context, conversation_id: str, staff_id: str) -> tuple[int, list[str]]:
    nicks = await _nicks(ctx, conversation_id, staff_id)
    return await ctx.repos.privacy.message_copies(conversation_id, staff_id, nicks), []


async def _erase_copies(ctx: Context, conversation_id: str, staff_id: str) -> int:
    nicks = await _nicks(ctx, conversation_id, staff_id)
    return await ctx.repos.privacy.erase_message_copies(conversation_id, staff_id, nicks)


async def _audit(ctx: Context, conversation_id: str, staff_id: str) -> tuple[int, list[str]]:
    return await ctx.repos.privacy.audit_entries(conversation_id, staff_id), []


async def _erase_audit(ctx: Context, conversation_id: str, staff_id: str) -> int:
    # Counted as kept, not erased: the erase reply names it (see erase_member).
    pseudonym = await pseudonym_of(ctx.session, conversation_id, staff_id)
    await ctx.repos.privacy.pseudonymise(conversation_id, staff_id, pseudonym)
    return 0


async def _ban(ctx: Context, conversation_id: str, staff_id: str) -> tuple[int, list[str]]:
    return int(await ctx.repos.bans.is_banned(conversation_id, staff_id)), []


async def _keep_ban(ctx: Context, conversation_id: str, staff_id: str) -> int:
    return 0


# Before the profile (order 10), which forgets the nick these look for.
router.privacy_section(PrivacySection("copies", T.copies, _copies, _erase_copies, order=5))
router.privacy_section(PrivacySection("audit", T.audit, _audit, _erase_audit, order=6))
router.privacy_section(PrivacySection("ban", T.ban, _ban, _keep_ban, order=7))
router.privacy_section(PrivacySection("profile", T.profile, _profile, _erase_profile, order=10))
router.privacy_section(
    PrivacySection("raw", T.raw, _raw, _erase_raw, order=90, erased_title=T.raw_erased)
)


def _privately(ctx: Context, text: str) -> list[Reply]:
    """In a group, send personal data one to one and say so; in a one-to-one chat, reply."""
    if not ctx.conversation.is_group:
        return [TextReply(content=text)]
    if not is_staff_id(ctx.member.staff_id):
        # No staff id, no private delivery: the outbox tells the group so (bot/outbox.py).
        return [TextReply(content=text, to=ToMembers(staff_ids=[ctx.member.staff_id]))]
    return [
        TextReply(content=text, to=ToMembers(staff_ids=[ctx.member.staff_id])),
        TextReply(content=ctx.t(T.sent_privately)),
    ]


async def _report(ctx: Context, conversation_id: str, staff_id: str) -> list[str]:
    lines = []
    for section in ctx.commands.privacy:
        n, items = await section.collect(ctx, conversation_id, staff_id)
        # A few recent items: said so when there are more, or "4 条" beside three reads as
        # a record missing.
        listed = "，".join(items) if ctx.lang == "zh" else ", ".join(items)
        if items and n > len(items):
            listed = ctx.t(T.latest, n=len(items), items=listed)
        shown = (f"（{listed}）" if ctx.lang == "zh" else f" ({listed})") if items else ""
        lines.append(ctx.t(T.line, title=ctx.t(section.title), n=n, items=shown))
    return lines


async def _everywhere(ctx: Context) -> list[tuple[str, str]]:
    """One to one: every group holding the member's data, then this chat (its own raw
    messages and profile): (conversation id, label)."""
    found = await ctx.repos.members.data_groups(ctx.member.staff_id)
    return [(cid, title or ctx.t(T.group_label)) for cid, title in found] + [
        (ctx.conversation.id, ctx.t(T.chat_label))
    ]


@router.command("mydata", aliases=["我的数据"], help=T.help_mydata, needs_group=False)
async def mydata(ctx: MessageContext) -> list[Reply]:
    """Everything stored about the member, grouped, with recent items: in a group, that
    group's; one to one, every group's and the chat's."""
    staff_id = ctx.member.staff_id
    if ctx.conversation.is_group:
        group = ctx.conversation.title or ctx.t(T.group_label)
        lines = [ctx.t(T.header, group=group), *await _report(ctx, ctx.conversation.id, staff_id)]
        return _privately(ctx, "\n".join([*lines, retention_note(ctx)]))
    places = await _everywhere(ctx)
    lines = [ctx.t(T.header_all, n=len(places) - 1)]
    for conversation_id, label in places:
        lines.append(ctx.t(T.group_heading, group=label))
        lines += ["  " + line for line in await _report(ctx, conversation_id, staff_id)]
    return _privately(ctx, "\n".join([*lines, retention_note(ctx)]))


@router.command(
    "forget",
    aliases=["删除我的数据"],
    help=T.help_forget,
    args=[Arg("confirm", T.confirm_word, kind="choice", options=CONFIRM, optional=True)],
    needs_group=False,
)
async def forget(ctx: MessageContext, confirm: str | None) -> list[Reply]:
    """Ask first; on confirmation within 10 minutes erase the member's data in every table."""
    if confirm is None:
        await ctx.repos.privacy.request_forget(ctx.conversation.id, ctx.member.staff_id, ctx.now)
        prompt = ctx.t(T.forget_prompt)
        if not ctx.conversation.is_group:
            places = (await _everywhere(ctx))[:-1]
            sep = "、" if ctx.lang == "zh" else ", "
            prompt = ctx.t(
                T.forget_prompt_all,
                n=len(places),
                groups=sep.join(ctx.t(T.quoted, name=label) for _, label in places) or "-",
            )
        replies: list[Reply] = [TextReply(content=prompt)]
        if ctx.settings.cards.generic_template:
            replies.append(
                CATALOG["forget"].build(
                    ctx.settings,
                    entity_id=ctx.member.staff_id,
                    title=ctx.t(T.help_forget),
                    data={"title": prompt},  # one to one: every group's, not "本群"
                    fallback_markdown=prompt,
                )
            )
        return replies
    return [TextReply(content=await erase_member(ctx, ctx.conversation.id, ctx.member.staff_id))]


async def erase_member(ctx: Context, conversation_id: str, staff_id: str) -> str:
    """Erase everything every feature stores about a member in a group (one to one: in
    every group and the chat); say what went, group by group."""
    if not await ctx.repos.privacy.take_forget_request(
        conversation_id, staff_id, ctx.now - CONFIRM_WINDOW
    ):
        raise UserError(T.no_request)
    if ctx.conversation.is_group:
        what, kept = await _erase_in(ctx, conversation_id, staff_id)
        text = ctx.t(T.erased, what=what)
        return text + ("\n" + ctx.t(T.kept, what=kept) if kept else "")
    places = await _everywhere(ctx)
    lines = []
    for cid, label in places:
        what, kept = await _erase_in(ctx, cid, staff_id)
        line = ctx.t(T.erased_in, group=label, what=what)
        lines.append(
            line + ("；" if ctx.lang == "zh" else "; ") + ctx.t(T.kept, what=kept) if kept else line
        )
    return ctx.t(T.erased_all, n=len(places) - 1, what="\n".join(lines))


async def _erase_in(ctx: Context, conversation_id: str, staff_id: str) -> tuple[str, str]:
    """Erase the member's data in one conversation: (what went, what was kept and why)."""
    kept = []
    audit = await ctx.repos.privacy.audit_entries(conversation_id, staff_id)
    if audit:
        kept.append(ctx.t(T.kept_audit, n=audit))
    if await ctx.repos.bans.is_banned(conversation_id, staff_id):
        kept.append(ctx.t(T.kept_ban))
    parts = []
    for section in ctx.commands.privacy:
        n = await section.erase(ctx, conversation_id, staff_id)
        if n and section.kept is not None:
            kept.append(ctx.t(section.kept, n=n))
        elif n:
            title = ctx.t(section.erased_title or section.title)
            parts.append(ctx.t(T.erased_item, title=title, n=n))
    # After the commit, SQLite's WAL is checkpointed so no old page copy keeps the data.
    ctx.session.info[SCRUB] = True
    ctx.log.info("member data erased in %s: %s", conversation_id, parts)
    sep = "，" if ctx.lang == "zh" else ", "
    return sep.join(parts) or ctx.t(T.erased_nothing), sep.join(kept)


@router.action("confirm", kind="forget")
async def confirm_click(ctx: ClickContext) -> CardResponse:
    """The confirm button of the erase card: only the member who asked may press it."""
    if ctx.click.entity_id != ctx.member.staff_id:
        raise UserError(T.not_yours)
    message = await erase_member(ctx, ctx.conversation.id, ctx.member.staff_id)
    return CardResponse(private_data={"message": message})
