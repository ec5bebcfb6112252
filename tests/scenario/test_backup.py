"""The README's backup commands, run as an operator would while the bot is running."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.sandbox.standin import StandIn
from storage.db import Database
from tests.conftest import BotFactory

# The README's line, word for word (with the paths of this test).
SQLITE_BACKUP = "import sqlite3; sqlite3.connect('{db}').backup(sqlite3.connect('{out}'))"


@pytest.mark.backends("sqlite")
async def test_sqlite_online_backup_while_the_bot_runs(
    standin: StandIn, start_bot: BotFactory, tmp_path: Path
) -> None:
    app = await start_bot()
    for i in range(5):
        await standin.say(f"/nosuch-backup-{i}")
    await standin.wait_sent(5)
    db = make_url(app.settings.storage.url).database
    out = tmp_path / "backup.sqlite3"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SQLITE_BACKUP.format(db=db, out=out)
    )
    assert await asyncio.wait_for(proc.wait(), 60) == 0
    await standin.say("/nosuch-after-backup")  # the bot goes on meanwhile
    await standin.wait_sent(6)
    with sqlite3.connect(out) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        inbox = copy.execute("SELECT count(*) FROM inbox_events").fetchone()[0]
        version = copy.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    assert inbox >= 5 and version


async def test_pg_dump_and_pg_restore_round_trip(pg_url: str, tmp_path: Path) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump / pg_restore are not on this machine")
    import asyncpg

    db = Database(pg_url)
    await db.migrate()
    await db.dispose()
    dump = tmp_path / "community-bot.dump"
    plain = make_url(pg_url).render_as_string(hide_password=False)
    env = {**os.environ}
    proc = await asyncio.create_subprocess_exec(
        "pg_dump", "--format=custom", f"--file={dump}", plain, env=env
    )
    assert await asyncio.wait_for(proc.wait(), 120) == 0

    name = f"cb_restore_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(pg_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    target = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    try:
        proc = await asyncio.create_subprocess_exec(
            "pg_restore", "--no-owner", f"--dbname={target}", str(dump), env=env
        )
        assert await asyncio.wait_for(proc.wait(), 120) == 0
        restored = await asyncpg.connect(target)
        original = await asyncpg.connect(pg_url)
        try:
            want = await original.fetchval("SELECT version_num FROM alembic_version")
            assert await restored.fetchval("SELECT version_num FROM alembic_version") == want
        finally:
            await restored.close()
            await original.close()
    finally:
        admin = await asyncpg.connect(pg_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
