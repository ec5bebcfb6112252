"""``community-bot check`` and ``community-bot migrate`` against the stand-in."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path

from bot.sandbox.standin import StandIn
from tests.processes import ROOT, write_config


async def cli(tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DINGTALK_OPENAPI_ENDPOINT", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode()


async def test_check_passes_with_good_settings_and_opens_one_connection(
    standin: StandIn, tmp_path: Path
) -> None:
    config = write_config(standin, tmp_path)
    opens = standin.opens
    code, out = await cli(tmp_path, "check", "--config", str(config))
    assert code == 0, out
    assert "ok   config" in out and "ok   credentials" in out and "ok   stream" in out
    assert "no schema yet" in out and "community-bot migrate" in out
    assert standin.opens == opens + 1 and not standin.live()  # opened, then closed
    assert standin.client_secret not in out


async def test_check_says_what_is_wrong(standin: StandIn, tmp_path: Path) -> None:
    config = write_config(standin, tmp_path)
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace(standin.client_secret, "wrong-secret-value").replace(
            f"sqlite:///{tmp_path / 'bot.sqlite3'}", "postgresql://bot:pw@127.0.0.1:1/none"
        ),
        encoding="utf-8",
    )
    code, out = await cli(tmp_path, "check", "--config", str(config))
    assert code == 1
    assert "FAIL database: postgresql+asyncpg://bot:***@127.0.0.1:1/none" in out
    assert "FAIL credentials:" in out and "client_secret" in out
    assert "FAIL stream: DingTalk refused the app's credentials" in out
    assert "wrong-secret-value" not in out
    assert "3 problem(s)" in out


async def test_migrate_brings_the_schema_to_the_newest_revision(
    standin: StandIn, tmp_path: Path
) -> None:
    config = write_config(standin, tmp_path)
    code, out = await cli(tmp_path, "migrate", "--config", str(config))
    assert code == 0, out
    revision = out.strip().rsplit(" ", 1)[-1]
    with sqlite3.connect(tmp_path / "bot.sqlite3") as db:
        [(stored,)] = db.execute("SELECT version_num FROM alembic_version").fetchall()
    assert stored == revision
    code, out = await cli(tmp_path, "check", "--config", str(config))
    assert code == 0 and f"schema at {revision}" in out, out
