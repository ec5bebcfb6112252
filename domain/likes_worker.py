"""The heavy part of re-scoring a group's honest likes, run in a worker process.

``domain.likes.rescore`` (the bot's side) hands this module a storage URL and a group; here,
in a process of its own, the group's likes are read over the worker's own connection,
scored (``domain.honest_likes``, numpy) and compared with the weights on record, and only
what changed goes back (``domain.likes_outcome.Outcome``, plain ``array`` columns).

Why a process: at a million likes, reading and scoring create tens of millions of Python
objects; in the bot's process the garbage collector's full passes over them held the event
loop 50-130 ms each, and a thread does not help (the GIL). numpy is imported here only.
"""

from __future__ import annotations

import asyncio
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from bot.config import LikesConfig
from domain.honest_likes import LikeTable, MemberSignals, Scores, reason_names, score
from domain.likes_outcome import Burst, Evidence, Outcome
from storage.likes import scoring_reads


def worker_url(url: str) -> str:
    """The storage URL with a driver this process can use: the stock ones (aiosqlite,
    asyncpg); the bot's inline SQLite driver is for its event loop."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


@dataclass(slots=True)
class GroupInput:
    """A group's likes and members as the scorer reads them."""

    like_id: npt.NDArray[np.int64]
    story: npt.NDArray[np.int64]
    likers: list[str]
    authors: list[str]
    at: npt.NDArray[np.float64]
    weight: npt.NDArray[np.float64]
    reasons: npt.NDArray[Any]  # str objects
    members: MemberColumns
    started: float | None
    version: int

    def __len__(self) -> int:
        return len(self.like_id)


class MemberColumns(Mapping[str, MemberSignals]):
    """The members' signals, looked up by id, kept as columns (no object per member)."""

    def __init__(
        self,
        ids: Sequence[str],
        first: npt.NDArray[np.float64],
        other: npt.NDArray[np.int64],
        wrote: frozenset[str],
    ) -> None:
        self._first = first
        self._other = other
        self._index = {member: i for i, member in enumerate(ids)}
        self._wrote = wrote

    def __getitem__(self, staff: str) -> MemberSignals:
        i = self._index[staff]
        active = bool(self._other[i] > 0) or staff in self._wrote
        return MemberSignals(first_seen=float(self._first[i]), active=active)

    def __contains__(self, staff: object) -> bool:
        return staff in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


async def _read(conn: AsyncConnection, conversation_id: str) -> GroupInput:
    reads = scoring_reads(conn.dialect.name, conversation_id)
    likes = (await conn.execute(reads.likes)).all()
    members = (await conn.execute(reads.members)).all()
    authors = (await conn.execute(reads.authors)).all()
    started = (await conn.execute(reads.started)).scalar_one_or_none()
    version = (await conn.execute(reads.version)).scalar_one_or_none()
    n = len(likes)
    ids, story, likers, writers, at, weight, reasons = (
        zip(*likes, strict=True) if likes else ((),) * 7
    )
    m_ids, m_first, m_other = zip(*members, strict=True) if members else ((),) * 3
    return GroupInput(
        like_id=np.fromiter(ids, np.int64, n),
        story=np.fromiter(story, np.int64, n),
        likers=list(likers),
        authors=list(writers),
        at=np.fromiter(at, np.float64, n),
        weight=np.fromiter(weight, np.float64, n),
        reasons=np.array(reasons, object) if n else np.empty(0, object),
        members=MemberColumns(
            list(m_ids),
            np.fromiter(m_first, np.float64, len(members)),
            np.fromiter(m_other, np.int64, len(members)),
            frozenset(a for a, stories in authors if stories > 0),
        ),
        started=float(started) if started is not None else None,
        version=int(version or 0),
    )


async def read_group_async(url: str, conversation_id: str) -> GroupInput:
    """Read what the scorer needs of a group over a connection of this process's own.

    PostgreSQL: one REPEATABLE READ transaction, so the likes, the members and the version
    are of one moment. SQLite: plain reads; the re-scoring's caller holds SQLite's write
    lock (``domain.likes.rescore``), so nothing changes between them.
    """
    engine = create_async_engine(worker_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                return await _read(conn, conversation_id)
    finally:
        await engine.dispose()


def read_group(url: str, conversation_id: str) -> GroupInput:
    """``read_group_async`` from synchronous code (the worker process has no event loop)."""
    return asyncio.run(read_group_async(url, conversation_id))


def score_group(group: GroupInput, cfg: LikesConfig, zone: ZoneInfo) -> tuple[Scores, Outcome]:
    """Score the group's likes and find what changed against the weights on record."""
    table = LikeTable.build(group.story, group.likers, group.authors, group.at)
    # Everyone already in the group speaks for the first time after the bot joins: a
    # member first seen while the group was new to the bot is not a fresh account.
    settled = group.started + cfg.fresh_member_hours * 3600 if group.started is not None else None
    scores = score(table, group.members, cfg, zone, settled)
    masks = np.unique(scores.reasons)
    names = {int(mask): ",".join(reason_names(int(mask))) for mask in masks}
    named = np.array([names[int(mask)] for mask in masks], object)
    reasons = named[np.searchsorted(masks, scores.reasons)] if len(masks) else group.reasons
    reweighed = np.abs(scores.weight - group.weight) > 1e-9
    order = np.flatnonzero(reweighed | (reasons != group.reasons))
    # Only stories with a changed weight can have a changed genuine count (raw counts and
    # new likes are recounted when a like comes or goes). Their counts, from the weights as
    # they will be on record: what a recount in SQL would find.
    final = group.weight.copy()
    final[order] = scores.weight[order]
    story_ids, inverse, counts = np.unique(table.story, return_inverse=True, return_counts=True)
    genuine = np.bincount(inverse, weights=final, minlength=len(story_ids))
    touched = np.isin(story_ids, table.story[reweighed])
    outcome = Outcome(
        version=group.version,
        likes=len(group),
        like_ids=array("q", group.like_id[order].tobytes()),
        weights=array("d", scores.weight[order].tobytes()),
        reason_codes=array("B", scores.reasons[order].astype(np.uint8).tobytes()),
        reason_names=names,
        story_ids=array("q", story_ids[touched].astype(np.int64).tobytes()),
        story_likes=array("q", counts[touched].astype(np.int64).tobytes()),
        story_genuine=array("d", genuine[touched].astype(np.float64).tobytes()),
        evidence=Evidence(
            bursts=[
                Burst(b.story_id, b.likes, b.seconds, b.fresh, b.inactive, b.discounted, b.start)
                for b in scores.bursts
            ],
            rings=list(scores.rings),
            like_only=dict(scores.like_only),
            capped=dict(scores.capped),
        ),
    )
    return scores, outcome


def rescore_group(url: str, conversation_id: str, cfg: LikesConfig, zone: ZoneInfo) -> Outcome:
    """The worker's job: read, score, compare; only what changed goes back."""
    return score_group(read_group(url, conversation_id), cfg, zone)[1]
