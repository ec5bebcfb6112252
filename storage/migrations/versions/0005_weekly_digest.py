"""weekly digest

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 01:22:57.704091
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "digest_runs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "period", name="uq_digest_once"),
    )
    with op.batch_alter_table("group_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_weekday", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("digest_time", sa.String(length=5), nullable=True))
        batch_op.add_column(
            sa.Column("digest_enabled", sa.Boolean(), server_default=sa.true(), nullable=False)
        )

    with op.batch_alter_table("volunteer_hours", schema=None) as batch_op:
        batch_op.create_index("ix_hours_group_at", ["conversation_id", "at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("volunteer_hours", schema=None) as batch_op:
        batch_op.drop_index("ix_hours_group_at")

    with op.batch_alter_table("group_settings", schema=None) as batch_op:
        batch_op.drop_column("digest_enabled")
        batch_op.drop_column("digest_time")
        batch_op.drop_column("digest_weekday")

    op.drop_table("digest_runs")
