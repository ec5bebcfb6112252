"""check-in: events.checkin_code, event_checkins, checkin_guesses

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 16:40:00.000000

Honest hours (issue 17): an activity's short check-in code, each member's check-in, and
wrong guesses counted to slow down guessing.
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(
            sa.Column("checkin_code", sa.String(length=16), nullable=False, server_default="")
        )
    op.create_table(
        "event_checkins",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.String(length=200), nullable=False),
        sa.Column("nick", sa.String(length=200), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "staff_id", name="uq_checkin_once"),
    )
    op.create_index("ix_checkins_member", "event_checkins", ["conversation_id", "staff_id"])
    op.create_table(
        "checkin_guesses",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.String(length=200), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_checkin_guesses_member", "checkin_guesses", ["conversation_id", "staff_id", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_checkin_guesses_member", table_name="checkin_guesses")
    op.drop_table("checkin_guesses")
    op.drop_index("ix_checkins_member", table_name="event_checkins")
    op.drop_table("event_checkins")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("checkin_code")
