"""reminders you can set: events.reminders, event_reminders_sent, reminder_optouts

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 17:00:00.000000

Each activity may have its own reminder plan (``/活动 提醒 <id> 2h,15m``; empty: the
config's default); a row per reminder sent makes each go out once across restarts and
processes (inserted before the send, unique per activity and offset); members may turn
their own one-to-one reminders off per group. Reminders the fixed 24 h / 1 h flags already
recorded as sent are carried over, so an upgrade does not send them again.
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(
            sa.Column("reminders", sa.String(length=100), nullable=False, server_default="")
        )
    op.create_table(
        "event_reminders_sent",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "minutes", name="uq_reminder_once"),
    )
    op.create_table(
        "reminder_optouts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.String(length=200), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "staff_id", name="uq_reminder_optout"),
    )
    op.execute(
        "INSERT INTO event_reminders_sent (event_id, minutes) "
        "SELECT id, 1440 FROM events WHERE reminded_24h"
    )
    op.execute(
        "INSERT INTO event_reminders_sent (event_id, minutes) "
        "SELECT id, 60 FROM events WHERE reminded_1h"
    )


def downgrade() -> None:
    op.drop_table("reminder_optouts")
    op.drop_table("event_reminders_sent")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("reminders")
