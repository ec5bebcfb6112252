"""Where a benchmark keeps its data: a fresh SQLite file or a fresh PostgreSQL database.

PostgreSQL is reached through ``--postgres URL`` or ``COMMUNITY_BOT_TEST_POSTGRES`` (a role
that may create databases); each run gets a database of its own, dropped afterwards.
Benchmarks that generate a large history write it with ``sqlite3`` (fast) and, on
PostgreSQL, copy it over with ``COPY`` (``copy_sqlite_into``).
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

BACKENDS = ("sqlite", "postgresql")


def admin_url(given: str | None = None) -> str:
    """The PostgreSQL server to create benchmark databases on."""
    url = given or os.environ.get("COMMUNITY_BOT_TEST_POSTGRES", "")
    if not url:
        raise SystemExit("PostgreSQL: pass --postgres URL or set COMMUNITY_BOT_TEST_POSTGRES")
    return url


def _plain(url: str) -> str:
    """A URL asyncpg takes (no SQLAlchemy driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def database(
    backend: str, folder: Path, name: str, server: str | None = None
) -> AsyncIterator[str]:
    """A storage URL on a fresh database of ``backend``; a PostgreSQL one is dropped after."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / (name + '.sqlite3')}"
        return
    base = admin_url(server)
    db_name = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_plain(base))
    try:
        await admin.execute(f'CREATE DATABASE "{db_name}"')
    finally:
        await admin.close()
    try:
        yield make_url(base).set(database=db_name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(_plain(base))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        finally:
            await admin.close()


def _converter(data_type: str) -> Any:
    if data_type.startswith("timestamp"):
        return lambda v: None if v is None else datetime.fromisoformat(str(v)).replace(tzinfo=None)
    if data_type == "boolean":
        return lambda v: None if v is None else bool(v)
    if data_type in ("double precision", "real", "numeric"):
        return lambda v: None if v is None else float(v)
    if data_type in ("integer", "bigint", "smallint"):
        return lambda v: None if v is None else int(v)
    return lambda v: v


async def copy_sqlite_into(source: Path, url: str, tables: list[str]) -> None:
    """Copy ``tables`` from a migrated SQLite file into the migrated PostgreSQL ``url``
    (whose rows in them are replaced), then move the id sequences past the copied ids
    and ANALYZE, as a live database would have its statistics."""
    lite = sqlite3.connect(source)
    conn = await asyncpg.connect(_plain(url))
    try:
        for table in tables:
            columns = await conn.fetch(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_name = $1 ORDER BY ordinal_position",
                table,
            )
            names = [c["column_name"] for c in columns]
            convert = [_converter(c["data_type"]) for c in columns]
            await conn.execute(f'TRUNCATE "{table}" CASCADE')
            cursor = lite.execute(f"SELECT {', '.join(names)} FROM {table}")
            while batch := cursor.fetchmany(50_000):
                records = [tuple(f(v) for f, v in zip(convert, row, strict=True)) for row in batch]
                await conn.copy_records_to_table(table, records=records, columns=names)
            types = {c["column_name"]: c["data_type"] for c in columns}
            if types.get("id") in ("integer", "bigint"):
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f' GREATEST((SELECT max(id) FROM "{table}"), 1))'
                )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
        lite.close()
