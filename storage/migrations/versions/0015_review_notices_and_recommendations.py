"""review notices to admins; weekly recommendation opt-ins

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 16:00:00.000000

Admins hear of pending stories without polling: one notice per group per interval, naming
the stories not yet announced; when a story was announced settles both. Members may opt in
to their recommendations one to one each week; the last week served makes it once a week.
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("review_noticed_at", storage.types.UTCDateTime(), nullable=True)
        )
        batch_op.create_index("ix_stories_unnoticed", ["status", "review_noticed_at"], unique=False)
    op.create_table(
        "recommend_subscriptions",
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("last_period", sa.String(length=16), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "staff_id"),
    )


def downgrade() -> None:
    op.drop_table("recommend_subscriptions")
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.drop_index("ix_stories_unnoticed")
        batch_op.drop_column("review_noticed_at")
