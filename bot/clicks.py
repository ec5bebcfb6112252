"""Card clicks: recorded, routed to their button's handler and answered inside the ack.

DingTalk waits about 2 s for a card callback's answer (the card updates from it), so a click
is handled while its frame waits: clicks arriving together share one transaction
(``GroupCommit``) in which they are recorded in the inbox (already ``done``), checked
(``bot.guard.refusal``), run in savepoints (``bot.guard.savepoint``) and answered; their
replies go to the outbox in the same transaction. A redelivered click gets the first answer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import guard, metrics
from bot.batching import GroupCommit
from bot.click_match import Answer, CardMatcher, Clicked, click_verb
from bot.context import ClickContext, ConversationRef, Repos
from bot.errors import Failure, UserError, brief
from bot.events import CARD_CALLBACK_TOPIC, BotMessage, storable
from bot.i18n import Lang, Text, guess_lang
from bot.inbox import Handler, Handling, event_key, inbox_row
from bot.outbox import outbox_rows
from bot.replies import CardResponse
from bot.router import ActionRoute
from storage.ops import latest_message_payload
from storage.outbox import OutboxRow
from storage.repositories import InboxRepo, MemberRepo

log = logging.getLogger(__name__)


class T:
    """Texts of the click handling."""

    card_gone = Text("这张卡片已失效。", "This card is no longer active.")
    card_oops = Text("操作失败，请稍后再试。", "That did not work; please try again later.")


class Clicks(Handler):
    """Answers card clicks: one transaction for the clicks that arrive together."""

    def __init__(self, parts: Handling) -> None:
        super().__init__(parts)
        self._cards = CardMatcher()
        # A storm's batches: each pays a dozen statements (the transaction, the activity's
        # lock and counts, the bans, the savepoint) however many clicks it takes; 256 a batch
        # spend 12% less CPU a click than 128 did, and with a yield between a batch's steps
        # no step holds the loop longer than a batch of 128 did in one piece.
        self._clicks: GroupCommit[tuple[str, dict[str, Any]], Answer] = GroupCommit(
            self._flush, max_batch=256
        )

    async def click(self, data: dict[str, Any], frame_id: str) -> Answer:
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

    async def _flush(self, clicks: list[tuple[str, dict[str, Any]]]) -> list[Answer]:
        """Handle clicks together; if that fails, one by one, so one bad click spoils nothing
        for the clicks that arrived with it."""
        try:
            return await self._batch(clicks)
        except Exception as exc:
            if len(clicks) == 1:
                return [await self._failed(clicks[0], exc)]
            log.warning("a batch of %d clicks failed (%s); one by one", len(clicks), brief(exc))
        return [await self._alone(click) for click in clicks]

    async def _alone(self, click: tuple[str, dict[str, Any]]) -> Answer:
        try:
            [response] = await self._batch([click])
            return response
        except Exception as exc:
            return await self._failed(click, exc)

    async def _failed(self, click: tuple[str, dict[str, Any]], exc: BaseException) -> Answer:
        key, data = click
        if isinstance(exc, IntegrityError):
            # The same click redelivered while another process handled it: answer alike.
            async with self.db.transaction() as session:
                answer = await InboxRepo(session).answer(key)
            if answer is not None:
                return answer
        log.error("card click %s failed", key, exc_info=exc)
        user = str(data.get("userId", ""))
        self.on_failure(
            Failure("click", click_verb(data), exc, key=key, member=user, detail=brief(exc))
        )
        dead = inbox_row(CARD_CALLBACK_TOPIC, key, data, conversation_id="", staff_id=user)
        await self.inbox.dead_letter(dead, exc)
        lang = await self._clicker_lang(user)
        return CardResponse(private_data={"message": T.card_oops.render(lang)}).to_wire()

    async def _clicker_lang(self, staff_id: str) -> Lang:
        """The language of the member's latest message anywhere; Chinese when unsure."""
        try:
            async with self.db.transaction() as session:
                return await _member_lang(session, None, staff_id)
        except Exception:  # the answer matters more than its language
            log.warning("could not tell the language of %s", staff_id, exc_info=True)
            return "zh"

    async def _batch(self, clicks: list[tuple[str, dict[str, Any]]]) -> list[Answer]:
        # In a storm the next batch starts as soon as one is answered: first let the clicks
        # just answered send their acks (their frames' tasks wait for this loop's turn).
        await asyncio.sleep(0)
        now = self.clock.now()
        async with self.db.transaction() as session:
            repos = Repos(session)
            items = [
                await self._cards.match(session, self.commands, key, data) for key, data in clicks
            ]
            # SQLite runs inline: between the steps of a batch, let pings and frames through
            # (a batch of a storm is several milliseconds of work in each step).
            await asyncio.sleep(0)
            event_ids = await repos.inbox.record_many(
                [
                    inbox_row(
                        CARD_CALLBACK_TOPIC,
                        item.key,
                        item.data,
                        conversation_id=item.card.conversation_id if item.card else "",
                        staff_id=str(item.data.get("userId", "")),
                    )
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
                await self._run(session, repos, fresh[start:end])
                start = end
            await asyncio.sleep(0)
            answered = {item.key: item.response for item in fresh}
            await repos.inbox.set_responses(
                [
                    (event_id, item.response)
                    for item, event_id in zip(items, event_ids, strict=True)
                    if event_id and item.response is not None
                ]
            )
            rows: list[OutboxRow] = []
            for item in fresh:
                if item.ctx is not None and item.ctx.replies:
                    rows += await outbox_rows(item.ctx)
            written = await repos.outbox.add_many(rows) if rows else []
            responses = [
                await _answer(repos, item, event_id, answered)
                for item, event_id in zip(items, event_ids, strict=True)
            ]
        if written:
            self.on_outbox(written)
        return responses

    async def _run(self, session: AsyncSession, repos: Repos, run: list[Clicked]) -> None:
        """Handle consecutive clicks on one button together (a batch action) or a single
        click; each gets ``response`` and, when it changed something, ``ctx``."""
        route = run[0].route
        allowed: list[tuple[Clicked, ClickContext]] = []
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
            ctx = ClickContext.create(
                settings=self.settings,
                clock=self.clock,
                session=session,
                commands=self.commands,
                key=item.key,
                click=item.click,
                conversation=ConversationRef(item.card.conversation_id),
                dingtalk_admin=member is not None and member.dingtalk_admin,
            )
            ctx.use_repos(repos)
            refusal = await guard.refusal(ctx, route.module, admin=route.admin, acts=route.acts)
            if refusal is not None:
                ctx.log.warning("card action %r refused: %s", item.click.action, refusal)
                item.response = CardResponse(private_data={"message": refusal}).to_wire()
                continue
            allowed.append((item, ctx))
        if not allowed or route is None:
            return
        if len(allowed) > 1:
            await asyncio.sleep(0)  # a run of a storm's batch is two long steps: split them
        contexts = [ctx for _, ctx in allowed]
        try:
            async with guard.savepoint(session, *contexts):
                answers = await _run_action(route, contexts)
        except UserError as exc:
            for item, ctx in allowed:
                item.response = _refused(ctx, exc)
            return
        except Exception:
            if len(allowed) > 1:
                log.warning("a run of %d clicks failed; one by one", len(allowed))
                for item, _ in allowed:
                    await self._run(session, repos, [item])
                return
            [(item, ctx)] = allowed
            log.exception("unexpected error handling card click %s", item.key)
            self.on_failure(
                Failure(
                    "click",
                    ctx.click.action,
                    key=item.key,
                    conversation=ctx.conversation.id,
                    member=ctx.member.staff_id,
                )
            )
            ctx.lang = await _member_lang(session, ctx.conversation.id, ctx.member.staff_id)
            item.response = CardResponse(private_data={"message": ctx.t(T.card_oops)}).to_wire()
            return
        for (item, ctx), answer in zip(allowed, answers, strict=True):
            if isinstance(answer, UserError):
                item.response = _refused(ctx, answer)
                continue
            item.response = answer.to_wire()
            item.ctx = ctx  # it changed something: its replies go to the outbox
            if route.admin:
                kind = item.card.kind if item.card is not None else ""
                await guard.audit(
                    ctx, f"card:{ctx.click.action}", {"card": kind, "id": ctx.click.entity_id}
                )


async def _run_action(
    route: ActionRoute, ctxs: list[ClickContext]
) -> list[CardResponse | UserError]:
    if route.batch is not None:
        answers = list(await route.batch(ctxs))
        if len(answers) != len(ctxs):
            raise RuntimeError(f"{route.verb}: {len(answers)} answers for {len(ctxs)} clicks")
        return answers
    assert route.handler is not None and len(ctxs) == 1  # ActionRoute has one or the other
    return [await route.handler(ctxs[0])]


async def _answer(
    repos: Repos, item: Clicked, event_id: int | None, answered: dict[str, Answer | None]
) -> Answer:
    if event_id:
        return item.response or {}
    if item.key in answered:  # the same click twice in one batch
        return answered[item.key] or {}
    return await repos.inbox.answer(item.key) or {}  # a redelivery: the first answer


async def _member_lang(session: AsyncSession, conversation_id: str | None, staff_id: str) -> Lang:
    """The language of the member's latest message here (clicks carry no text)."""
    payload = await latest_message_payload(session, staff_id, conversation_id)
    if payload is None:
        return "zh"
    try:
        return guess_lang(BotMessage.model_validate_json(payload).plain_text or "")
    except ValidationError:
        return "zh"


def _refused(ctx: ClickContext, exc: UserError) -> Answer:
    ctx.replies.clear()
    return CardResponse(private_data={"message": ctx.t(exc.text, **exc.params)}).to_wire()
