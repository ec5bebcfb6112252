"""digest indexes for skills

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 01:33:31.617208
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("skill_posts", schema=None) as batch_op:
        batch_op.create_index("ix_posts_recent", ["conversation_id", "created_at"], unique=False)

    with op.batch_alter_table("swaps", schema=None) as batch_op:
        batch_op.create_index(
            "ix_swaps_recent", ["conversation_id", "status", "updated_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("swaps", schema=None) as batch_op:
        batch_op.drop_index("ix_swaps_recent")

    with op.batch_alter_table("skill_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_recent")
