"""numbers people see are never reused (SQLite AUTOINCREMENT)

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-30 12:50:00.000000

SQLite gives a plain INTEGER PRIMARY KEY the largest id plus one, so erasing the newest
story handed its number to the next story, and an old card's button then acted on the new
one. AUTOINCREMENT never reuses a number (https://www.sqlite.org/autoinc.html); SQLite can
only add it by rebuilding the table, which Alembic's batch mode does (copy, drop, rename).
The rebuild runs with foreign keys off (``storage.db`` turns them off around migrations, as
SQLite's own procedure for schema changes says, https://www.sqlite.org/lang_altertable.html
section 7): dropping ``stories`` or ``events`` with them on would cascade to likes and
sign-ups. PostgreSQL's sequences never reuse a value: nothing to do there.
"""

from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("stories", "events", "skill_posts", "swaps")


def upgrade() -> None:

    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        # Copying the rows with their ids records the largest in sqlite_sequence, so the
        # next number continues after every number still in use.
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass


def downgrade() -> None:

    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": False}
        ):
            pass
