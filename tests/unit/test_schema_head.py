"""The start-up's "already at the head?" look-up agrees with Alembic (storage.migrate)."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from storage.migrate import alembic_config, head_revision


def test_the_head_read_from_the_files_is_alembics() -> None:
    # A start whose schema is at this revision skips Alembic altogether; were it wrong, a
    # start would skip a migration it needs (or import Alembic for nothing).
    script = ScriptDirectory.from_config(alembic_config())
    assert head_revision() == script.get_current_head()
    assert len(script.get_heads()) == 1
