"""Query helpers every repository uses: the dialect, prebuilt hot statements, Core execution on
the session's connection, and dialect inserts with ``ON CONFLICT``. Public, so repositories in
any module of ``storage`` use the same idiom (and none imports another's private helpers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Executable, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

_PREBUILT: dict[tuple[str, str], Any] = {}


def table(model: type[Any]) -> Table:
    """The Core table of a mapped class (for Core statements on hot paths)."""
    found: Table = model.__table__
    return found


def dialect(session: AsyncSession) -> str:
    """``postgresql`` or ``sqlite``: the database the session talks to."""
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def prebuilt(session: AsyncSession, name: str, build: Callable[[Any], Executable]) -> Any:
    """A hot statement built once per dialect and run with bound parameters.

    Building a SQLAlchemy statement costs more than running it on SQLite; the hot paths
    (claim, touch, mark sent) build theirs once. ``build`` gets the dialect's ``insert``.
    """
    key = (dialect(session), name)
    stmt = _PREBUILT.get(key)
    if stmt is None:
        insert = pg_insert if key[0] == "postgresql" else sqlite_insert
        stmt = _PREBUILT[key] = build(insert)
    return stmt


async def run(session: AsyncSession, stmt: Any, params: Any = None) -> Any:
    """Run a Core statement on the session's connection (same transaction), skipping the ORM
    session's per-statement machinery: the hot paths pay for that on every message."""
    connection = await session.connection()
    return await connection.execute(stmt, params)


def upsert(session: AsyncSession, model: Any) -> Any:
    """A dialect insert that supports ``on_conflict_do_nothing`` / ``do_update``."""
    return (pg_insert if dialect(session) == "postgresql" else sqlite_insert)(model)
