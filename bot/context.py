"""One typed context for handlers and scheduled jobs alike."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import safety
from bot.clock import Clock
from bot.config import Settings
from bot.errors import UserError
from bot.events import BotMessage, CardClick
from bot.i18n import Lang, Text
from bot.replies import Reply, TextReply
from storage.admin import AuditRepo, BanRepo, PrivacyRepo
from storage.digest import DigestRepo
from storage.repositories import CardRepo, GroupSettingsRepo, InboxRepo, MemberRepo, OutboxRepo
from storage.skills import LedgerRepo, SkillRepo, SwapRepo
from storage.stories import LikeRepo, StoryRepo
from storage.volunteers import (
    CheckinRepo,
    EventRepo,
    HoursRepo,
    ReminderOptOutRepo,
    SignupRepo,
)

if TYPE_CHECKING:
    from bot.router import CommandTable


class ContextLogger(logging.LoggerAdapter[logging.Logger]):
    """Puts the message key, conversation and member on every line as fields of the record
    (``bot.logs`` shows them as JSON fields or as a ``[key=… member=…]`` tail)."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        kwargs["extra"] = {**(self.extra or {}), **(kwargs.get("extra") or {})}
        return msg, kwargs


class Repos:
    """Every repository, bound to the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @cached_property
    def inbox(self) -> InboxRepo:
        """The durable inbox."""
        return InboxRepo(self.session)

    @cached_property
    def outbox(self) -> OutboxRepo:
        """The outbox."""
        return OutboxRepo(self.session)

    @cached_property
    def members(self) -> MemberRepo:
        """Conversations and members."""
        return MemberRepo(self.session)

    @cached_property
    def cards(self) -> CardRepo:
        """Delivered cards."""
        return CardRepo(self.session)

    @cached_property
    def audit(self) -> AuditRepo:
        """The admin audit log."""
        return AuditRepo(self.session)

    @cached_property
    def bans(self) -> BanRepo:
        """Bans."""
        return BanRepo(self.session)

    @cached_property
    def privacy(self) -> PrivacyRepo:
        """The runtime's own data about members."""
        return PrivacyRepo(self.session)

    @cached_property
    def events(self) -> EventRepo:
        """Volunteer activities."""
        return EventRepo(self.session)

    @cached_property
    def signups(self) -> SignupRepo:
        """Sign-ups."""
        return SignupRepo(self.session)

    @cached_property
    def hours(self) -> HoursRepo:
        """Volunteer hours."""
        return HoursRepo(self.session)

    @cached_property
    def reminder_optouts(self) -> ReminderOptOutRepo:
        """Members who turned their own activity reminders off."""
        return ReminderOptOutRepo(self.session)

    @cached_property
    def checkins(self) -> CheckinRepo:
        """Check-ins at activities and wrong code guesses."""
        return CheckinRepo(self.session)

    @cached_property
    def digest(self) -> DigestRepo:
        """Digest runs and content."""
        return DigestRepo(self.session)

    @cached_property
    def skills(self) -> SkillRepo:
        """Skill offers and wants."""
        return SkillRepo(self.session)

    @cached_property
    def swaps(self) -> SwapRepo:
        """Skill swaps."""
        return SwapRepo(self.session)

    @cached_property
    def ledger(self) -> LedgerRepo:
        """Time credits."""
        return LedgerRepo(self.session)

    @cached_property
    def groups(self) -> GroupSettingsRepo:
        """Per-group switches."""
        return GroupSettingsRepo(self.session)

    @cached_property
    def stories(self) -> StoryRepo:
        """Stories."""
        return StoryRepo(self.session)

    @cached_property
    def likes(self) -> LikeRepo:
        """Likes."""
        return LikeRepo(self.session)


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


