"""Runtime repositories: each takes a session, names its intent, and never commits.

The inbox, the outbox and the members have modules of their own (``storage.inbox``,
``storage.outbox``, ``storage.members``); their names are kept here too."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, bindparam, case, select, text, update
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
from storage.views import Card, GroupSettingsView, view

_SETTINGS = table(GroupSettings)
# The first half of the two-int advisory lock ids held while a group is rescored (the order
# keys of storage.outbox use 7226032).
RESCORE_LOCK_SPACE = 7226033
_CARDS = table(CardInstance)
_PACE = table(SendPace)


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
        # Built once and run with parameters (every card a unit of work sends).
        stmt = prebuilt(
            self.session,
            "card_remember",
            lambda insert: insert(_CARDS).on_conflict_do_nothing(index_elements=["out_track_id"]),
        )
        values = {
            "out_track_id": out_track_id,
            "conversation_id": conversation_id,
            "kind": kind,
            "entity_id": entity_id,
            "actions": ",".join(actions or [])[:200],
            "created_at": now,
        }
        await run(self.session, stmt, values)

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

    async def get(self, conversation_id: str, *, review_default: bool) -> GroupSettingsView:
        """The group's settings, created with the defaults on first use."""
        # Read first: the row exists for every group but the newest, and an INSERT … ON
        # CONFLICT DO NOTHING on every like, story and /故事榜 was a statement each for
        # nothing (issue 15, statements per message).
        # Built once, run with a parameter on the connection (every like, story, /故事榜).
        read = prebuilt(
            self.session,
            "group_settings_get",
            lambda _: select(_SETTINGS).where(_SETTINGS.c.conversation_id == bindparam("cid")),
        )
        row = (await run(self.session, read, {"cid": conversation_id})).one_or_none()
        if row is not None:
            return view(GroupSettingsView, row)
        await self._create(conversation_id, review_default)
        return view(
            GroupSettingsView, (await run(self.session, read, {"cid": conversation_id})).one()
        )

    async def _create(self, conversation_id: str, review_default: bool) -> None:
        await self.session.execute(
            upsert(self.session, GroupSettings)
            .values(
                conversation_id=conversation_id,
                review_stories=review_default,
                likes_dirty=False,
            )
            .on_conflict_do_nothing(index_elements=["conversation_id"])
        )

    async def _set(self, conversation_id: str, review_default: bool, **values: object) -> None:
        """Change the group's row with one UPDATE; only a group that has no row yet gets one
        first, with the defaults (reading it first would cost a statement on every like:
        issue 15, statements per message)."""
        change = (
            update(_SETTINGS).where(_SETTINGS.c.conversation_id == conversation_id).values(**values)
        )
        changed: CursorResult[Any] = await self.session.execute(change)  # type: ignore[assignment]
        if changed.rowcount == 0:
            await self._create(conversation_id, review_default)
            await self.session.execute(change)

    async def set_review(self, conversation_id: str, on: bool, *, review_default: bool) -> None:
        """Turn story review on or off for the group."""
        await self._set(conversation_id, review_default, review_stories=on)

    async def set_digest(
        self,
        conversation_id: str,
        *,
        weekday: int | None = None,
        time: str | None = None,
        enabled: bool | None = None,
        review_default: bool,
    ) -> None:
        """Change the group's digest slot or switch it on or off (what is None stays)."""
        values: dict[str, object] = {}
        if weekday is not None:
            values["digest_weekday"] = weekday
        if time is not None:
            values["digest_time"] = time
        if enabled is not None:
            values["digest_enabled"] = enabled
        await self._set(conversation_id, review_default, **values)

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
        await self._set(
            conversation_id, review_default, disabled_modules=",".join(sorted(disabled))
        )

    async def mark_likes_dirty(self, conversation_id: str, *, review_default: bool) -> None:
        """New like evidence: the group's weights need recomputing (its settings row is
        created first when the group has none), and the evidence's version moves on."""
        await self._set(
            conversation_id,
            review_default,
            likes_dirty=True,
            likes_version=_SETTINGS.c.likes_version + 1,
        )

    async def dirty_groups(self) -> list[str]:
        """Groups whose weights are out of date."""
        rows = await self.session.execute(
            select(GroupSettings.conversation_id).where(GroupSettings.likes_dirty.is_(True))
        )
        return list(rows.scalars())

    async def hold_rescoring(self, conversation_id: str) -> bool:
        """Whether this unit of work may rescore the group: False while another process's
        does (PostgreSQL: an advisory lock until the commit, taken without waiting; SQLite
        has one process). A row lock would not do: every like in the group marks the
        group's settings row dirty, and would wait for the whole rescoring."""
        if self.session.bind is None or self.session.bind.dialect.name != "postgresql":
            return True
        held = await self.session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:space, :group)"),
            {"space": RESCORE_LOCK_SPACE, "group": zlib.crc32(conversation_id.encode()) - 2**31},
        )
        return bool(held)

    async def is_dirty(self, conversation_id: str) -> bool:
        """Whether the group's weights are out of date (read now, not from the session)."""
        dirty = await self.session.scalar(
            select(GroupSettings.likes_dirty).where(
                GroupSettings.conversation_id == conversation_id
            )
        )
        return bool(dirty)

    async def clear_dirty(self, conversation_id: str, version: int | None = None) -> None:
        """The group's weights are current: those of evidence ``version`` (None: whatever
        it is now). A newer version (a like given while the group was re-scored) keeps the
        group dirty."""
        where = [_SETTINGS.c.conversation_id == conversation_id]
        if version is not None:
            where.append(_SETTINGS.c.likes_version == version)
        await self.session.execute(update(_SETTINGS).where(*where).values(likes_dirty=False))


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
    "GroupSettingsView",
    "InboxRepo",
    "InboxRow",
    "MemberRepo",
    "MemberRow",
    "OutboxRepo",
    "PaceRepo",
]
