"""Every repository of the bot, bound to one unit of work's session (``ctx.repos``)."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession

from storage.admin import AuditRepo, BanRepo, PrivacyRepo
from storage.digest import DigestRepo
from storage.pictures import PictureRepo
from storage.repositories import CardRepo, GroupSettingsRepo, InboxRepo, MemberRepo, OutboxRepo
from storage.skills import SkillRepo
from storage.stories import LikeRepo, StoryRepo
from storage.swaps import LedgerRepo, SwapRepo
from storage.volunteers import (
    CheckinRepo,
    EventRepo,
    HoursRepo,
    ReminderOptOutRepo,
    SignupRepo,
)
from storage.volunteers.exports import ExportRepo
from storage.volunteers.series import SeriesRepo


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
    def exports(self) -> ExportRepo:
        """What the organisers' spreadsheets read."""
        return ExportRepo(self.session)

    @cached_property
    def series(self) -> SeriesRepo:
        """Recurring activities."""
        return SeriesRepo(self.session)

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

    @cached_property
    def pictures(self) -> PictureRepo:
        """Pictures sent with stories."""
        return PictureRepo(self.session)
