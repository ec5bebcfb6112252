"""The outbox: replies written in the same unit of work as the change that caused them."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field, TypeAdapter

from bot.cards import new_out_track_id, verbs_of
from bot.clock import utcnow
from bot.context import BaseContext, EventContext, JobContext, MessageContext
from bot.events import is_staff_id
from bot.replies import (
    CardReply,
    CardUpdate,
    MarkdownReply,
    Reply,
    TextReply,
    ToCurrent,
    ToGroup,
    ToMembers,
)
from bot.text_parts import split_text
from storage.db import SCRUB
from storage.models import OutboxMessage
from storage.outbox import OutboxRow
from storage.repositories import SCRUB_AFTER_DELIVERY

BATCH_SEND_LIMIT = 20  # DingTalk's oToMessages/batchSend takes at most 20 users


def _split(reply: Reply) -> list[Reply]:
    """A reply as the sending APIs take it: at most 20 users a call, ``msgParam`` in bounds."""
    parts: list[Reply] = []
    for part in _split_size(reply):
        to = None if isinstance(part, CardUpdate) else part.to
        if not isinstance(to, ToMembers) or len(to.staff_ids) <= BATCH_SEND_LIMIT:
            parts.append(part)
            continue
        ids = to.staff_ids
        parts += [
            part.model_copy(
                update={"to": to.model_copy(update={"staff_ids": ids[i : i + BATCH_SEND_LIMIT]})}
            )
            for i in range(0, len(ids), BATCH_SEND_LIMIT)
        ]
    return parts


def _split_size(reply: Reply) -> list[Reply]:
    """Long text and markdown in parts whose ``msgParam`` stays under the 15,000-byte limit of
    groupMessages/send and oToMessages/batchSend (help.dingtalk.io group send), cut at lines."""
    if isinstance(reply, TextReply):
        pieces = split_text(reply.content)
        if pieces == [reply.content]:
            return [reply]  # nearly every reply: no copy
        return [reply.model_copy(update={"content": piece}) for piece in pieces]
    if isinstance(reply, MarkdownReply):
        pieces = split_text(reply.text, markdown=True)
        if len(pieces) == 1:
            return [reply]
        n = len(pieces)
        return [
            reply.model_copy(update={"title": f"{reply.title} ({i}/{n})", "text": piece})
            for i, piece in enumerate(pieces, 1)
        ]
    return [reply]


# Said in the chat where a private reply was asked for but cannot be delivered.
NO_PRIVATE_CHAT = (
    "这条回复本该私信给你，但钉钉没有提供你的员工账号（外部联系人，或应用尚未发布时都是这样），"
    "机器人无法单独发消息给你。请在与机器人的单聊中发送这条命令。"
)


def _private_to_non_staff(ctx: BaseContext, replies: list[Reply]) -> list[Reply]:
    """Replies meant for the sender alone, where the sender has no staff id.

    batchSend takes staff ids only, so such a reply cannot go one to one through the
    OpenAPI. In a one-to-one chat the session webhook reaches the sender alone: the reply
    goes there. In a group it would reach everyone: the group is told, in one line, that
    the private reply is impossible, and the reply itself is not sent.
    """
    if not isinstance(ctx, MessageContext):
        return replies
    member = ctx.member.staff_id
    if not member or is_staff_id(member):
        return replies
    one_to_one = ctx.conversation.type == "1"
    out: list[Reply] = []
    told = False
    for reply in replies:
        to = None if isinstance(reply, CardUpdate) else reply.to
        if isinstance(reply, CardUpdate) or not isinstance(to, ToMembers):
            out.append(reply)
            continue
        if member not in to.staff_ids:
            out.append(reply)
            continue
        others = [sid for sid in to.staff_ids if sid != member]
        if others:
            out.append(reply.model_copy(update={"to": to.model_copy(update={"staff_ids": others})}))
        if one_to_one:
            out.append(reply.model_copy(update={"to": ToCurrent()}))
        elif not told:
            told = True
            out.append(TextReply(content=NO_PRIVATE_CHAT))
    return out


async def outbox_rows(ctx: BaseContext) -> list[OutboxRow]:
    """The outbox rows for the context's replies, each with a unique idempotency key.

    Cards are remembered on the way (so a click can be traced to its group). The rows are
    leased to this process, so its sender can deliver them straight after the commit without
    reading them again; if the process dies first, the lease lapses and any sender takes them.
    """
    now = ctx.now
    due = utcnow()  # delivery timing is operational: real time, not the community's clock
    # Without a sender of its own, the process leaves its rows unleased, for the others'.
    sending = ctx.settings.sender.enabled
    lease = due + timedelta(seconds=ctx.settings.sender.lease_seconds) if sending else None
    message = ctx.message if isinstance(ctx, MessageContext) else None
    conversation = ctx.conversation if isinstance(ctx, EventContext | JobContext) else None
    origin = ctx.origin if isinstance(ctx, MessageContext) else None
    staff_id = ctx.member.staff_id if isinstance(ctx, EventContext) else ""
    rows: list[OutboxRow] = []
    # Replies of a unit of work that erased someone's data may name them (and hold their id
    # for routing): they are deleted once delivered, and the database files scrubbed again.
    scrub = SCRUB_AFTER_DELIVERY if ctx.session.info.get(SCRUB) else ""
    replies = [part for reply in _private_to_non_staff(ctx, ctx.replies) for part in _split(reply)]
    here = origin or conversation  # where the event came from: answers go there
    for index, reply in enumerate(replies):
        if isinstance(reply, CardReply) and reply.template_id:
            # Every card gets an outTrackId of its own, unique forever (bot.cards).
            reply = reply.model_copy(update={"out_track_id": new_out_track_id(reply.kind)})
        conversation_id = here.id if here else ""
        conversation_type = here.type if here else "2"
        webhook, expires = "", None
        to = reply.to if not isinstance(reply, CardUpdate) else ToCurrent()
        if isinstance(to, ToGroup):
            conversation_id, conversation_type = to.conversation_id, "2"
        elif isinstance(to, ToMembers):
            conversation_id, conversation_type = "", "1"
            # Where the member can be told if one to one fails (bot.notices): the group
            # acted in (a command sent one to one may act in a group).
            group = next((c.id for c in (conversation, here) if c and c.type == "2"), "")
            if to.important and not to.group and group:
                reply = reply.model_copy(update={"to": to.model_copy(update={"group": group})})
        elif message is not None:
            webhook, expires = message.session_webhook, message.session_webhook_expires
        if isinstance(reply, CardReply) and reply.template_id:
            # Only a real card can be clicked or updated; the markdown fallback cannot.
            # A click acts in the card's group, even on a card sent to a one-to-one chat.
            acts_in = (
                conversation.id
                if isinstance(to, ToCurrent) and conversation is not None
                else conversation_id
            )
            await ctx.repos.cards.remember(
                out_track_id=reply.out_track_id,
                conversation_id=acts_in,
                kind=reply.kind,
                entity_id=reply.entity_id,
                now=now,
                actions=verbs_of(reply.kind),
            )
        rows.append(
            {
                "idem_key": f"{ctx.key}#{index}",
                "conversation_id": conversation_id,
                "conversation_type": conversation_type,
                "reply": reply.model_dump_json(),
                "reply_staff_id": staff_id,
                "session_webhook": webhook,
                "session_expires_at": expires,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": due,
                "lease_until": lease,
                "last_error": "",
                "route": scrub,
                "created_at": now,
                "sent_at": None,
            }
        )
    return rows


async def write_replies(ctx: BaseContext) -> list[OutboxMessage]:
    """Write the context's replies to the outbox in its unit of work; the rows, with ids."""
    return await ctx.repos.outbox.add_many(await outbox_rows(ctx))


_REPLY_ADAPTER: TypeAdapter[Reply] = TypeAdapter(Annotated[Reply, Field(discriminator="type")])


def parse_reply(raw: str) -> Reply:
    """Load a reply stored in the outbox."""
    return _REPLY_ADAPTER.validate_json(raw)
