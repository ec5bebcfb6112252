"""the buttons each card was delivered with

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 13:30:00.000000

A click is checked against the card it came from: its verb must be one of the card's own
buttons. Cards delivered before this revision have none recorded (empty): for them the
card's kind still decides which verbs apply.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("card_instances", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("actions", sa.String(length=200), server_default="", nullable=False)
        )


def downgrade() -> None:

    with op.batch_alter_table("card_instances", schema=None) as batch_op:
        batch_op.drop_column("actions")
