"""the per-group send pace, shared by every bot process

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 13:50:00.000000

Each process kept its own token bucket per group, so N processes could post N times a
group's rate. The bucket now lives in this table, taken in one statement.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_pace",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("stamp", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("send_pace")
