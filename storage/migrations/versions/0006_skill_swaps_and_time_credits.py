"""skill swaps and time credits

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 01:29:06.377372
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "ledger",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("swap_id", sa.BigInteger(), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("swap_id", "account", name="uq_ledger_leg"),
    )
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_account", ["conversation_id", "account"], unique=False)

    op.create_table(
        "skill_posts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.String(length=200), nullable=False),
        sa.Column("nick", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("skill", sa.String(length=200), nullable=False),
        sa.Column("keywords", sa.String(length=500), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("skill_posts", schema=None) as batch_op:
        batch_op.create_index("ix_posts_group", ["conversation_id", "status", "kind"], unique=False)
        batch_op.create_index("ix_posts_member", ["conversation_id", "staff_id"], unique=False)

    op.create_table(
        "swaps",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("proposer", sa.String(length=200), nullable=False),
        sa.Column("partner", sa.String(length=200), nullable=False),
        sa.Column("teacher", sa.String(length=200), nullable=False),
        sa.Column("learner", sa.String(length=200), nullable=False),
        sa.Column("skill", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("swaps", schema=None) as batch_op:
        batch_op.create_index("ix_swaps_group", ["conversation_id", "status"], unique=False)
        batch_op.create_index("ix_swaps_post", ["post_id", "status"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("swaps", schema=None) as batch_op:
        batch_op.drop_index("ix_swaps_post")
        batch_op.drop_index("ix_swaps_group")

    op.drop_table("swaps")
    with op.batch_alter_table("skill_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_member")
        batch_op.drop_index("ix_posts_group")

    op.drop_table("skill_posts")
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_account")

    op.drop_table("ledger")
