"""events.cards_closed: the sign-up cards were told that sign-ups closed at the start

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 16:15:00.000000

Every activity card shows its state (issue 17); the moment sign-ups close is the start,
which no member action marks, so the reminders job updates the cards then, once (the flag
flips in the same statement, as the reminder flags do).
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(
            sa.Column("cards_closed", sa.Boolean(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("cards_closed")
