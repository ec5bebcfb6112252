"""Typed SQLAlchemy 2 models for the runtime: inbox, outbox, conversations, members, cards."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import true as sa_true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

# Tables whose numbers people see (#story, #activity, #post, #swap) and type back, and that
# cards carry: a number must never be handed to a second entity. A plain SQLite INTEGER
# PRIMARY KEY reuses the largest id once its row is deleted (erasing the newest story gave
# its number to the next one); AUTOINCREMENT never does ("the ROWID chosen for the new row
# is at least one larger than the largest ROWID that has ever before existed in that same
# table", https://www.sqlite.org/autoinc.html). PostgreSQL sequences never go back either.
NEVER_REUSED: dict[str, bool] = {"sqlite_autoincrement": True}


class Base(DeclarativeBase):
    """Declarative base for every model."""


class InboxEvent(Base):
    """An inbound push, recorded before it is acknowledged; unique on its key."""

    __tablename__ = "inbox_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    topic: Mapped[str] = mapped_column(String(100))
    conversation_id: Mapped[str] = mapped_column(String(200), default="")
    staff_id: Mapped[str] = mapped_column(String(200), default="")
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="received")
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Why a push could not be stored or handled (status "dead": acked, kept, never retried).
    error: Mapped[str] = mapped_column(Text, default="", server_default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_inbox_status", "status", "id"),
        Index("ix_inbox_received", "received_at"),
        Index("ix_inbox_member", "conversation_id", "staff_id"),
    )


class InstallSecret(Base):
    """A secret generated once per installation (e.g. the key of the ledger's pseudonyms)."""

    __tablename__ = "install_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class OutboxMessage(Base):
    """A reply waiting to be delivered (or delivered), written with the change that caused it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    idem_key: Mapped[str] = mapped_column(String(200), unique=True)
    conversation_id: Mapped[str] = mapped_column(String(200), default="")
    conversation_type: Mapped[str] = mapped_column(String(2), default="2")
    reply: Mapped[str] = mapped_column(Text)
    reply_staff_id: Mapped[str] = mapped_column(String(200), default="")
    session_webhook: Mapped[str] = mapped_column(Text, default="")
    session_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    route: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # A key's pending rows, oldest first: the reply order across processes
        # (storage.outbox.order_key) looks them up on every write and claim.
        Index("ix_outbox_order", "status", "conversation_id", "reply_staff_id", "id"),
    )


class Conversation(Base):
    """A group or one-to-one chat the bot has seen."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    type: Mapped[str] = mapped_column(String(2), default="2")
    title: Mapped[str] = mapped_column(String(200), default="")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Member(Base):
    """A member as seen in one conversation (data is scoped to its group)."""

    __tablename__ = "members"

    conversation_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    nick: Mapped[str] = mapped_column(String(200), default="")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    messages: Mapped[int] = mapped_column(Integer, default=0)
    # Messages that were only likes or unlikes: "activity" is messages minus these.
    like_messages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # DingTalk's isAdmin flag on the member's latest message (trusted only if configured),
    # so a card click, which carries no such flag, can be judged too.
    dingtalk_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class CardInstance(Base):
    """A card the bot delivered, so a click can be traced to its conversation and entity."""

    __tablename__ = "card_instances"

    out_track_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    # The verbs of the card's buttons, comma-separated (empty: not recorded, older cards).
    actions: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("conversation_id", "kind", "entity_id", "out_track_id"),
        Index("ix_cards_entity", "kind", "entity_id"),
    )


class GroupSettings(Base):
    """Per-group switches (created on first use with the config's defaults)."""

    __tablename__ = "group_settings"

    conversation_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    review_stories: Mapped[bool] = mapped_column(Boolean, default=True)
    likes_dirty: Mapped[bool] = mapped_column(Boolean, default=False)
    # One more at every change of the group's like evidence: a re-scoring clears the dirty
    # flag only if no change came while it ran (domain.likes.rescore).
    likes_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Modules switched off in this group, comma-separated (all are on by default).
    disabled_modules: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # The group's digest slot (None: the config's default) and whether it is posted at all.
    digest_weekday: Mapped[int | None] = mapped_column(Integer, nullable=True)
    digest_time: Mapped[str | None] = mapped_column(String(5), nullable=True)
    digest_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())


