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
import sqlite3
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.config import LikesConfig
from domain.honest_likes import REASON_NAMES, LikeTable, MemberSignals, Scores, reason_names, score
from domain.likes_outcome import Evidence, Outcome
from storage.likes import scoring_reads

NAME_BITS = {name: bit for bit, name in REASON_NAMES.items()}


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


CHUNK = 65_536  # rows fetched and turned into columns at a time (bounds the worker's memory)


@dataclass(slots=True)
class GroupInput:
    """A group's likes as columns, members and authors coded as integers into ``names``,
    reasons coded into ``reason_names``, and the members' signals."""

    like_id: npt.NDArray[np.int64]
    table: LikeTable
    weight: npt.NDArray[np.float64]
    reason: npt.NDArray[np.int64]  # codes into reason_names
    reason_names: list[str]
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


class _Likes:
    """Likes rows turned into columns a chunk at a time: a million rows of tuples, strings
    and floats at once took the worker to 650 MB resident; coded columns are ~45 MB."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.reasons: dict[str, int] = {}
        self.parts: list[list[npt.NDArray[Any]]] = [[] for _ in range(6)]

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        n = len(rows)
        ids, story, likers, at, weight, reasons = zip(*rows, strict=True)
        codes, known = self.codes, self.reasons
        for part, column in zip(
            self.parts,
            (
                np.fromiter(ids, np.int64, n),
                np.fromiter(story, np.int64, n),
                np.fromiter((codes.setdefault(m, len(codes)) for m in likers), np.int64, n),
                np.fromiter(at, np.float64, n),
                np.fromiter(weight, np.float64, n),
                np.fromiter((known.setdefault(r, len(known)) for r in reasons), np.int64, n),
            ),
            strict=True,
        ):
            part.append(column)

    def column(self, i: int, dtype: Any) -> npt.NDArray[Any]:
        parts = self.parts[i]
        return np.concatenate(parts) if parts else np.zeros(0, dtype)


def _sql(statement: Any, dialect: Any) -> tuple[str, list[Any]]:
    """A statement as SQL text with its positional parameters (qmark style), for the stdlib
    driver (``SQLCompiler.positiontup``: the parameters' names in order)."""
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    return str(compiled), [compiled.params[name] for name in compiled.positiontup or ()]


def _read_sqlite(url: str, conversation_id: str) -> tuple[_Likes, list[Any], list[Any], Any, Any]:
    """SQLite: the stdlib driver, read-only, fetched in chunks (no ORM rows, no event loop).
    Plain reads: the re-scoring's caller holds SQLite's write lock (``domain.likes.rescore``),
    so nothing changes between them."""
    from sqlalchemy.dialects import sqlite

    path = make_url(url).database or ""
    reads = scoring_reads("sqlite", conversation_id)
    dialect = sqlite.dialect()
    con = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        likes = _Likes()
        cursor = con.execute(*_sql(reads.likes, dialect))
        while rows := cursor.fetchmany(CHUNK):
            likes.add(rows)
        stories = con.execute(*_sql(reads.stories, dialect)).fetchall()
        members = con.execute(*_sql(reads.members, dialect)).fetchall()
        started = con.execute(*_sql(reads.started, dialect)).fetchone()
        version = con.execute(*_sql(reads.version, dialect)).fetchone()
    finally:
        con.close()
    return (
        likes,
        stories,
        members,
        started[0] if started else None,
        version[0] if version else None,
    )


async def _read_postgres(
    url: str, conversation_id: str
) -> tuple[_Likes, list[Any], list[Any], Any, Any]:
    """PostgreSQL: one REPEATABLE READ transaction, so the likes, the members and the
    version are of one moment; the likes streamed in chunks (a server-side cursor)."""
    engine = create_async_engine(worker_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                reads = scoring_reads("postgresql", conversation_id)
                likes = _Likes()
                result = await conn.stream(reads.likes)
                async for rows in result.partitions(CHUNK):
                    likes.add(rows)
                stories = list((await conn.execute(reads.stories)).all())
                members = list((await conn.execute(reads.members)).all())
                started = (await conn.execute(reads.started)).scalar_one_or_none()
                version = (await conn.execute(reads.version)).scalar_one_or_none()
    finally:
        await engine.dispose()
    return likes, stories, members, started, version


def read_group(url: str, conversation_id: str) -> GroupInput:
    """Read what the scorer needs of a group over a connection of this process's own."""
    if make_url(url).get_backend_name() == "sqlite":
        read = _read_sqlite(url, conversation_id)
    else:
        read = asyncio.run(_read_postgres(url, conversation_id))
    likes, stories, members, started, version = read
    story = likes.column(1, np.int64)
    # Each like's story among the group's stories (sorted by id): its author, and whether
    # it was taken down (its likes are not scored).
    s_ids, s_authors, s_gone = zip(*stories, strict=True) if stories else ((),) * 3
    ids = np.fromiter(s_ids, np.int64, len(stories))
    by_id = np.argsort(ids)
    at = np.minimum(np.searchsorted(ids, story, sorter=by_id), max(len(ids) - 1, 0))
    index = by_id[at] if len(ids) else np.zeros(0, np.int64)
    keep = (ids[index] == story) if len(ids) else np.zeros(len(story), bool)
    keep &= ~np.fromiter(s_gone, bool, len(stories))[index] if len(ids) else keep
    codes = likes.codes
    author_codes = np.fromiter(
        (codes.setdefault(a, len(codes)) for a in s_authors), np.int64, len(stories)
    )
    m_ids, m_first, m_other = zip(*members, strict=True) if members else ((),) * 3
    table = LikeTable(
        story=story[keep],
        liker=likes.column(2, np.int64)[keep],
        author=author_codes[index[keep]] if len(ids) else np.zeros(0, np.int64),
        at=likes.column(3, np.float64)[keep],
        names=list(codes),
    )
    return GroupInput(
        like_id=likes.column(0, np.int64)[keep],
        table=table,
        weight=likes.column(4, np.float64)[keep],
        reason=likes.column(5, np.int64)[keep],
        reason_names=list(likes.reasons),
        members=MemberColumns(
            list(m_ids),
            np.fromiter(m_first, np.float64, len(members)),
            np.fromiter(m_other, np.int64, len(members)),
            frozenset(s_authors),
        ),
        started=float(started) if started is not None else None,
        version=int(version or 0),
    )


async def read_group_async(url: str, conversation_id: str) -> GroupInput:
    """``read_group`` from a coroutine (in a thread: it runs its own event loop)."""
    return await asyncio.to_thread(read_group, url, conversation_id)


def _mask(reasons: str) -> int:
    """The bit mask of a reasons string on record (an unknown name: a mask no score has)."""
    mask = 0
    for name in filter(None, reasons.split(",")):
        mask |= NAME_BITS.get(name, 1 << 7)
    return mask


def score_group(group: GroupInput, cfg: LikesConfig, zone: ZoneInfo) -> tuple[Scores, Outcome]:
    """Score the group's likes and find what changed against the weights on record."""
    table = group.table
    # Everyone already in the group speaks for the first time after the bot joins: a
    # member first seen while the group was new to the bot is not a fresh account.
    settled = group.started + cfg.fresh_member_hours * 3600 if group.started is not None else None
    scores = score(table, group.members, cfg, zone, settled)
    old_masks = np.array([_mask(r) for r in group.reason_names], np.int64)
    old_reasons = old_masks[group.reason] if len(group) else np.zeros(0, np.int64)
    reweighed = np.abs(scores.weight - group.weight) > 1e-9
    order = np.flatnonzero(reweighed | (scores.reasons != old_reasons))
    masks = np.unique(scores.reasons[order])
    names = {int(mask): ",".join(reason_names(int(mask))) for mask in masks}
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
            bursts=list(scores.bursts),
            rings=list(scores.rings),
            like_only=dict(scores.like_only),
            capped=dict(scores.capped),
        ),
    )
    return scores, outcome


def rescore_group(url: str, conversation_id: str, cfg: LikesConfig, zone: ZoneInfo) -> Outcome:
    """The worker's job: read, score, compare; only what changed goes back."""
    return score_group(read_group(url, conversation_id), cfg, zone)[1]
