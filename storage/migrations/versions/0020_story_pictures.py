"""pictures in stories: story_pictures

Revision ID: 0020
Revises: 0022
Create Date: 2026-11-30 19:10:00.000000

A picture sent with a story is recorded with the story (its download code), fetched
afterwards outside the message's transaction, and kept in the database within a size
limit, with the media id DingTalk gave it when it was uploaded for the story's card.
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0020"
down_revision = "0022"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "story_pictures",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("story_id", BigId, nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.String(length=200), nullable=False),
        sa.Column("download_code", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", storage.types.UTCDateTime(), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("media_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_story_pictures_story", "story_pictures", ["story_id"])
    op.create_index("ix_story_pictures_due", "story_pictures", ["status", "lease_until"])
    op.create_index("ix_story_pictures_member", "story_pictures", ["conversation_id", "staff_id"])


def downgrade() -> None:
    op.drop_table("story_pictures")
