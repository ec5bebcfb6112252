"""runtime tables

Revision ID: 0001
Revises:
Create Date: 2026-11-22 00:16:23.417430
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "card_instances",
        sa.Column("out_track_id", sa.String(length=200), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("out_track_id"),
        sa.UniqueConstraint("conversation_id", "kind", "entity_id", "out_track_id"),
    )
    with op.batch_alter_table("card_instances", schema=None) as batch_op:
        batch_op.create_index("ix_cards_entity", ["kind", "entity_id"], unique=False)

    op.create_table(
        "conversations",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=2), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("first_seen_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "inbox_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("received_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("processed_at", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("inbox_events", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_member", ["conversation_id", "staff_id"], unique=False)
        batch_op.create_index("ix_inbox_received", ["received_at"], unique=False)
        batch_op.create_index("ix_inbox_status", ["status", "id"], unique=False)

    op.create_table(
        "members",
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.String(length=200), nullable=False),
        sa.Column("nick", sa.String(length=200), nullable=False),
        sa.Column("first_seen_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "staff_id"),
    )
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("idem_key", sa.String(length=200), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("conversation_type", sa.String(length=2), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("reply_staff_id", sa.String(length=200), nullable=False),
        sa.Column("session_webhook", sa.Text(), nullable=False),
        sa.Column("session_expires_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("lease_until", storage.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("route", sa.String(length=32), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idem_key"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox")
    op.drop_table("members")
    with op.batch_alter_table("inbox_events", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_status")
        batch_op.drop_index("ix_inbox_received")
        batch_op.drop_index("ix_inbox_member")

    op.drop_table("inbox_events")
    op.drop_table("conversations")
    with op.batch_alter_table("card_instances", schema=None) as batch_op:
        batch_op.drop_index("ix_cards_entity")

    op.drop_table("card_instances")
