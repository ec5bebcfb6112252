"""Migrations: the one Alembic chain (``storage/migrations``) brought to its head on start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> AlembicConfig:
    """An Alembic config pointing at the packaged migrations."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(connection: Connection) -> None:
    """Bring the schema on ``connection`` to the newest revision (run with ``run_sync``)."""
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
