"""skill names never reuse an id (SQLite AUTOINCREMENT), so the largest is a version

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 13:15:00.000000
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_index("ix_skill_names_group", "skill_names", ["conversation_id", "id"])
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL identities never go back
    # domain/skills.py caches match scores per group under the largest skill-name id: a
    # reused id would make a stale cache look current (see 0009 for the rebuild).
    with op.batch_alter_table(
        "skill_names", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass


def downgrade() -> None:

    op.drop_index("ix_skill_names_group", "skill_names")
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "skill_names", recreate="always", table_kwargs={"sqlite_autoincrement": False}
    ):
        pass
