"""an index for reading a group's hours records a page at a time

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01 03:30:00.000000

``/导出 时长`` reads a group's hours records in pages (``conversation_id = ? AND id > ?``
ordered by ``id``). With only the (conversation_id, staff_id) and (conversation_id, at)
indexes, SQLite searched one of them and sorted every record of the group for each page:
9 ms a page at 20,000 records, in the loop's thread, a hundred times over. With this index
a page is a range of it, already in order (0.4 ms).
"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_hours_group_id", "volunteer_hours", ["conversation_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_hours_group_id", table_name="volunteer_hours")