class Story(Base):
    """A member's story ("我的钉钉故事"), scoped to its group."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    author_staff_id: Mapped[str] = mapped_column(String(200))
    author_nick: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected | deleted
    reject_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    genuine_likes: Mapped[float] = mapped_column(Float, default=0.0)
    # When the group's admins were told this story waits for review (None: not yet).
    review_noticed_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, default=None
    )

    __table_args__ = (
        Index("ix_stories_group", "conversation_id", "status", "decided_at"),
        Index("ix_stories_author", "conversation_id", "author_staff_id"),
        Index("ix_stories_unnoticed", "status", "review_noticed_at"),
        NEVER_REUSED,
    )


class StoryPicture(Base):
    """A picture sent with a story: its download code while it is being fetched, then the
    bytes themselves (in the database, not on disk: several bot processes, possibly on
    several hosts, share the database and nothing else; an erasure or a cascade removes the
    bytes in the same transaction as the story) and the media id DingTalk gave it."""

    __tablename__ = "story_pictures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[str] = mapped_column(String(200))
    download_code: Mapped[str] = mapped_column(Text, default="")
    # pending (to fetch) | stored | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(String(32), default="")  # why it failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    data: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    size: Mapped[int] = mapped_column(Integer, default=0)
    content_type: Mapped[str] = mapped_column(String(40), default="")
    media_id: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_story_pictures_story", "story_id"),
        Index("ix_story_pictures_due", "status", "lease_until"),
        Index("ix_story_pictures_member", "conversation_id", "staff_id"),
    )


class RecommendSubscription(Base):
    """A member who receives their recommendations one to one each week, in one group."""

    __tablename__ = "recommend_subscriptions"

    conversation_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The last week (local ISO week) served: the weekly job sends once per week.
    last_period: Mapped[str] = mapped_column(String(16), default="", server_default="")


class Like(Base):
    """One member's like of one story, with the weight it counts for and why."""

    __tablename__ = "likes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    reasons: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (
        UniqueConstraint("story_id", "staff_id", name="uq_like_once"),
        Index("ix_likes_group", "conversation_id", "created_at"),
        Index("ix_likes_member", "conversation_id", "staff_id", "created_at"),
    )


class AuditEntry(Base):
    """An admin action (command or card button), kept for `/audit`."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_audit_group", "conversation_id", "id"),)


class Ban(Base):
    """A member who may not submit, like, sign up or propose in one group."""

    __tablename__ = "bans"

    conversation_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    banned_by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ForgetRequest(Base):
    """A member asked to have their data erased and must confirm within a few minutes."""

    __tablename__ = "forget_requests"

    conversation_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Event(Base):
    """A volunteer activity in one group."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    hours: Mapped[float] = mapped_column(Float)
    place: Mapped[str] = mapped_column(String(200))
    seats: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | cancelled | done
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    reminded_24h: Mapped[bool] = mapped_column(Boolean, default=False)
    reminded_1h: Mapped[bool] = mapped_column(Boolean, default=False)
    # The cards were told that sign-ups closed at the start (once; issue 17).
    cards_closed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The short check-in code given out with /签到码 ("" until then; issue 17).
    checkin_code: Mapped[str] = mapped_column(String(16), default="", server_default="")
    # The activity's own reminder plan ("120m,15m"; "" for the config's, "off" for none).
    reminders: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # An occurrence of a recurring series (issue 17): its series and local date. One row per
    # series and date (the unique index), so creating occurrences ahead is idempotent across
    # restarts and processes; plain activities have NULLs, which never collide.
    series_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    occurs_on: Mapped[date | None] = mapped_column(Date, nullable=True, default=None)

    __table_args__ = (
        Index("ix_events_group", "conversation_id", "status", "starts_at"),
        Index("uq_series_occurrence", "series_id", "occurs_on", unique=True),
        NEVER_REUSED,
    )


class EventSeries(Base):
    """A recurring activity: what each occurrence copies, the rule and the first date."""

    __tablename__ = "event_series"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    hours: Mapped[float] = mapped_column(Float)
    place: Mapped[str] = mapped_column(String(200))
    seats: Mapped[int] = mapped_column(Integer)
    # domain.recurrence.Rule.code ("weekly:2"), the local start time ("19:00"), first date.
    rule: Mapped[str] = mapped_column(String(32))
    local_time: Mapped[str] = mapped_column(String(5))
    first_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | cancelled
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_series_open", "status"), NEVER_REUSED)


class Signup(Base):
    """A member's sign-up: confirmed, or on the waitlist in arrival order (by id)."""

    __tablename__ = "signups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[str] = mapped_column(String(200))
    nick: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16))  # confirmed | waitlisted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("event_id", "staff_id", name="uq_signup_once"),
        Index("ix_signups_event", "event_id", "status", "id"),
        Index("ix_signups_member", "conversation_id", "staff_id"),
    )


class VolunteerHours(Base):
    """Hours credited to a member for an activity they came to."""

    __tablename__ = "volunteer_hours"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(200))
    hours: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("event_id", "staff_id", name="uq_hours_once"),
        Index("ix_hours_member", "conversation_id", "staff_id"),
        Index("ix_hours_group_at", "conversation_id", "at"),
        Index("ix_hours_group_id", "conversation_id", "id"),  # pages of /导出 时长 (0025)
    )


class Checkin(Base):
    """A member's check-in at an activity: with its code (``by`` empty) or added by an admin."""

    __tablename__ = "event_checkins"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[str] = mapped_column(String(200))
    nick: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (
        UniqueConstraint("event_id", "staff_id", name="uq_checkin_once"),
        Index("ix_checkins_member", "conversation_id", "staff_id"),
    )


class CheckinGuess(Base):
    """A wrong check-in code, counted to slow down guessing."""

    __tablename__ = "checkin_guesses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_checkin_guesses_member", "conversation_id", "staff_id", "at"),)


