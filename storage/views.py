"""Frozen views: what a repository returns when it reads.

A view is a frozen dataclass of a row's columns. It is safe to keep after its unit of work,
unlike an ORM row: once its session is gone the row is detached, and an assignment to it is
silently lost. To change something, call its repository (status changes are conditional
UPDATEs that settle races in SQL and return the view as it is after the change).

A repository reads Core rows (``select(table(Model))``, or ``RETURNING`` all columns of what
it wrote) with ``read_one`` / ``read_all``, or turns rows into views itself with ``view`` /
``views``: the columns the view names are taken, any other (a score, a join) is left to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Executable
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

V = TypeVar("V", bound="DataclassInstance")


@cache
def _names(cls: type[DataclassInstance]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def view(cls: type[V], row: Any) -> V:
    """``row`` (a Core row, or an ORM row) as a ``cls``: the columns ``cls`` names."""
    mapping = getattr(row, "_mapping", None)
    if mapping is not None:
        return cls(**{name: mapping[name] for name in _names(cls)})
    return cls(**{name: getattr(row, name) for name in _names(cls)})


def views(cls: type[V], rows: Iterable[Any]) -> list[V]:
    """Every row of ``rows`` as a ``cls``."""
    return [view(cls, row) for row in rows]


async def read_one(session: AsyncSession, cls: type[V], stmt: Executable) -> V | None:
    """The one row ``stmt`` finds (or returns) as a ``cls``; None when there is none."""
    row = (await session.execute(stmt)).one_or_none()
    return view(cls, row) if row is not None else None


async def read_written(session: AsyncSession, cls: type[V], stmt: Executable) -> V:
    """The row an ``INSERT … RETURNING`` wrote, as a ``cls``."""
    return view(cls, (await session.execute(stmt)).one())


async def read_all(session: AsyncSession, cls: type[V], stmt: Executable) -> list[V]:
    """Every row ``stmt`` finds as a ``cls``, in its order."""
    return views(cls, await session.execute(stmt))


@dataclass(frozen=True, slots=True)
class Card:
    """A delivered card (cards never change once delivered)."""

    out_track_id: str
    conversation_id: str
    kind: str
    entity_id: str
    verbs: tuple[str, ...]  # its buttons' verbs (empty: not recorded, older cards)


@dataclass(frozen=True, slots=True)
class MemberView:
    """A member of a conversation."""

    conversation_id: str
    staff_id: str
    nick: str
    first_seen_at: datetime
    messages: int
    dingtalk_admin: bool  # DingTalk's isAdmin flag on the member's latest message


@dataclass(frozen=True, slots=True)
class GroupSettingsView:
    """A group's switches (``GroupSettingsRepo``)."""

    conversation_id: str
    review_stories: bool
    likes_dirty: bool
    disabled_modules: str  # comma-separated
    digest_weekday: int | None
    digest_time: str | None
    digest_enabled: bool


@dataclass(frozen=True, slots=True)
class AuditView:
    """An admin action of the audit log (``AuditRepo``)."""

    id: int
    conversation_id: str
    staff_id: str
    action: str
    detail: str
    at: datetime


@dataclass(frozen=True, slots=True)
class DigestRunView:
    """A digest period of a group, recorded once (``DigestRepo``)."""

    id: int
    conversation_id: str
    period: str
    status: str  # posted | empty | skipped | manual
    at: datetime


@dataclass(frozen=True, slots=True)
class PostView:
    """A skill a member offers or wants (``SkillRepo``)."""

    id: int
    conversation_id: str
    staff_id: str
    nick: str
    kind: str  # offer | want
    skill: str
    keywords: str
    detail: str
    status: str  # open | withdrawn
    created_at: datetime
    name_id: int | None


@dataclass(frozen=True, slots=True)
class SwapView:
    """A swap and where it stands (``SwapRepo``)."""

    id: int
    conversation_id: str
    post_id: int
    proposer: str
    partner: str
    teacher: str
    learner: str
    skill: str
    status: str  # proposed | accepted | declined | cancelled | done_pending | done
    hours: float | None
    recorded_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerView:
    """One leg of a time-credit transfer (``LedgerRepo``)."""

    id: int
    conversation_id: str
    swap_id: int
    account: str
    amount: float
    at: datetime
