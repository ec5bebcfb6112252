"""Storage on every backend: the migrated schema is the models' schema, and values come back
with the Python types the code computes with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from domain.likes_worker import read_group_async
from storage.db import Database
from storage.models import Base, Like, Member, Story


def _drift(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_build_exactly_the_models_schema(storage_url: str) -> None:
    db = Database(storage_url)
    try:
        await db.migrate()
        async with db.engine.connect() as conn:
            drift = await conn.run_sync(_drift)
    finally:
        await db.dispose()
    assert drift == [], "models and migrations differ (write a migration):\n" + "\n".join(
        map(str, drift)
    )


async def test_scoring_input_times_are_floats_on_every_backend(storage_url: str) -> None:
    # PostgreSQL's EXTRACT answers numeric (Decimal in Python); the scorer subtracts floats.
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    db = Database(storage_url)
    try:
        await db.migrate()
        async with db.transaction() as session:
            story = Story(
                conversation_id="g",
                author_staff_id="alice",
                title="t",
                body="b",
                status="approved",
                created_at=now,
            )
            session.add(story)
            session.add(
                Member(conversation_id="g", staff_id="bob", first_seen_at=now, last_seen_at=now)
            )
            await session.flush()
            session.add(
                Like(
                    story_id=story.id,
                    conversation_id="g",
                    staff_id="bob",
                    created_at=now + timedelta(seconds=1.5),
                )
            )
        # What the re-scoring's worker process reads, over its own connection.
        group = await read_group_async(storage_url, "g")
    finally:
        await db.dispose()
    [liked_at] = group.table.at.tolist()  # the like's time, the member's first sight
    first_seen = group.members["bob"].first_seen
    assert type(liked_at) is float and type(first_seen) is float
    # SQLite computes them from Julian days: exact to about a millisecond.
    assert abs(liked_at - first_seen - 1.5) < 0.01
    assert abs(first_seen - now.timestamp()) < 0.01