class ReminderSent(Base):
    """A reminder of an activity that went out (``minutes`` before its start), once."""

    __tablename__ = "event_reminders_sent"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    minutes: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("event_id", "minutes", name="uq_reminder_once"),)


class ReminderOptOut(Base):
    """A member who turned their one-to-one activity reminders off in a group."""

    __tablename__ = "reminder_optouts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("conversation_id", "staff_id", name="uq_reminder_optout"),)


class DigestRun(Base):
    """One digest period of one group: recorded before sending, so it goes out once."""

    __tablename__ = "digest_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(32))  # the slot, local "YYYY-MM-DD HH:MM"
    status: Mapped[str] = mapped_column(String(16))  # posted | empty | skipped | manual
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("conversation_id", "period", name="uq_digest_once"),)


class SkillName(Base):
    """A normalised skill as written in a group, once however many posts share it.

    Matching scores depend only on the two normalised skills, so the group's keyword index
    (SkillTerm) and the scoring work on names: their number grows with the group's
    vocabulary, not with its posts.
    """

    __tablename__ = "skill_names"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    norm: Mapped[str] = mapped_column(Text)
    keywords: Mapped[str] = mapped_column(String(500), default="")
    # The tokenizer that cut ``keywords`` (domain.skill_match.TOKENIZER_ID; '' unknown):
    # names cut by another are re-cut by the skills-reindex job (0026).
    tokenizer: Mapped[str] = mapped_column(String(40), default="", server_default="")

    # Never reused (NEVER_REUSED): the group's largest id versions cached match scores.
    __table_args__ = (
        UniqueConstraint("conversation_id", "norm", name="uq_skill_names"),
        Index("ix_skill_names_group", "conversation_id", "id"),
        Index("ix_skill_names_tokenizer", "tokenizer", "id"),  # the reindex job's (0026)
        NEVER_REUSED,
    )


class SkillTerm(Base):
    """The keyword index: a name under each of its keywords (``k:``), characters (``c:``)
    and character pairs (``b:``), so candidates are found without reading every post."""

    __tablename__ = "skill_terms"

    conversation_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    term: Mapped[str] = mapped_column(Text, primary_key=True)
    name_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("skill_names.id", ondelete="CASCADE"), primary_key=True
    )


class SkillPost(Base):
    """A skill a member offers to teach, or wants to learn, in one group."""

    __tablename__ = "skill_posts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[str] = mapped_column(String(200))
    nick: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(8))  # offer | want
    skill: Mapped[str] = mapped_column(String(200))
    keywords: Mapped[str] = mapped_column(String(500), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | withdrawn
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The post's normalised skill in the group's keyword index (see SkillName).
    name_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("skill_names.id"), nullable=True, default=None
    )

    __table_args__ = (
        Index("ix_posts_group", "conversation_id", "status", "kind"),
        Index("ix_posts_name", "conversation_id", "status", "kind", "name_id", "id", "staff_id"),
        Index("ix_posts_member", "conversation_id", "staff_id"),
        Index("ix_posts_recent", "conversation_id", "created_at"),
        NEVER_REUSED,
    )


class Swap(Base):
    """A proposed swap: who teaches, who learns, and where it stands."""

    __tablename__ = "swaps"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    post_id: Mapped[int] = mapped_column(BigInteger)
    proposer: Mapped[str] = mapped_column(String(200))
    partner: Mapped[str] = mapped_column(String(200))
    teacher: Mapped[str] = mapped_column(String(200))
    learner: Mapped[str] = mapped_column(String(200))
    skill: Mapped[str] = mapped_column(String(200))
    # proposed | accepted | declined | cancelled | done_pending | done
    status: Mapped[str] = mapped_column(String(16))
    hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_swaps_group", "conversation_id", "status"),
        Index("ix_swaps_post", "post_id", "status"),
        Index("ix_swaps_recent", "conversation_id", "status", "updated_at"),
        NEVER_REUSED,
    )


class LedgerEntry(Base):
    """One leg of a time-credit transfer; every swap's legs sum to zero."""

    __tablename__ = "ledger"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    swap_id: Mapped[int] = mapped_column(BigInteger)
    account: Mapped[str] = mapped_column(String(200))
    amount: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("swap_id", "account", name="uq_ledger_leg"),
        Index("ix_ledger_account", "conversation_id", "account"),
    )


class SendPace(Base):
    """A token bucket shared by every bot process: the sends one group may still take now.

    ``stamp`` is the wall-clock second (epoch) of the last refill; the pace is shared
    through the database so N processes never post N times a group's rate.
    """

    __tablename__ = "send_pace"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    stamp: Mapped[float] = mapped_column(Float)


class Feedback(Base):
    """A member's feedback to the group's admins (``/反馈``), and the admin's answer.

    Numbered for people (``/回复 <编号>``), so never reused (NEVER_REUSED). ``lang`` is the
    language the member wrote in: the answer reaches them in it.
    """

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[str] = mapped_column(String(200))
    nick: Mapped[str] = mapped_column(String(200), default="")
    lang: Mapped[str] = mapped_column(String(2), default="zh")
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_feedback_member", "conversation_id", "staff_id", "created_at"),
        NEVER_REUSED,
    )
