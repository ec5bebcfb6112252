"""stories and likes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 01:00:36.777671
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "group_settings",
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("review_stories", sa.Boolean(), nullable=False),
        sa.Column("likes_dirty", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id"),
    )
    op.create_table(
        "stories",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("author_staff_id", sa.String(length=200), nullable=False),
        sa.Column("author_nick", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reject_reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("decided_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("likes", sa.Integer(), nullable=False),
        sa.Column("genuine_likes", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stories_author", ["conversation_id", "author_staff_id"], unique=False
        )
        batch_op.create_index(
            "ix_stories_group", ["conversation_id", "status", "decided_at"], unique=False
        )

    op.create_table(
        "likes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("story_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("reasons", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("story_id", "staff_id", name="uq_like_once"),
    )
    with op.batch_alter_table("likes", schema=None) as batch_op:
        batch_op.create_index("ix_likes_group", ["conversation_id", "created_at"], unique=False)
        batch_op.create_index(
            "ix_likes_member", ["conversation_id", "staff_id", "created_at"], unique=False
        )

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("like_messages", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("dingtalk_admin", sa.Boolean(), server_default="0", nullable=False)
        )


def downgrade() -> None:

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("dingtalk_admin")
        batch_op.drop_column("like_messages")

    with op.batch_alter_table("likes", schema=None) as batch_op:
        batch_op.drop_index("ix_likes_member")
        batch_op.drop_index("ix_likes_group")

    op.drop_table("likes")
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.drop_index("ix_stories_group")
        batch_op.drop_index("ix_stories_author")

    op.drop_table("stories")
    op.drop_table("group_settings")
