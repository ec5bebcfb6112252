"""The AUTOINCREMENT migration keeps every row and every reference of an existing database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import Connection, text

from storage.db import Database
from storage.migrate import alembic_config

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC).isoformat()


def _to(connection: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def test_rebuilding_keeps_rows_likes_and_sign_ups(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    async with db.engine.connect() as conn:
        await conn.run_sync(_to, "0007")
        await conn.commit()
    async with db.transaction() as session:
        for sql in (
            "INSERT INTO stories (id, conversation_id, author_staff_id, author_nick, title, body,"
            " status, reject_reason, decided_by, created_at, likes, genuine_likes)"
            f" VALUES (7, 'g', 'alice', 'Alice', 't', 'b', 'approved', '', '', '{NOW}', 1, 1)",
            "INSERT INTO likes (story_id, conversation_id, staff_id, created_at, weight, reasons)"
            f" VALUES (7, 'g', 'bob', '{NOW}', 1, '')",
            "INSERT INTO events (id, conversation_id, title, starts_at, hours, place, seats,"
            " status, created_by, created_at, cancel_reason, reminded_24h, reminded_1h)"
            f" VALUES (4, 'g', 'e', '{NOW}', 1, 'p', 3, 'open', 'admin1', '{NOW}', '', 0, 0)",
            "INSERT INTO signups (event_id, conversation_id, staff_id, nick, status, created_at)"
            f" VALUES (4, 'g', 'bob', 'Bob', 'confirmed', '{NOW}')",
        ):
            await session.execute(text(sql))
    await db.migrate()
    async with db.transaction() as session:
        assert await session.scalar(text("SELECT count(*) FROM likes WHERE story_id = 7")) == 1
        assert await session.scalar(text("SELECT count(*) FROM signups WHERE event_id = 4")) == 1
        assert await session.scalar(text("PRAGMA foreign_keys")) == 1  # back on
        # The largest number in use is remembered: a new story continues after it, even
        # once #7 is gone.
        await session.execute(text("DELETE FROM stories WHERE id = 7"))
        await session.execute(
            text(
                "INSERT INTO stories (conversation_id, author_staff_id, author_nick, title, body,"
                " status, reject_reason, decided_by, created_at, likes, genuine_likes)"
                f" VALUES ('g', 'carol', 'Carol', 't', 'b', 'pending', '', '', '{NOW}', 0, 0)"
            )
        )
        assert await session.scalar(text("SELECT max(id) FROM stories")) == 8
        for table in ("stories", "events", "skill_posts", "swaps"):
            sql = await session.scalar(
                text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}
            )
            assert "AUTOINCREMENT" in sql, table
    await db.dispose()
