"""recurring activities: event_series, events.series_id / occurs_on

Revision ID: 0019
Revises: 0021
Create Date: 2026-11-30 19:00:00.000000

A series (``/活动 新建 … | 每周三``) creates its occurrences ahead, each an activity of its
own. The unique index on (series_id, occurs_on) is what makes that idempotent: two
processes or a restart creating the same date insert one row (``ON CONFLICT DO NOTHING``).
It is an index rather than a table constraint, and series_id has no foreign key, so SQLite
adds both with plain ALTER statements instead of rebuilding ``events`` (a rebuild would lose
its AUTOINCREMENT, which keeps activity numbers from ever being reused).
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0019"
# The chain this session: 0018 → 0021 (feedback) → 0019 (series) → 0022 (reply order) → 0020 (story pictures).
down_revision = "0021"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "event_series",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("local_time", sa.String(length=5), nullable=False),
        sa.Column("first_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_series_open", "event_series", ["status"])
    op.add_column("events", sa.Column("series_id", sa.BigInteger(), nullable=True))
    op.add_column("events", sa.Column("occurs_on", sa.Date(), nullable=True))
    op.create_index("uq_series_occurrence", "events", ["series_id", "occurs_on"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_series_occurrence", table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("occurs_on")
        batch.drop_column("series_id")
    op.drop_index("ix_series_open", table_name="event_series")
    op.drop_table("event_series")
