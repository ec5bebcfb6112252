"""admin audit, bans, forget requests, modules

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 01:08:36.476355
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_group", ["conversation_id", "id"], unique=False)

    op.create_table(
        "bans",
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.String(length=200), nullable=False),
        sa.Column("banned_by", sa.String(length=200), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "staff_id"),
    )
    op.create_table(
        "forget_requests",
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.String(length=200), nullable=False),
        sa.Column("requested_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "staff_id"),
    )
    with op.batch_alter_table("group_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("disabled_modules", sa.String(length=200), server_default="", nullable=False)
        )


def downgrade() -> None:

    with op.batch_alter_table("group_settings", schema=None) as batch_op:
        batch_op.drop_column("disabled_modules")

    op.drop_table("forget_requests")
    op.drop_table("bans")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_group")

    op.drop_table("audit_log")
