"""Runtime repositories: each takes a session, names its intent, and never commits.

The inbox, the outbox and the members have modules of their own (``storage.inbox``,
``storage.outbox``, ``storage.members``); their names are kept here too."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.inbox import InboxRepo, InboxRow
from storage.members import ConversationRow, MemberRepo, MemberRow
from storage.models import (
    CardInstance,
    GroupSettings,
    SendPace,
)
from storage.outbox import SCRUB_AFTER_DELIVERY, OutboxRepo
from storage.queries import prebuilt, run, table, upsert

_SETTINGS = table(GroupSettings)
_CARDS = table(CardInstance)
_PACE = table(SendPace)


@dataclass(frozen=True, slots=True)
class Card:
    """A delivered card as read: a frozen view (cards never change once delivered), safe to
    keep after its unit of work, unlike an ORM row whose changes would be silently lost."""

    out_track_id: str
    conversation_id: str
    kind: str
    entity_id: str
    verbs: tuple[str, ...]  # its buttons' verbs (empty: not recorded, older cards)


@dataclass(slots=True)
class CardRepo:
    """Cards the bot delivered, so clicks can be traced to their group and entity."""

    session: AsyncSession

    async def remember(
        self,
        *,
        out_track_id: str,
        conversation_id: str,
        kind: str,
        entity_id: str,
        now: datetime,
        actions: list[str] | None = None,
    ) -> None:
        """Record a card instance with its buttons' verbs (idempotent)."""
        await self.session.execute(
            upsert(self.session, CardInstance)
            .values(
                out_track_id=out_track_id,
                conversation_id=conversation_id,
                kind=kind,
                entity_id=entity_id,
                actions=",".join(actions or [])[:200],
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["out_track_id"])
        )

    async def get(self, out_track_id: str) -> Card | None:
        """The card with that track id."""
        row = await self.session.get(CardInstance, out_track_id)
        if row is None:
            return None
        verbs = tuple(v for v in row.actions.split(",") if v)
        return Card(row.out_track_id, row.conversation_id, row.kind, row.entity_id, verbs)

    async def track_ids(self, kind: str, entity_id: str) -> list[str]:
        """The track ids of every delivered card showing that entity (to update them all)."""
        stmt = prebuilt(
            self.session,
            "card_tracks",
            lambda _: select(_CARDS.c.out_track_id).where(
                _CARDS.c.kind == bindparam("kind"), _CARDS.c.entity_id == bindparam("entity")
            ),
        )
        rows = await run(self.session, stmt, {"kind": kind, "entity": entity_id})
        return [str(track) for track in rows.scalars()]


