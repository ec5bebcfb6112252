"""Real bot processes for the tests: a config file and ``python -m bot run`` (or the console
script) with its output in a log file. One helper for every test that starts one."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.sandbox.standin import StandIn

ROOT = Path(__file__).resolve().parents[1]


def write_config(
    standin: StandIn,
    folder: Path,
    storage_url: str | None = None,
    *,
    lease_seconds: float = 1.0,
    ops_listen: str = "127.0.0.1:0",
    sections: str = "",
    sender: str = "",
    stream_backoff_max: float = 0.5,
) -> Path:
    """A config file for bot processes talking to ``standin`` (fast retries); storage in
    ``storage_url`` (default: SQLite in ``folder``). ``sections`` adds whole sections,
    ``sender`` adds lines to the [sender] section; ``stream_backoff_max`` caps the wait
    between reconnects."""
    folder.mkdir(parents=True, exist_ok=True)
    storage_url = storage_url or f"sqlite:///{folder / 'bot.sqlite3'}"
    path = folder / "config.toml"
    path.write_text(
        f"""
[dingtalk]
client_id = "{standin.client_id}"
client_secret = "{standin.client_secret}"
openapi_endpoint = "{standin.url}"

[storage]
url = "{storage_url}"
{sections}
[stream]
backoff_initial = 0.05
backoff_max = {stream_backoff_max}

[sender]
backoff_initial = 0.05
backoff_max = 0.5
lease_seconds = {lease_seconds}
{sender}

[ops]
listen = "{ops_listen}"
""",
        encoding="utf-8",
    )
    return path


async def start_process(
    config: Path,
    folder: Path,
    *options: str,
    command: Sequence[str] = (sys.executable, "-m", "bot"),
    log_name: str = "bot.log",
) -> asyncio.subprocess.Process:
    """Start ``bot [options] run --config <config>`` in ``folder``, logging to ``log_name``
    there (the caller stops it, with a timeout)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DINGTALK_OPENAPI_ENDPOINT", None)
    log = (folder / log_name).open("ab")
    return await asyncio.create_subprocess_exec(
        *command,
        *options,
        "run",
        "--config",
        str(config),
        stdout=log,
        stderr=log,
        env=env,
        cwd=folder,
    )
