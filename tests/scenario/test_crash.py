"""A bot process killed with SIGKILL between the ack and the reply loses nothing."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.sandbox.standin import StandIn
from tests.conftest import eventually

ROOT = Path(__file__).resolve().parents[2]


def write_config(standin: StandIn, tmp_path: Path, storage_url: str | None = None) -> Path:
    """A config file for a bot process; storage in ``storage_url`` (default SQLite here)."""
    storage_url = storage_url or f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[dingtalk]
client_id = "{standin.client_id}"
client_secret = "{standin.client_secret}"
openapi_endpoint = "{standin.url}"

[storage]
url = "{storage_url}"

[stream]
backoff_initial = 0.05
backoff_max = 0.5

[sender]
backoff_initial = 0.05
backoff_max = 0.5
lease_seconds = 1.0

[ops]
listen = "127.0.0.1:0"
""",
        encoding="utf-8",
    )
    return path


async def start_process(config: Path, tmp_path: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DINGTALK_OPENAPI_ENDPOINT", None)
    log = (tmp_path / "bot.log").open("ab")
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        stdout=log,
        stderr=log,
        env=env,
        cwd=tmp_path,
    )


async def test_sigkill_after_ack_before_reply_delivers_once_after_restart(
    standin: StandIn, tmp_path: Path, storage_url: str
) -> None:
    config = write_config(standin, tmp_path, storage_url)
    hold = asyncio.Event()
    standin.faults.hold_sends = hold  # the platform takes the reply only when released
    proc = await start_process(config, tmp_path)
    try:
        await standin.wait_connected(timeout=30)
        push = await standin.say("/nosuch-crash")
        assert push.ack is not None and push.ack["code"] == 200
        await eventually(lambda: standin.holding == 1, timeout=10)
        proc.kill()  # SIGKILL: no clean-up of any kind
        await proc.wait()
        hold.set()  # the held request finds its client gone and never arrives
        await eventually(lambda: standin.holding == 0)
        assert not standin.sent
        assert ("/robot/sendBySession", "client gone") in standin.rejected

        standin.faults.hold_sends = None
        proc = await start_process(config, tmp_path)
        await standin.wait_sent(where=lambda s: "/nosuch-crash" in s.text, timeout=30)
        # A marker after it: once answered, a duplicate of the first would have shown.
        await standin.say("/nosuch-marker")
        await standin.wait_sent(where=lambda s: "/nosuch-marker" in s.text, timeout=15)
        assert len([s for s in standin.sent if "/nosuch-crash" in s.text]) == 1
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
    log = (tmp_path / "bot.log").read_text(encoding="utf-8", errors="replace")
    assert standin.client_secret not in log
