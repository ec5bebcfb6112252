"""From the durable inbox to the router and back out through the outbox, one transaction each."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from bot import groups, metrics, safety
from bot.batching import GroupCommit
from bot.clock import Clock
from bot.config import Settings
from bot.context import Context, ConversationRef, Repos
from bot.errors import Failure, FailureSink, UserError, ignore_failure
from bot.events import (
    BOT_MESSAGE_TOPIC,
    CARD_CALLBACK_TOPIC,
    BotMessage,
    CardClick,
    member_id,
    storable,
)
from bot.i18n import Lang, Text, guess_lang
from bot.outbox import outbox_rows, write_replies
from bot.replies import (
    CardReply,
    CardResponse,
    CardUpdate,
    ImageReply,
    MarkdownReply,
    TextReply,
    ToCurrent,
    ToGroup,
)
from bot.router import ActionRoute, CommandTable, NotACommand, Parsed, UnknownCommand
from storage.db import Database, is_transient
from storage.models import CardInstance, InboxEvent, OutboxMessage
from storage.ops import latest_message_payload
from storage.repositories import CardRepo, InboxRepo, MemberRepo

log = logging.getLogger(__name__)


class T:
    """Texts of the dispatcher."""

    hint = Text(
        "你好！我是社区助手。发送 /帮助 查看我能做什么。",
        "Hi! I'm the community bot. Send /help to see what I can do.",
    )
    unknown = Text(
        "没有「{word}」这个命令。发送 /帮助 查看全部命令。",
        "There is no command '{word}'. Send /help for the list.",
    )
    not_text = Text(
        "我只能读文字消息（收到的是{kind}）。发送 /帮助 查看命令。",
        "I can only read text messages (this was {kind}). Send /help for the commands.",
    )
    admin_only = Text(
        "抱歉，{command} 只有管理员可以使用。",
        "Sorry, {command} is for admins only.",
    )
    oops = Text(
        "抱歉，处理这条消息时出了点问题，已记录下来，请稍后再试。（编号 {ref}）",
        "Sorry, something went wrong handling that message. It has been logged; "
        "please try again later. (ref {ref})",
    )
    module_off = Text(
        "本群没有开启「{module}」功能。管理员可以发送 /模块 开启。",
        "The {module} module is off in this group; an admin can turn it on with /modules.",
    )
    banned = Text(
        "抱歉，你在本群暂时不能这样操作。如有疑问请联系群管理员。",
        "Sorry, you can't do that in this group for now. Please ask an admin if unsure.",
    )
    admin_only_click = Text("抱歉，只有管理员可以这样操作。", "Sorry, only admins can do that.")
    card_gone = Text("这张卡片已失效。", "This card is no longer active.")
    card_oops = Text("操作失败，请稍后再试。", "That did not work; please try again later.")


def event_key(topic: str, data: dict[str, Any], frame_id: str) -> str:
    """The de-duplication key: the message's own ``msgId``; the frame id for card clicks."""
    msg_id = data.get("msgId")
    if topic == BOT_MESSAGE_TOPIC and isinstance(msg_id, str) and msg_id:
        return "msg:" + msg_id
    return "frame:" + frame_id