@dataclass(slots=True)
class GroupSettingsRepo:
    """Per-group switches. Within its unit of work the repository remembers which modules
    are off in a group (every command checks), and forgets a group whose modules it switches."""

    session: AsyncSession
    _disabled: dict[str, frozenset[str]] = field(default_factory=dict)

    async def get(self, conversation_id: str, *, review_default: bool) -> GroupSettings:
        """The group's settings, created with the defaults on first use."""
        # Read first: the row exists for every group but the newest, and an INSERT … ON
        # CONFLICT DO NOTHING on every like, story and /故事榜 was a statement each for
        # nothing (issue 15, statements per message).
        settings = await self.session.get(GroupSettings, conversation_id)
        if settings is not None:
            return settings
        await self.session.execute(
            upsert(self.session, GroupSettings)
            .values(
                conversation_id=conversation_id,
                review_stories=review_default,
                likes_dirty=False,
            )
            .on_conflict_do_nothing(index_elements=["conversation_id"])
        )
        settings = await self.session.get(GroupSettings, conversation_id)
        assert settings is not None
        return settings

    async def set_review(self, conversation_id: str, on: bool, *, review_default: bool) -> None:
        """Turn story review on or off for the group."""
        await self.get(conversation_id, review_default=review_default)
        await self.session.execute(
            update(GroupSettings)
            .where(GroupSettings.conversation_id == conversation_id)
            .values(review_stories=on)
        )

    async def disabled_modules(self, conversation_id: str) -> frozenset[str]:
        """Modules switched off in this group (no row yet: none)."""
        known = self._disabled.get(conversation_id)
        if known is not None:
            return known
        stmt = prebuilt(
            self.session,
            "disabled_modules",
            lambda _: select(_SETTINGS.c.disabled_modules).where(
                _SETTINGS.c.conversation_id == bindparam("cid")
            ),
        )
        value = (await run(self.session, stmt, {"cid": conversation_id})).scalar()
        known = self._disabled[conversation_id] = frozenset(
            m for m in (value or "").split(",") if m
        )
        return known

    async def set_module(
        self, conversation_id: str, module: str, on: bool, *, review_default: bool
    ) -> None:
        """Switch a module on or off for the group."""
        self._disabled.pop(conversation_id, None)
        settings = await self.get(conversation_id, review_default=review_default)
        disabled = {m for m in settings.disabled_modules.split(",") if m}
        disabled = disabled - {module} if on else disabled | {module}
        await self.session.execute(
            update(GroupSettings)
            .where(GroupSettings.conversation_id == conversation_id)
            .values(disabled_modules=",".join(sorted(disabled)))
        )

    async def mark_likes_dirty(self, conversation_id: str, *, review_default: bool) -> None:
        """New like evidence: the group's weights need recomputing (its settings row is
        created first when the group has none)."""
        mark = (
            update(GroupSettings)
            .where(GroupSettings.conversation_id == conversation_id)
            .values(likes_dirty=True)
        )
        # One UPDATE on every like: reading the row first cost a statement each time for
        # the rare group that has none yet (issue 15, statements per message).
        marked: CursorResult[Any] = await self.session.execute(mark)  # type: ignore[assignment]
        if marked.rowcount == 0:
            await self.get(conversation_id, review_default=review_default)
            await self.session.execute(mark)

    async def dirty_groups(self) -> list[str]:
        """Groups whose weights are out of date."""
        rows = await self.session.execute(
            select(GroupSettings.conversation_id).where(GroupSettings.likes_dirty.is_(True))
        )
        return list(rows.scalars())

    async def clear_dirty(self, conversation_id: str) -> None:
        """The group's weights are current."""
        await self.session.execute(
            update(GroupSettings)
            .where(GroupSettings.conversation_id == conversation_id)
            .values(likes_dirty=False)
        )


@dataclass(slots=True)
class PaceRepo:
    """Token buckets shared by every process (the per-group send pace)."""

    session: AsyncSession

    async def take(self, key: str, now: float, rate: float, burst: float) -> float:
        """Take a token from ``key``'s bucket (``rate`` per second, at most ``burst``); 0 when
        granted, else the seconds until the next one. ``now`` is wall-clock epoch seconds.

        One upsert decides, so two processes never take the same token; a clock that stepped
        back refills nothing rather than a negative amount.
        """
        elapsed = case((now > _PACE.c.stamp, now - _PACE.c.stamp), else_=0.0)
        refilled = _PACE.c.tokens + elapsed * rate
        available = case((refilled > burst, burst), else_=refilled)
        insert = upsert(self.session, _PACE)
        stmt = (
            insert.values(key=key, tokens=burst - 1.0, stamp=now)
            .on_conflict_do_update(
                index_elements=["key"],
                set_={"tokens": available - 1.0, "stamp": now},
                where=available >= 1.0,
            )
            .returning(_PACE.c.tokens)
        )
        if (await self.session.execute(stmt)).first() is not None:
            return 0.0
        row = (
            await self.session.execute(
                select(_PACE.c.tokens, _PACE.c.stamp).where(_PACE.c.key == key)
            )
        ).one()
        tokens = min(burst, float(row.tokens) + max(0.0, now - float(row.stamp)) * rate)
        return max(0.0, (1.0 - float(tokens)) / rate)


__all__ = [
    "SCRUB_AFTER_DELIVERY",
    "Card",
    "CardRepo",
    "ConversationRow",
    "GroupSettingsRepo",
    "InboxRepo",
    "InboxRow",
    "MemberRepo",
    "MemberRow",
    "OutboxRepo",
    "PaceRepo",
]
