"""Migrations: the one Alembic chain (``storage/migrations``) brought to its head on start-up.

Alembic is imported only when there is something to migrate: a bot whose schema is already
at the head (``community-bot migrate`` ran as a release step, or an earlier start did it)
never loads it, about 11 MB resident (issue 15).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).with_name("migrations")
# How every revision file names itself and its parent (alembic's script template).
_REVISION = re.compile(r"""^revision(?:\s*:[^=]*)?\s*=\s*["']([^"']+)["']""", re.M)
_PARENTS = re.compile(r"^down_revision(?:\s*:[^=]*)?\s*=\s*(.+)$", re.M)


def alembic_config() -> AlembicConfig:
    """An Alembic config pointing at the packaged migrations."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    """The newest revision of the chain, read from the revision files without Alembic;
    ``None`` unless there is exactly one head (then Alembic decides what to do)."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("[0-9]*.py"):
        source = path.read_text(encoding="utf-8")
        found, down = _REVISION.search(source), _PARENTS.search(source)
        if found is None or down is None:
            return None
        revisions.add(found.group(1))
        parents.update(re.findall(r"""["']([^"']+)["']""", down.group(1)))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def current_revisions(connection: Connection) -> set[str]:
    """The revisions the schema is at: the rows of Alembic's version table
    (``alembic_version.version_num``, its documented default), none before the first run."""
    if not inspect(connection).has_table("alembic_version"):
        return set()
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
    return set(rows)


def upgrade(connection: Connection) -> None:
    """Bring the schema on ``connection`` to the newest revision (run with ``run_sync``)."""
    head = head_revision()
    if head is not None and current_revisions(connection) == {head}:
        return  # nothing to do: Alembic is not even imported
    if connection.in_transaction() and connection.dialect.name == "sqlite":
        # The look-up began a transaction, and the foreign-key pragma below works only
        # outside one (on PostgreSQL the advisory lock's transaction stays as it was).
        connection.rollback()
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    if connection.dialect.name != "sqlite":
        command.upgrade(cfg, "head")
        return
    # SQLite rebuilds a table to change it (Alembic's batch mode: copy, drop, rename), and
    # dropping a table that others reference with foreign keys on deletes their rows too
    # (ON DELETE CASCADE). SQLite's procedure for schema changes turns foreign keys off
    # outside the transaction, checks them before committing, and turns them back on
    # (https://www.sqlite.org/lang_altertable.html, section 7). The pragma is a no-op inside
    # a transaction, so it goes to the driver before Alembic begins one.
    raw = connection.connection
    _pragma(raw, "PRAGMA foreign_keys=OFF")
    try:
        command.upgrade(cfg, "head")
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migration left {len(broken)} broken foreign keys: {broken[:5]}")
        connection.commit()
    except BaseException:
        connection.rollback()  # the pragma below works only outside a transaction
        raise
    finally:
        _pragma(raw, "PRAGMA foreign_keys=ON")


def _pragma(raw: Any, statement: str) -> None:
    """Run a pragma on the driver's connection, outside SQLAlchemy's transaction handling."""
    cursor = raw.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()
