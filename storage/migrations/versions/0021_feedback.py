"""feedback: members' feedback to the admins and the answers (/反馈, /回复)

Revision ID: 0021
Revises: 0018
Create Date: 2026-11-30 19:30:00.000000

Numbered for people (``/回复 <编号>``): SQLite AUTOINCREMENT, so a number is never reused
after an erasure (https://www.sqlite.org/autoinc.html), as for stories and activities.
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0021"
down_revision = "0018"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.String(length=200), nullable=False),
        sa.Column("nick", sa.String(length=200), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=200), nullable=True),
        sa.Column("answered_at", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_feedback_member", "feedback", ["conversation_id", "staff_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_feedback_member", table_name="feedback")
    op.drop_table("feedback")
