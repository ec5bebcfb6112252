"""dead letters in the inbox, per-install secrets

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 12:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("inbox_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error", sa.Text(), server_default="", nullable=False))
    op.create_table(
        "install_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:

    op.drop_table("install_secrets")
    with op.batch_alter_table("inbox_events", schema=None) as batch_op:
        batch_op.drop_column("error")
