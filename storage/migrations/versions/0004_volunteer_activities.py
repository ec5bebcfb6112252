"""volunteer activities

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 01:14:26.489365
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("reminded_24h", sa.Boolean(), nullable=False),
        sa.Column("reminded_1h", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_group", ["conversation_id", "status", "starts_at"], unique=False
        )

    op.create_table(
        "volunteer_hours",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "staff_id", name="uq_hours_once"),
    )
    with op.batch_alter_table("volunteer_hours", schema=None) as batch_op:
        batch_op.create_index("ix_hours_member", ["conversation_id", "staff_id"], unique=False)

    op.create_table(
        "signups",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.String(length=200), nullable=False),
        sa.Column("nick", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "staff_id", name="uq_signup_once"),
    )
    with op.batch_alter_table("signups", schema=None) as batch_op:
        batch_op.create_index("ix_signups_event", ["event_id", "status", "id"], unique=False)
        batch_op.create_index("ix_signups_member", ["conversation_id", "staff_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("signups", schema=None) as batch_op:
        batch_op.drop_index("ix_signups_member")
        batch_op.drop_index("ix_signups_event")

    op.drop_table("signups")
    with op.batch_alter_table("volunteer_hours", schema=None) as batch_op:
        batch_op.drop_index("ix_hours_member")

    op.drop_table("volunteer_hours")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_group")

    op.drop_table("events")
