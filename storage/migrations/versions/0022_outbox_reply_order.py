"""an index for the reply order across processes

Revision ID: 0022
Revises: 0019
Create Date: 2026-11-30 19:00:00.000000

A member's replies keep their order across processes: every write and every claim of an
outbox row looks up the older pending rows of its order key (conversation, member).
"""

from alembic import op

revision = "0022"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_outbox_order",
        "outbox",
        ["status", "conversation_id", "reply_staff_id", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_order", table_name="outbox")
