"""a version of a group's like evidence

Revision ID: 0024
Revises: 0020
Create Date: 2026-11-30 22:05:00.000000

Every change to a group's like evidence (a like given or taken back, a story taken down, a
member's likes erased) adds one to ``group_settings.likes_version`` as it marks the group
dirty. A re-scoring reads the version with the likes it scores and clears the dirty flag
only if the version is still the one it read: a like that lands while the group is being
re-scored keeps the group dirty, so it is scored by the next run instead of being lost.
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("group_settings") as batch:
        batch.add_column(
            sa.Column("likes_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("group_settings") as batch:
        batch.drop_column("likes_version")
