"""Robot messages, from the inbox to the router and back out through the outbox.

The workers of ``bot.inbox`` hand over batches of recorded message ids; each batch is one
transaction: claim the rows, remember conversations and members, resolve each text to a
command (``bot.router``), run it through the guard (``bot.guard``: refusal, savepoint,
``UserError``, audit) and write the replies to the outbox. Card clicks go through
``bot.clicks`` instead (they are answered inside their ack).
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import groups, guard, safety
from bot.batching import one_turn
from bot.commands import NotACommand, Parsed, UnknownCommand
from bot.context import MessageContext, Repos
from bot.errors import Failure, UserError, brief
from bot.events import BotMessage
from bot.i18n import Text, guess_lang
from bot.inbox import BATCH, Handler, Handling
from bot.outbox import outbox_rows, write_replies
from bot.replies import (
    CardReply,
    CardUpdate,
    FileReply,
    ImageReply,
    MarkdownReply,
    TextReply,
    ToCurrent,
    ToGroup,
)
from bot.router import HandlerResult
from storage.db import is_transient
from storage.models import InboxEvent, OutboxMessage
from storage.outbox import OutboxRow
from storage.repositories import ConversationRow, InboxRepo, MemberRow

log = logging.getLogger(__name__)

# What a picture sent alone is handled as (handlers.stories.pictures_cmd).
PICTURE_ALONE = "/故事 图片"


# A confirmation word sent alone, as an answer to a question that asked for the command.
BARE_CONFIRM = frozenset({"确认", "确定", "confirm"})


class T:
    """Texts of the message dispatcher."""

    hint = Text(
        "你好！我是社区助手。发送 /帮助 查看我能做什么。",
        "Hi! I'm the community bot. Send /help to see what I can do.",
    )
    bare_confirm = Text(
        "「{word}」要跟在命令后面一起发送，例如：/删除我的数据 确认（10 分钟内有效）、"
        "/交换 确认 <交换编号>。",
        "'{word}' goes after the command, in one message: for example /forget confirm "
        "(within 10 minutes), /swap confirm <swap id>.",
    )
    unknown = Text(
        "没有「{word}」这个命令。发送 /帮助 查看全部命令。",
        "There is no command '{word}'. Send /help for the list.",
    )
    not_text = Text(
        "我只能读文字消息（收到的是{kind}）。发送 /帮助 查看命令。",
        "I can only read text messages (this was {kind}). Send /help for the commands.",
    )
    oops = Text(
        "抱歉，处理这条消息时出了点问题，已记录下来，请稍后再试。（编号 {ref}）",
        "Sorry, something went wrong handling that message. It has been logged; "
        "please try again later. (ref {ref})",
    )


class Dispatcher(Handler):
    """Handles batches of recorded robot messages, one transaction a batch."""

    def __init__(self, parts: Handling) -> None:
        super().__init__(parts)
        self._known_conversations: dict[str, str] = {}
        self._claim = BATCH  # messages the next part claims (``process_batch``)

    def _context(self, session: AsyncSession, key: str, message: BotMessage) -> MessageContext:
        return MessageContext.create(
            settings=self.settings,
            clock=self.clock,
            session=session,
            commands=self.commands,
            key=key,
            message=message,
        )

    async def process_batch(self, event_ids: list[int]) -> None:
        """Handle recorded messages, a part of the batch a transaction: one claim, one member
        upsert pass and one outbox insert a part. If anything unexpected fails, the whole
        part rolls back and its messages are handled one by one, so one bad message spoils
        nothing else.

        A part ends early when pushes wait to be recorded (``Inbox.recording``): on SQLite
        the part's transaction holds the only write lock, and a push is acked only once it
        is recorded, so its ack would wait for the whole batch (about 5 ms a message). The
        messages not handled yet are given back (``unclaim_many``) in the part's own
        transaction, the part commits, the recorder goes first, and the next part takes
        them in order. A part claims as many messages as the last one handled before it was
        cut (twice as many when it was not), so a steady stream of pushes costs little.
        PostgreSQL has no such lock (the recorder writes beside the batch), so a batch there
        is never cut: it would only add commits (measured: no gain in ack latency)."""
        remaining = list(event_ids)
        while remaining:
            part = remaining[: self._claim]
            try:
                seen: dict[str, str] = {}
                async with self.db.transaction() as session:
                    written, left = await self._process_in(session, part, seen)
            except Exception as exc:
                if is_transient(exc):
                    # Not the messages' fault: they stay recorded and unclaimed (the claim
                    # rolled back), and the inbox sweep hands them out again once the
                    # database is back.
                    log.warning(
                        "database unavailable (%s); %d messages left for the sweep",
                        brief(exc),
                        len(remaining),
                    )
                    return
                remaining = remaining[len(part) :]
                if len(part) > 1:
                    log.warning(
                        "a batch of %d failed (%s); one by one", len(part), type(exc).__name__
                    )
                    for event_id in part:
                        await self.process_batch([event_id])
                    continue
                log.error("inbox event %s failed (%s); apologising", part[0], brief(exc))
                await self._apologise(part[0], exc)
                continue
            self._known_conversations.update(seen)  # only once they are surely written
            if written:
                self.on_outbox(written)
            remaining = left + remaining[len(part) :]
            if left:
                self._claim = max(1, len(part) - len(left))
                await self.inbox.recorded()  # the acks first, then the rest of the batch
            else:
                self._claim = min(BATCH, self._claim * 2)

    async def _process_in(
        self, session: AsyncSession, event_ids: list[int], seen: dict[str, str]
    ) -> tuple[list[OutboxMessage], list[int]]:
        """Handle ``event_ids`` in ``session``; the outbox rows written, and the ids given
        back unhandled because pushes wait to be recorded."""
        now = self.clock.now()
        repos = Repos(session)
        contexts: list[tuple[int, MessageContext]] = []
        for event_id, key, payload in await repos.inbox.claim_many(event_ids, now):
            try:
                message = BotMessage.model_validate_json(payload)
            except ValidationError as exc:
                log.warning("inbox event %s (%s) is not a robot message: %s", event_id, key, exc)
                continue
            ctx = self._context(session, key, message)
            ctx.use_repos(repos)
            contexts.append((event_id, ctx))
        seen.update(await self._touch(repos, [ctx.message for _, ctx in contexts], now))
        rows: list[OutboxRow] = []
        left: list[int] = []
        for index, (_, ctx) in enumerate(contexts):
            # SQLite runs inline: let pings, frames and timers through before each message
            # (after one sleep(0) the next message would still run ahead of them).
            await one_turn()
            if index and self.db.is_sqlite and self.inbox.recording:
                left = [event_id for event_id, _ in contexts[index:]]
                await repos.inbox.unclaim_many(left)
                break
            try:
                await self._route_message(ctx)
            except Exception:
                ctx.log.exception("unexpected error handling msgId=%s", ctx.message.msg_id)
                raise
            rows += await outbox_rows(ctx)
        return await repos.outbox.add_many(rows), left

    async def _touch(
        self, repos: Repos, messages: list[BotMessage], now: datetime
    ) -> dict[str, str]:
        # Conversations this process already knows (with the same title) need no write.
        new: dict[str, ConversationRow] = {
            m.conversation_id: {
                "id": m.conversation_id,
                "type": m.conversation_type,
                "title": m.conversation_title[:200],
                "first_seen_at": now,
                "last_seen_at": now,
            }
            for m in messages
            if self._known_conversations.get(m.conversation_id) != m.conversation_title[:200]
        }
        await repos.members.touch_conversations(list(new.values()))
        members: list[MemberRow] = [
            {
                "conversation_id": m.conversation_id,
                "staff_id": m.staff_id[:200],
                "nick": m.sender_nick[:200],
                "admin": m.is_admin,
                "now": now,
            }
            for m in messages
        ]
        await repos.members.touch_members(members)
        return {c["id"]: c["title"] for c in new.values()}

    async def _route_message(self, ctx: MessageContext) -> None:
        message = ctx.message
        text = message.plain_text
        if text is None and message.msgtype == "picture" and message.pictures:
            # A picture sent alone joins the member's story of the last minutes (the
            # stories feature's hidden command; without it, the hint below).
            known = not isinstance(
                self.commands.resolve(PICTURE_ALONE), UnknownCommand | NotACommand
            )
            text = PICTURE_ALONE if known else None
        if text is None:
            ctx.reply(ctx.t(T.not_text, kind=_kind_name(message.msgtype, ctx)))
            return
        choice = ""
        if not message.is_group:
            text, choice = groups.split_choice(text)
        try:
            today = ctx.now.astimezone(ctx.settings.bot.tz).date()
            resolution = self.commands.resolve(text, today)
        except UserError as exc:
            ctx.reply(ctx.t(exc.text, **exc.params))
            return
        if isinstance(resolution, NotACommand):
            ctx.lang = resolution.lang
            word = text.strip().strip("。.!！ ")
            if word.casefold() in BARE_CONFIRM:
                # An answer to "send /删除我的数据 确认": said alone, it would get the
                # greeting and the member would believe the erasure done.
                ctx.reply(ctx.t(T.bare_confirm, word=word))
                return
            ctx.reply(ctx.t(T.hint))
            return
        if isinstance(resolution, UnknownCommand):
            ctx.lang = resolution.lang
            ctx.reply(ctx.t(T.unknown, word=resolution.word))
            return
        await self.run_command(ctx, resolution, group_choice=choice)

    async def run_command(
        self, ctx: MessageContext, parsed: Parsed, *, group_choice: str = ""
    ) -> None:
        """Settle the group of a one-to-one command, then the guarded run: refusal (module,
        admin, ban, from the spec), the handler in a savepoint, ``UserError`` as the reply,
        and the audit of admin commands."""
        ctx.lang = parsed.lang
        spec = parsed.route.spec
        if spec.needs_group and not ctx.conversation.is_group:
            try:
                group = await groups.choose(ctx, parsed, group_choice)
            except UserError as exc:
                ctx.reply(ctx.t(exc.text, **exc.params))
                return
            ctx.origin, ctx.conversation = ctx.conversation, group
        refusal = await guard.refusal(ctx, spec.module, admin=spec.admin, acts=spec.acts)
        if refusal is not None:
            # The name the member used, in the log line as in the reply (never "{command}").
            refusal = refusal.replace("{command}", "/" + parsed.used_name)
            ctx.log.warning("/%s refused: %s", spec.name, refusal)
            ctx.reply(refusal)
            return
        mark = len(ctx.replies)
        try:
            async with guard.savepoint(ctx.session, ctx):
                result = await parsed.route.handler(ctx, **parsed.kwargs)
        except UserError as exc:
            ctx.reply(ctx.t(exc.text, **exc.params))
            return
        if spec.admin:
            await guard.audit(ctx, "/" + spec.name, parsed.kwargs)
        add_result(ctx, result)
        if ctx.origin is not None:
            _name_the_group(ctx, mark)

    async def _apologise(self, event_id: int, error: BaseException) -> None:
        failure = Failure("handler", "?", error, key=f"inbox:{event_id}", detail=brief(error))
        try:
            async with self.db.transaction() as session:
                repo = InboxRepo(session)
                row = await session.get(InboxEvent, event_id)
                if row is None or row.status != "received":
                    return
                await repo.mark(event_id, "failed", self.clock.now(), brief(error))
                message = BotMessage.model_validate(json.loads(row.payload))
                failure = replace(
                    failure,
                    where=_command_word(message.plain_text),
                    key=row.key,
                    conversation=message.conversation_id,
                    member=message.staff_id,
                )
                ctx = self._context(session, row.key, message)
                ctx.lang = guess_lang(message.plain_text or "")
                ctx.reply(ctx.t(T.oops, ref=event_id))
                rows = await write_replies(ctx)
        except Exception as exc:
            if is_transient(exc):
                log.warning("inbox event %s left for the sweep (%s)", event_id, brief(exc))
                return
            log.exception("could not even apologise for inbox event %s", event_id)
            self.on_failure(failure)
            await self.inbox.bury(event_id, f"{brief(error)}; apology: {brief(exc)}")
            return
        self.on_failure(failure)
        self.on_outbox(rows)


def _name_the_group(ctx: MessageContext, mark: int) -> None:
    """Answers to a one-to-one command that ran in a group: the first starts with the
    group's name; a story or activity card, a post for the group, goes into the group."""
    tag = ctx.t(groups.T.prefix, group=ctx.conversation.title or ctx.t(groups.T.untitled))
    tagged = False
    for index in range(mark, len(ctx.replies)):
        reply = ctx.replies[index]
        if isinstance(reply, TextReply) and isinstance(reply.to, ToCurrent) and not tagged:
            ctx.replies[index] = reply.model_copy(update={"content": tag + reply.content})
            tagged = True
        elif (
            isinstance(reply, CardReply)
            and reply.kind in groups.GROUP_POSTS
            and isinstance(reply.to, ToCurrent)
        ):
            target = ToGroup(conversation_id=ctx.conversation.id)
            ctx.replies[index] = reply.model_copy(update={"to": target})


def _command_word(text: str | None) -> str:
    """The command a failed message asked for, as the operator will read it (inert text)."""
    word = (text or "").strip().split(maxsplit=1)[0] if (text or "").strip() else "（非命令）"
    return safety.plain(word[:30])


_KINDS = {
    "picture": Text("图片", "a picture"),
    "audio": Text("语音", "a voice message"),
    "video": Text("视频", "a video"),
    "file": Text("文件", "a file"),
    "richText": Text("图文消息", "a rich-text message"),
}


def _kind_name(msgtype: str, ctx: MessageContext) -> str:
    return ctx.t(_KINDS.get(msgtype, Text("非文字消息", "not text")))


def add_result(ctx: MessageContext, result: HandlerResult) -> None:
    """Accept what a handler returned: None, a string, a ``Text``, a reply, or a list of them."""
    if result is None:
        return
    if isinstance(result, Text):
        ctx.reply(ctx.t(result))
    elif isinstance(
        result, str | TextReply | MarkdownReply | CardReply | ImageReply | FileReply | CardUpdate
    ):
        ctx.reply(result)
    else:
        for item in result:
            add_result(ctx, item)