class Dispatcher:
    """Records pushes, processes them through the router, answers card clicks."""

    def __init__(
        self,
        *,
        settings: Settings,
        clock: Clock,
        db: Database,
        commands: CommandTable,
        on_outbox: Callable[[list[OutboxMessage]], None] = lambda rows: None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.db = db
        self.commands = commands
        self.on_outbox = on_outbox
        self._known_conversations: dict[str, str] = {}
        self._cards: dict[str, CardInstance] = {}
        self._clicks: GroupCommit[tuple[str, dict[str, Any]], dict[str, Any]] = GroupCommit(
            self._click_flush, max_batch=128
        )
        self._recorder: GroupCommit[dict[str, Any], int | None] = GroupCommit(self._record_batch)
        # Pushes acked but kept as dead letters (they could not be stored or handled) since
        # this process started; the inbox rows with status "dead" are the durable count.
        self.dead_letters = 0
        self.on_failure: FailureSink = ignore_failure  # handler and click errors (bot.alerts)

    def _context(self, session: Any, **event: Any) -> Context:
        return Context.from_event(
            settings=self.settings,
            clock=self.clock,
            session=session,
            commands=self.commands,
            **event,
        )

    # -- recording (before the ack) --------------------------------------------------------

    async def record(self, topic: str, data: dict[str, Any], frame_id: str) -> int | None:
        """Store a push durably; return its inbox id, or None for a duplicate or a push kept
        as a dead letter (both are acked and not handled). Raises only when nothing could be
        written at all (the database is down): then the push stays unacked and comes again."""
        data = storable(data)
        return await self._recorder.submit(
            {
                "key": event_key(topic, data, frame_id),
                "topic": topic,
                "conversation_id": str(data.get("conversationId", ""))[:200],
                "staff_id": member_id(
                    str(data.get("senderStaffId") or ""), str(data.get("senderId") or "")
                )[:200],
                "payload": data,
            }
        )

    async def _record_batch(self, rows: list[dict[str, Any]]) -> list[int | None]:
        try:
            async with self.db.transaction() as session:
                return await InboxRepo(session).record_many(rows, self.clock.now())
        except Exception as exc:
            if is_transient(exc):
                raise  # the database is away: leave the pushes unacked, DingTalk redelivers
            if len(rows) == 1:
                return [await self._dead_letter(rows[0], exc)]
            # One push must never take its neighbours down: record them one by one.
            log.warning("recording %d pushes failed (%s); one by one", len(rows), _brief(exc))
        return [await self._record_alone(row) for row in rows]

    async def _record_alone(self, row: dict[str, Any]) -> int | None:
        try:
            async with self.db.transaction() as session:
                [event_id] = await InboxRepo(session).record_many([row], self.clock.now())
            return event_id
        except Exception as exc:
            if is_transient(exc):
                raise
            return await self._dead_letter(row, exc)

    async def _dead_letter(self, row: dict[str, Any], exc: BaseException) -> int | None:
        """Keep a push that cannot be recorded as a dead letter (then it is acked). If even
        that fails the database itself is failing: raise, and the push is redelivered."""
        async with self.db.transaction() as session:
            await InboxRepo(session).record_dead(row, _brief(exc), self.clock.now())
        self.dead_letters += 1
        metrics.ERRORS.labels(kind="dead_letter").inc()
        log.error(
            "push %s (%s) could not be recorded (%s); acked and kept as a dead letter",
            row["key"],
            row["topic"],
            _brief(exc),
        )
        return None

    # -- processing (after the ack) --------------------------------------------------------

    async def process_batch(self, event_ids: list[int]) -> None:
        """Handle recorded messages in one transaction: one claim, one member upsert pass and
        one outbox insert for the batch. If anything unexpected fails, the whole batch rolls
        back and its messages are handled one by one, so one bad message spoils nothing else.
        """
        try:
            seen: dict[str, str] = {}
            async with self.db.transaction() as session:
                written = await self._process_in(session, event_ids, seen)
        except Exception as exc:
            if is_transient(exc):
                # Not the messages' fault: they stay recorded and unclaimed (the claim rolled
                # back), and the inbox sweep hands them out again once the database is back.
                log.warning(
                    "database unavailable (%s); %d messages left for the sweep",
                    _brief(exc),
                    len(event_ids),
                )
                return
            if len(event_ids) > 1:
                log.warning(
                    "a batch of %d failed (%s); one by one", len(event_ids), type(exc).__name__
                )
                for event_id in event_ids:
                    await self.process_batch([event_id])
                return
            log.error("inbox event %s failed (%s); apologising", event_ids[0], _brief(exc))
            await self._apologise(event_ids[0], exc)
            return
        self._known_conversations.update(seen)  # only once they are surely written
        if written:
            self.on_outbox(written)

    async def _process_in(
        self, session: Any, event_ids: list[int], seen: dict[str, str]
    ) -> list[OutboxMessage]:
        now = self.clock.now()
        repos = Repos(session)
        contexts: list[tuple[Context, BotMessage]] = []
        for event_id, key, payload in await repos.inbox.claim_many(event_ids, now):
            try:
                message = BotMessage.model_validate_json(payload)
            except ValidationError as exc:
                log.warning("inbox event %s (%s) is not a robot message: %s", event_id, key, exc)
                continue
            ctx = self._context(
                session,
                key=key,
                message=message,
            )
            ctx.use_repos(repos)
            contexts.append((ctx, message))
        seen.update(await self._touch(repos, [message for _, message in contexts], now))
        rows: list[dict[str, Any]] = []
        for ctx, message in contexts:
            await asyncio.sleep(0)  # SQLite runs inline: let pings and frames through
            try:
                await self._route_message(ctx, message)
            except Exception:
                ctx.log.exception("unexpected error handling msgId=%s", message.msg_id)
                raise
            rows += await outbox_rows(ctx)
        return await repos.outbox.add_many(rows)

    async def _touch(
        self, repos: Repos, messages: list[BotMessage], now: datetime
    ) -> dict[str, str]:
        # Conversations this process already knows (with the same title) need no write.
        new: dict[str, dict[str, Any]] = {
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
        await repos.members.touch_members(
            [
                {
                    "conversation_id": m.conversation_id,
                    "staff_id": m.staff_id[:200],
                    "nick": m.sender_nick[:200],
                    "admin": m.is_admin,
                    "now": now,
                }
                for m in messages
            ]
        )
        return {c["id"]: c["title"] for c in new.values()}

    async def _route_message(self, ctx: Context, message: BotMessage) -> None:
        text = message.plain_text
        if text is None:
            ctx.reply(ctx.t(T.not_text, kind=_kind_name(message.msgtype, ctx)))
            return
        choice = ""
        if not message.is_group:
            text, choice = groups.split_choice(text)
        try:
            resolution = self.commands.resolve(text)
        except UserError as exc:
            ctx.reply(ctx.t(exc.text, **exc.params))
            return
        if isinstance(resolution, NotACommand):
            ctx.lang = resolution.lang
            ctx.reply(ctx.t(T.hint))
            return
        if isinstance(resolution, UnknownCommand):
            ctx.lang = resolution.lang
            ctx.reply(ctx.t(T.unknown, word=resolution.word))
            return
        await self.run_command(ctx, resolution, group_choice=choice)

    async def run_command(self, ctx: Context, parsed: Parsed, *, group_choice: str = "") -> None:
        """Settle the group of a one-to-one command, check module, admin and ban from the
        spec, run the handler in a savepoint, turn ``UserError`` into a reply, and audit
        admin commands."""
        ctx.lang = parsed.lang
        spec = parsed.route.spec
        if spec.needs_group and ctx.conversation is not None and not ctx.conversation.is_group:
            try:
                group = await groups.choose(ctx, parsed, group_choice)
            except UserError as exc:
                ctx.reply(ctx.t(exc.text, **exc.params))
                return
            ctx.origin, ctx.conversation = ctx.conversation, group
        refusal = await self._refusal(ctx, spec.module, admin=spec.admin, acts=spec.acts)
        if refusal is not None:
            ctx.log.warning("/%s refused: %s", spec.name, refusal)
            ctx.reply(refusal.replace("{command}", "/" + parsed.used_name))
            return
        savepoint = await ctx.session.begin_nested()
        mark = len(ctx.replies)
        try:
            result = await parsed.route.handler(ctx, **parsed.kwargs)
        except UserError as exc:
            await savepoint.rollback()
            del ctx.replies[mark:]
            ctx.reply(ctx.t(exc.text, **exc.params))
            return
        await savepoint.commit()
        if spec.admin:
            await self._audit(ctx, "/" + spec.name, parsed.kwargs)
        add_result(ctx, result)
        if ctx.origin is not None and ctx.conversation is not None:
            _name_the_group(ctx, mark)

    @staticmethod
    async def _refusal(ctx: Context, module: str | None, *, admin: bool, acts: bool) -> str | None:
        """Why the member may not do this here, or None. One place for every command and
        button: a module switched off, an admin-only action, a banned member."""
        assert ctx.conversation is not None and ctx.member is not None
        if module is not None and module in await ctx.repos.groups.disabled_modules(
            ctx.conversation.id
        ):
            return ctx.t(T.module_off, module=ctx.t(MODULE_NAMES.get(module, Text(module, module))))
        if admin and not ctx.is_admin:
            return ctx.t(
                T.admin_only if ctx.click is None else T.admin_only_click, command="{command}"
            )
        if acts and await ctx.repos.bans.is_banned(ctx.conversation.id, ctx.member.staff_id):
            return ctx.t(T.banned)
        return None

    async def _audit(self, ctx: Context, action: str, detail: dict[str, Any]) -> None:
        assert ctx.conversation is not None and ctx.member is not None
        if ctx.audit_detail is not None:
            text = ctx.audit_detail
        else:
            # The arguments as the admin gave them, read by people: no keys, no reprs.
            text = safety.plain(
                " ".join(_audit_value(v) for v in detail.values() if v not in (None, [], ""))
            )
        await ctx.repos.audit.record(
            ctx.conversation.id, ctx.member.staff_id, action, text, ctx.now
        )

    async def _apologise(self, event_id: int, error: BaseException) -> None:
        failure = Failure("handler", "?", error, key=f"inbox:{event_id}", detail=_brief(error))
        try:
            async with self.db.transaction() as session:
                repo = InboxRepo(session)
                row = await session.get(InboxEvent, event_id)
                if row is None or row.status != "received":
                    return
                await repo.mark(event_id, "failed", self.clock.now(), _brief(error))
                message = BotMessage.model_validate(json.loads(row.payload))
                failure = replace(
                    failure,
                    where=_command_word(message.plain_text),
                    key=row.key,
                    conversation=message.conversation_id,
                    member=message.staff_id,
                )
                ctx = self._context(
                    session,
                    key=row.key,
                    message=message,
                )
                ctx.lang = guess_lang(message.plain_text or "")
                ctx.reply(ctx.t(T.oops, ref=event_id))
                rows = await write_replies(ctx)
        except Exception as exc:
            if is_transient(exc):
                log.warning("inbox event %s left for the sweep (%s)", event_id, _brief(exc))
                return
            log.exception("could not even apologise for inbox event %s", event_id)
            self.on_failure(failure)
            await self._bury(event_id, f"{_brief(error)}; apology: {_brief(exc)}")
            return
        self.on_failure(failure)
        self.on_outbox(rows)

    async def _bury(self, event_id: int, error: str) -> None:
        """An event that can be neither handled nor apologised for becomes a dead letter, so
        the sweep never retries it (it would fail the same way every few seconds, forever)."""
        try:
            async with self.db.transaction() as session:
                await InboxRepo(session).mark(event_id, "dead", self.clock.now(), error)
        except Exception:
            log.exception("inbox event %s could not be marked dead", event_id)
            return
        self.dead_letters += 1
        metrics.ERRORS.labels(kind="dead_letter").inc()
        log.error("inbox event %s kept as a dead letter: %s", event_id, error)

    # -- card clicks (answered inside the ack) ---------------------------------------------

    async def click(self, data: dict[str, Any], frame_id: str) -> dict[str, Any]:
        """Record and handle a card click; return the ack's response (the card's update).

        Clicks arriving together share one transaction and are handled in arrival order:
        consecutive clicks on a batch action's button as one run (in one savepoint), any
        other click in a savepoint of its own. A storm of clicks is answered quickly and
        strictly first come, first served.
        """
        data = storable(data)
        key = event_key(CARD_CALLBACK_TOPIC, data, frame_id)
        try:
            with metrics.timed(metrics.CLICK_LATENCY):
                return await self._clicks.submit((key, data))
        except Exception:
            log.exception("card click %s could not be handled", key)
            return CardResponse(private_data={"message": T.card_oops.zh}).to_wire()

    async def _click_flush(self, clicks: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        """Handle clicks together; if that fails, one by one, so one bad click spoils nothing
        for the clicks that arrived with it."""
        try:
            return await self._click_batch(clicks)
        except Exception as exc:
            if len(clicks) == 1:
                return [await self._click_failed(clicks[0], exc)]
            log.warning("a batch of %d clicks failed (%s); one by one", len(clicks), _brief(exc))
        return [await self._click_alone(click) for click in clicks]

    async def _click_alone(self, click: tuple[str, dict[str, Any]]) -> dict[str, Any]:
        try:
            [response] = await self._click_batch([click])
            return response
        except Exception as exc:
            return await self._click_failed(click, exc)

    async def _click_failed(
        self, click: tuple[str, dict[str, Any]], exc: BaseException
    ) -> dict[str, Any]:
        key, data = click
        if isinstance(exc, IntegrityError):
            # The same click redelivered while another process handled it: answer alike.
            async with self.db.transaction() as session:
                row = await InboxRepo(session).by_key(key)
            if row is not None:
                return json.loads(row.response) if row.response else {}
        log.error("card click %s failed", key, exc_info=exc)
        self.on_failure(
            Failure(
                "click",
                _click_verb(data),
                exc,
                key=key,
                member=str(data.get("userId", "")),
                detail=_brief(exc),
            )
        )
        await self._dead_letter(
            {
                "key": key,
                "topic": CARD_CALLBACK_TOPIC,
                "conversation_id": "",
                "staff_id": str(data.get("userId", ""))[:200],
                "payload": data,
            },
            exc,
        )
        lang = await self._clicker_lang(str(data.get("userId", "")))
        return CardResponse(private_data={"message": T.card_oops.render(lang)}).to_wire()

    async def _clicker_lang(self, staff_id: str) -> Lang:
        """The language of the member's latest message anywhere; Chinese when unsure."""
        try:
            async with self.db.transaction() as session:
                return await _member_lang(session, None, staff_id)
        except Exception:  # the answer matters more than its language
            log.warning("could not tell the language of %s", staff_id, exc_info=True)
            return "zh"

    async def _click_batch(self, clicks: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        now = self.clock.now()
        async with self.db.transaction() as session:
            repos = Repos(session)
            items = [await self._clicked(session, key, data) for key, data in clicks]
            event_ids = await repos.inbox.record_many(
                [
                    {
                        "key": item.key,
                        "topic": CARD_CALLBACK_TOPIC,
                        "conversation_id": item.card.conversation_id if item.card else "",
                        "staff_id": str(item.data.get("userId", ""))[:200],
                        "payload": item.data,
                    }
                    for item in items
                ],
                now,
                status="done",
            )
            fresh = [item for item, event_id in zip(items, event_ids, strict=True) if event_id]
            acting: dict[str, list[str]] = {}  # read the bans of a batch in one query a group
            for item in fresh:
                if item.route is not None and item.route.acts and item.card and item.click:
                    acting.setdefault(item.card.conversation_id, []).append(item.click.user_id)
            for conversation_id, staff_ids in acting.items():
                await repos.bans.banned_among(conversation_id, staff_ids)
            start = 0
            while start < len(fresh):
                await asyncio.sleep(0)  # SQLite runs inline: let pings and frames through
                route = fresh[start].route
                end = start + 1
                if route is not None and route.batch is not None:
                    while end < len(fresh) and fresh[end].route is route:
                        end += 1
                await self._click_run(session, repos, fresh[start:end])
                start = end
            answered = {item.key: item.response for item in fresh}
            await repos.inbox.set_responses(
                [
                    (event_id, item.response)
                    for item, event_id in zip(items, event_ids, strict=True)
                    if event_id and item.response is not None
                ]
            )
            rows: list[dict[str, Any]] = []
            for item in fresh:
                if item.ctx is not None and item.ctx.replies:
                    rows += await outbox_rows(item.ctx)
            written = await repos.outbox.add_many(rows) if rows else []
            responses = [
                await self._answer(repos, item, event_id, answered)
                for item, event_id in zip(items, event_ids, strict=True)
            ]
        if written:
            self.on_outbox(written)
        return responses

    async def _clicked(self, session: Any, key: str, data: dict[str, Any]) -> _Clicked:
        try:
            click: CardClick | None = CardClick.from_data(data)
        except ValidationError:
            click = None
        card = await self._card(session, click.out_track_id) if click is not None else None
        if click is not None and card is not None and "id" not in click.params:
            # A button that sends only the constant ``action`` (the tutorial's builder sets
            # 回传参数 as constants; docs/cards.md) acts on the entity this database put on the
            # card, found by its outTrackId (unique forever). An id the button does send is
            # checked by the handler as before.
            click = click.model_copy(update={"params": {**click.params, "id": card.entity_id}})
        route = (
            self.commands.action(click.action, card.kind)
            if click is not None and card is not None and _on_card(click, card)
            else None
        )
        return _Clicked(key, data, click, card, route)

    @staticmethod
    async def _answer(
        repos: Repos,
        item: _Clicked,
        event_id: int | None,
        answered: dict[str, dict[str, Any] | None],
    ) -> dict[str, Any]:
        if event_id:
            return item.response or {}
        if item.key in answered:  # the same click twice in one batch
            return answered[item.key] or {}
        existing = await repos.inbox.by_key(item.key)  # a redelivery: the first answer
        return json.loads(existing.response) if existing and existing.response else {}

    async def _click_run(self, session: Any, repos: Repos, run: list[_Clicked]) -> None:
        """Handle consecutive clicks on one button together (a batch action) or a single
        click; each gets ``response`` and, when it changed something, ``ctx``."""
        route = run[0].route
        allowed: list[_Clicked] = []
        for item in run:
            if route is None or item.card is None or item.click is None:
                log.info("click %s on an unknown card or button", item.key)
                item.response = CardResponse(private_data={"message": T.card_gone.zh}).to_wire()
                continue
            # DingTalk's admin flag (remembered from messages) matters only for admin buttons.
            member = (
                await MemberRepo(session).get(item.card.conversation_id, item.click.user_id)
                if route.admin
                else None
            )
            item.ctx = self._context(
                session,
                key=item.key,
                click=item.click,
                conversation=ConversationRef(item.card.conversation_id),
                dingtalk_admin=member is not None and member.dingtalk_admin,
            )
            item.ctx.use_repos(repos)
            refusal = await self._refusal(
                item.ctx, route.module, admin=route.admin, acts=route.acts
            )
            if refusal is not None:
                item.ctx.log.warning("card action %r refused: %s", item.click.action, refusal)
                item.response = CardResponse(private_data={"message": refusal}).to_wire()
                item.ctx = None
                continue
            allowed.append(item)
        if not allowed or route is None:
            return
        savepoint = await session.begin_nested()
        try:
            answers = await self._run_action(route, [item.ctx for item in allowed if item.ctx])
        except UserError as exc:
            await savepoint.rollback()
            for item in allowed:
                assert item.ctx is not None
                item.response = _refused(item.ctx, exc)
                item.ctx = None
            return
        except Exception:
            await savepoint.rollback()
            if len(allowed) > 1:
                log.warning("a run of %d clicks failed; one by one", len(allowed))
                for item in allowed:
                    await self._click_run(session, repos, [item])
                return
            item = allowed[0]
            assert item.ctx is not None and item.card is not None and item.click is not None
            log.exception("unexpected error handling card click %s", item.key)
            self.on_failure(
                Failure(
                    "click",
                    item.click.action,
                    key=item.key,
                    conversation=item.card.conversation_id,
                    member=item.click.user_id,
                )
            )
            item.ctx.lang = await _member_lang(
                session, item.card.conversation_id, item.click.user_id
            )
            item.response = CardResponse(
                private_data={"message": item.ctx.t(T.card_oops)}
            ).to_wire()
            item.ctx = None
            return
        await savepoint.commit()
        for item, answer in zip(allowed, answers, strict=True):
            assert item.ctx is not None and item.click is not None and item.card is not None
            if isinstance(answer, UserError):
                item.response = _refused(item.ctx, answer)
                item.ctx = None
                continue
            item.response = answer.to_wire()
            if route.admin:
                await self._audit(
                    item.ctx,
                    f"card:{item.click.action}",
                    {"card": item.card.kind, "id": item.click.entity_id},
                )

    @staticmethod
    async def _run_action(
        route: ActionRoute, ctxs: list[Context]
    ) -> list[CardResponse | UserError]:
        if route.batch is not None:
            answers = list(await route.batch(ctxs))
            if len(answers) != len(ctxs):
                raise RuntimeError(f"{route.verb}: {len(answers)} answers for {len(ctxs)} clicks")
            return answers
        assert route.handler is not None and len(ctxs) == 1
        return [await route.handler(ctxs[0])]

    async def _card(self, session: Any, out_track_id: str) -> CardInstance | None:
        """A delivered card (they never change, so each process remembers the ones it saw)."""
        card = self._cards.get(out_track_id)
        if card is None:
            card = await CardRepo(session).get(out_track_id)
            if card is not None:
                session.expunge(card)
                self._cards[out_track_id] = card
        return card


def _name_the_group(ctx: Context, mark: int) -> None:
    """Answers to a one-to-one command that ran in a group: the first starts with the
    group's name; a story or activity card, a post for the group, goes into the group."""
    assert ctx.conversation is not None
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


def _audit_value(value: object) -> str:
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _on_card(click: CardClick, card: CardInstance) -> bool:
    """Whether the click's verb is one of the card's buttons and its id the card's entity:
    a forged click (an "approve" sent on an event card) is refused and logged. Cards with
    no recorded buttons (delivered before they were recorded) are judged by kind alone."""
    if not card.actions:
        return True
    if click.action in card.actions.split(",") and click.entity_id == card.entity_id:
        return True
    log.warning(
        "forged click refused: %r on %r for %s card %s (entity %s, buttons %s)",
        click.action[:40],
        click.entity_id[:40],
        card.kind,
        card.out_track_id,
        card.entity_id,
        card.actions,
    )
    return False


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _command_word(text: str | None) -> str:
    """The command a failed message asked for, as the operator will read it (inert text)."""
    word = (text or "").strip().split(maxsplit=1)[0] if (text or "").strip() else "（非命令）"
    return safety.plain(word[:30])


def _click_verb(data: dict[str, Any]) -> str:
    try:
        click = CardClick.from_data(data)
    except (ValidationError, ValueError, TypeError):
        return "?"
    return safety.plain(click.action[:30])


async def _member_lang(session: Any, conversation_id: str | None, staff_id: str) -> Lang:
    """The language of the member's latest message here (clicks carry no text)."""
    payload = await latest_message_payload(session, staff_id, conversation_id)
    if payload is None:
        return "zh"
    try:
        return guess_lang(BotMessage.model_validate_json(payload).plain_text or "")
    except ValidationError:
        return "zh"


def _refused(ctx: Context, exc: UserError) -> dict[str, Any]:
    ctx.replies.clear()
    return CardResponse(private_data={"message": ctx.t(exc.text, **exc.params)}).to_wire()


@dataclass(slots=True)
class _Clicked:
    """A card click on its way through a batch."""

    key: str
    data: dict[str, Any]
    click: CardClick | None
    card: CardInstance | None
    route: ActionRoute | None
    ctx: Context | None = None
    response: dict[str, Any] | None = None


MODULE_NAMES = {
    "stories": Text("故事", "stories"),
    "skills": Text("技能交换", "skill swaps"),
    "volunteers": Text("志愿活动", "volunteering"),
    "digest": Text("周报", "weekly digest"),
}

_KINDS = {
    "picture": Text("图片", "a picture"),
    "audio": Text("语音", "a voice message"),
    "video": Text("视频", "a video"),
    "file": Text("文件", "a file"),
    "richText": Text("图文消息", "a rich-text message"),
}


def _kind_name(msgtype: str, ctx: Context) -> str:
    return ctx.t(_KINDS.get(msgtype, Text("非文字消息", "not text")))


def add_result(ctx: Context, result: object) -> None:
    """Accept what a handler returned: None, a string, a ``Text``, a reply, or a list of them."""
    if result is None:
        return
    if isinstance(result, list | tuple):
        for item in result:
            add_result(ctx, item)
    elif isinstance(result, Text):
        ctx.reply(ctx.t(result))
    elif isinstance(result, (str, TextReply | MarkdownReply | CardReply | ImageReply | CardUpdate)):
        ctx.reply(result)
    else:
        raise TypeError(f"a handler returned {type(result).__name__}")
