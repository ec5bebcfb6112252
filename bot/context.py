"""Typed contexts: one for a message, one for a card click, one for a scheduled job."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import safety
from bot.clock import Clock
from bot.config import Settings
from bot.errors import UserError
from bot.events import BotMessage, CardClick
from bot.i18n import Lang, Text
from bot.replies import Reply, TextReply
from bot.repos import Repos

if TYPE_CHECKING:
    from bot.commands import CommandTable


class ContextLogger(logging.LoggerAdapter[logging.Logger]):
    """Puts the message key, conversation and member on every line as fields of the record
    (``bot.logs`` shows them as JSON fields or as a ``[key=… member=…]`` tail)."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        kwargs["extra"] = {**(self.extra or {}), **(kwargs.get("extra") or {})}
        return msg, kwargs


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """Where the event happened."""

    id: str
    type: str = "2"
    title: str = ""

    @property
    def is_group(self) -> bool:
        """Whether this is a group chat."""
        return self.type == "2"


@dataclass(frozen=True, slots=True)
class MemberRef:
    """Who acted."""

    staff_id: str
    nick: str = ""
    is_admin: bool = False


@dataclass(slots=True, kw_only=True)
class BaseContext:
    """What every unit of work may use: storage, replies, clock, settings and texts.

    The three kinds of event each have their own subclass, with the fields the event
    guarantees: ``MessageContext`` (a member's message), ``ClickContext`` (a card button)
    and ``JobContext`` (a scheduled job). Helpers that work for any of them (they take the
    conversation as an argument) take a ``BaseContext``.
    """

    settings: Settings
    clock: Clock
    session: AsyncSession
    commands: CommandTable
    key: str
    lang: Lang = "zh"
    replies: list[Reply] = field(default_factory=list)
    # What the audit log records for an admin command, when the handler knows better than
    # its raw arguments (members named as {m:<staff id>}, shown by name in /audit).
    audit_detail: str | None = None
    log: ContextLogger = field(default_factory=lambda: ContextLogger(logging.getLogger("bot")))
    _repos: Repos | None = None

    def use_repos(self, repos: Repos) -> None:
        """Share one repository set among the contexts of a batch (same session)."""
        self._repos = repos

    @property
    def repos(self) -> Repos:
        """Repositories bound to this unit of work."""
        if self._repos is None:
            self._repos = Repos(self.session)
        return self._repos

    @property
    def now(self) -> datetime:
        """The clock's current time (aware UTC)."""
        return self.clock.now()

    @property
    def is_admin(self) -> bool:
        """Whether the acting member may use admin commands (a job has no member)."""
        return False

    def t(self, text: Text, /, **params: Any) -> str:
        """``text`` in the member's language; string parameters are made inert (no mentions)."""
        safe = {k: safety.plain(v) if isinstance(v, str) else v for k, v in params.items()}
        return text.render(self.lang, **safe)

    def reply(self, reply: Reply | str) -> None:
        """Queue a reply; it is written to the outbox with this unit of work."""
        self.replies.append(TextReply(content=reply) if isinstance(reply, str) else reply)


@dataclass(slots=True, kw_only=True)
class EventContext(BaseContext):
    """A member did something in a conversation: a message or a card click."""

    conversation: ConversationRef
    member: MemberRef

    @property
    def is_admin(self) -> bool:
        """Whether the acting member may use admin commands."""
        return self.member.is_admin


# The name most helpers use: an event of a member in a conversation (message or click).
Context = EventContext


@dataclass(slots=True, kw_only=True)
class MessageContext(EventContext):
    """A member's message: a command (or plain text) in a group or a one-to-one chat."""

    message: BotMessage
    # The one-to-one chat a command came from when it runs in a group (``conversation``):
    # replies go back to the chat, the data is the group's (see ``bot.groups``).
    origin: ConversationRef | None = None

    @classmethod
    def create(
        cls,
        *,
        settings: Settings,
        clock: Clock,
        session: AsyncSession,
        commands: CommandTable,
        key: str,
        message: BotMessage,
    ) -> MessageContext:
        """The context of an inbound robot message."""
        conversation = ConversationRef(
            message.conversation_id, message.conversation_type, message.conversation_title
        )
        member = MemberRef(
            message.staff_id,
            message.sender_nick,
            is_admin(settings, message.staff_id, dingtalk_flag=message.is_admin),
        )
        return cls(
            settings=settings,
            clock=clock,
            session=session,
            commands=commands,
            key=key,
            conversation=conversation,
            member=member,
            message=message,
            log=_event_logger(key, conversation, member),
        )


@dataclass(slots=True, kw_only=True)
class ClickContext(EventContext):
    """A card button a member clicked; the conversation is the card's group."""

    click: CardClick

    @classmethod
    def create(
        cls,
        *,
        settings: Settings,
        clock: Clock,
        session: AsyncSession,
        commands: CommandTable,
        key: str,
        click: CardClick,
        conversation: ConversationRef,
        dingtalk_admin: bool = False,
    ) -> ClickContext:
        """The context of a card click.

        ``dingtalk_admin`` is DingTalk's admin flag from the member's latest message (clicks
        carry none); it counts only where the config trusts it.
        """
        member = MemberRef(
            click.user_id, "", is_admin(settings, click.user_id, dingtalk_flag=dingtalk_admin)
        )
        return cls(
            settings=settings,
            clock=clock,
            session=session,
            commands=commands,
            key=key,
            conversation=conversation,
            member=member,
            click=click,
            log=_event_logger(key, conversation, member),
        )

    def click_id(self, unknown: Text) -> int:
        """The numeric entity id a card button sent; ``unknown`` (with ``{id}``) when it is
        missing or not a number, so a forged or stale click gets a clear refusal."""
        raw = self.click.entity_id
        # ASCII digits only: str.isdigit() accepts "²", which int() then refuses.
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise UserError(unknown, id=safety.plain(raw[:20]) or "?")
        return int(raw)


@dataclass(slots=True, kw_only=True)
class JobContext(BaseContext):
    """A scheduled job: no member; replies go where the job says."""

    job_id: str
    conversation: ConversationRef | None = None

    @classmethod
    def create(
        cls,
        *,
        settings: Settings,
        clock: Clock,
        session: AsyncSession,
        commands: CommandTable,
        job_id: str,
        key: str,
        conversation: ConversationRef | None = None,
    ) -> JobContext:
        """The context of one run of a scheduled job."""
        return cls(
            settings=settings,
            clock=clock,
            session=session,
            commands=commands,
            key=key,
            conversation=conversation,
            job_id=job_id,
            log=ContextLogger(
                logging.getLogger("bot.job"),
                {"key": key, "conversation": conversation.id if conversation else "-"},
            ),
        )


AnyContext = MessageContext | ClickContext | JobContext


def _event_logger(key: str, conversation: ConversationRef, member: MemberRef) -> ContextLogger:
    return ContextLogger(
        logging.getLogger("bot.handler"),
        {"key": key, "conversation": conversation.id, "member": member.staff_id},
    )


def is_admin(settings: Settings, staff_id: str, *, dingtalk_flag: bool = False) -> bool:
    """Admins: staff ids in the config, plus DingTalk's ``isAdmin`` where the config trusts it."""
    if staff_id and staff_id in settings.admins.staff_ids:
        return True
    return bool(dingtalk_flag and settings.admins.trust_dingtalk_admin)


__all__ = [
    "AnyContext",
    "BaseContext",
    "ClickContext",
    "Context",
    "ConversationRef",
    "EventContext",
    "JobContext",
    "MemberRef",
    "MessageContext",
    "Repos",
    "is_admin",
]
