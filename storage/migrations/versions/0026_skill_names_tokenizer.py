"""which tokenizer cut each skill name's keywords

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-01 03:45:00.000000

Skill names indexed before the tokenizer changed (jieba's whole dictionary, then a subset
of it in jieba-rs) keep the keywords that tokenizer gave them; with rare words they differ
from what the present one gives a new post, and the two then match less well. Each name
now records the tokenizer that cut it (``domain.skill_match.TOKENIZER_ID``); the
``skills-reindex`` job re-cuts the others a few at a time. Existing names get '' (unknown),
so each is checked once.
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("skill_names") as batch:
        batch.add_column(
            sa.Column("tokenizer", sa.String(length=40), nullable=False, server_default="")
        )
    op.create_index("ix_skill_names_tokenizer", "skill_names", ["tokenizer", "id"])


def downgrade() -> None:
    op.drop_index("ix_skill_names_tokenizer", table_name="skill_names")
    with op.batch_alter_table("skill_names") as batch:
        batch.drop_column("tokenizer")