@dataclass(slots=True)
class Context:
    """What a handler or a job may use: who, where, storage, replies, clock and settings."""

    settings: Settings
    clock: Clock
    session: AsyncSession
    commands: CommandTable
    key: str
    conversation: ConversationRef | None = None
    member: MemberRef | None = None
    lang: Lang = "zh"
    # The one-to-one chat a command came from when it runs in a group (``conversation``):
    # replies go back to the chat, the data is the group's (see ``bot.groups``).
    origin: ConversationRef | None = None
    message: BotMessage | None = None
    click: CardClick | None = None
    job_id: str | None = None
    replies: list[Reply] = field(default_factory=list)
    # What the audit log records for an admin command, when the handler knows better than
    # its raw arguments (members named as {m:<staff id>}, shown by name in /audit).
    audit_detail: str | None = None
    log: ContextLogger = field(default_factory=lambda: ContextLogger(logging.getLogger("bot")))
    _repos: Repos | None = None

    @classmethod
    def from_event(
        cls,
        *,
        settings: Settings,
        clock: Clock,
        session: AsyncSession,
        commands: CommandTable,
        key: str,
        message: BotMessage | None = None,
        click: CardClick | None = None,
        conversation: ConversationRef | None = None,
        dingtalk_admin: bool = False,
    ) -> Context:
        """A context for an inbound message or card click.

        ``dingtalk_admin`` is, for a click, DingTalk's admin flag from the member's latest
        message (clicks carry none); it counts only where the config trusts it.
        """
        member: MemberRef | None = None
        if message is not None:
            conversation = ConversationRef(
                message.conversation_id, message.conversation_type, message.conversation_title
            )
            member = MemberRef(
                message.staff_id,
                message.sender_nick,
                is_admin(settings, message.staff_id, dingtalk_flag=message.is_admin),
            )
        elif click is not None:
            member = MemberRef(
                click.user_id, "", is_admin(settings, click.user_id, dingtalk_flag=dingtalk_admin)
            )
        extra = {
            "key": key,
            "conversation": conversation.id if conversation else "-",
            "member": member.staff_id if member else "-",
        }
        return cls(
            settings=settings,
            clock=clock,
            session=session,
            commands=commands,
            key=key,
            conversation=conversation,
            member=member,
            message=message,
            click=click,
            log=ContextLogger(logging.getLogger("bot.handler"), extra),
        )

    @classmethod
    def from_job(
        cls,
        *,
        settings: Settings,
        clock: Clock,
        session: AsyncSession,
        commands: CommandTable,
        job_id: str,
        key: str,
        conversation: ConversationRef | None = None,
    ) -> Context:
        """A context for a scheduled job (no sender; replies go where the job says)."""
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
        """Whether the acting member may use admin commands."""
        return self.member is not None and self.member.is_admin

    def t(self, text: Text, /, **params: Any) -> str:
        """``text`` in the member's language; string parameters are made inert (no mentions)."""
        safe = {k: safety.plain(v) if isinstance(v, str) else v for k, v in params.items()}
        return text.render(self.lang, **safe)

    def click_id(self, unknown: Text) -> int:
        """The numeric entity id a card button sent; ``unknown`` (with ``{id}``) when it is
        missing or not a number, so a forged or stale click gets a clear refusal."""
        raw = self.click.entity_id if self.click is not None else ""
        # ASCII digits only: str.isdigit() accepts "²", which int() then refuses.
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise UserError(unknown, id=safety.plain(raw[:20]) or "?")
        return int(raw)

    def reply(self, reply: Reply | str) -> None:
        """Queue a reply; it is written to the outbox with this unit of work."""
        self.replies.append(TextReply(content=reply) if isinstance(reply, str) else reply)


def is_admin(settings: Settings, staff_id: str, *, dingtalk_flag: bool = False) -> bool:
    """Admins: staff ids in the config, plus DingTalk's ``isAdmin`` where the config trusts it."""
    if staff_id and staff_id in settings.admins.staff_ids:
        return True
    return bool(dingtalk_flag and settings.admins.trust_dingtalk_admin)
