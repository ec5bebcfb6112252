"""Start-up as an operator meets it: the console entry point in a fresh interpreter.

The bot runs as ``python -m bot run`` in a subprocess (nothing imported beforehand, which
is where the connection loop once died on ``websockets.exceptions``); the stand-in runs in
the test. A wrong secret and a gateway that is not there yet must each give one clear line
per attempt, keep retrying, and recover once DingTalk answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.standin import StandIn

ROOT = Path(__file__).resolve().parents[2]


class BotProcess:
    """``python -m bot run`` with its stderr collected line by line."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            async with self._changed:
                self.lines.append(line.decode(errors="replace").rstrip("\n"))
                self._changed.notify_all()

    async def wait_lines(self, needle: str, count: int = 1, timeout: float = 30.0) -> list[str]:
        """Wait until ``count`` lines contain ``needle``; return them."""

        def found() -> list[str]:
            return [line for line in self.lines if needle in line]

        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(found()) >= count)

        try:
            await asyncio.wait_for(until(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"{needle!r} not logged {count}x; log:\n" + "\n".join(self.lines)
            ) from None
        return found()

    async def stop(self) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            self.proc.kill()
            code = await self.proc.wait()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._reader, 5)
        return code


@pytest.fixture
async def run_bot(tmp_path: Path) -> AsyncIterator[object]:
    procs: list[BotProcess] = []

    async def start(endpoint: str, client_id: str, secret: str) -> BotProcess:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[dingtalk]\nclient_id = "{client_id}"\nclient_secret = "{secret}"\n'
            f'openapi_endpoint = "{endpoint}"\n'
            f'[storage]\nurl = "sqlite:///{tmp_path / "bot.sqlite3"}"\n'
            "[stream]\nbackoff_initial = 0.1\nbackoff_max = 0.4\n",
            encoding="utf-8",
        )
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("COMMUNITY_BOT_") and "proxy" not in k.lower()
        }
        env.pop("DINGTALK_OPENAPI_ENDPOINT", None)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--config",
            str(config),
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        bot = BotProcess(proc)
        procs.append(bot)
        return bot

    yield start
    for bot in procs:
        await bot.stop()


async def test_a_wrong_secret_is_one_clear_line_retried_until_it_is_right(
    standin: StandIn, run_bot: object
) -> None:
    bot = await run_bot(standin.url, standin.client_id, "wrong-secret")  # type: ignore[operator]
    lines = await bot.wait_lines("refused the app's credentials", count=3)
    first = lines[0]
    # One line naming DingTalk's answer, the keys to check, and the retry; no secret, no trace.
    assert "HTTP 401" in first and "authFailed" in first
    assert "dingtalk.client_id" in first and "dingtalk.client_secret" in first
    assert "retry in" in first
    assert "wrong-secret" not in "\n".join(bot.lines)
    assert "Traceback" not in "\n".join(bot.lines)
    assert standin.refused_opens >= 3 and bot.proc.returncode is None

    # The operator fixes the app's secret on DingTalk's side: the running bot connects.
    standin.client_secret = "wrong-secret"
    await standin.wait_connected(timeout=20)
    await standin.say("/help")
    [reply] = await standin.wait_sent(1, timeout=20)
    assert "/help" in reply.text
    await bot.wait_lines("stream connected")
    assert await bot.stop() == 0


async def test_nothing_listening_at_boot_is_retried_until_the_gateway_comes_up(
    run_bot: object,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    bot = await run_bot(endpoint, "ding-sandbox-app", "sandbox-secret")  # type: ignore[operator]
    lines = await bot.wait_lines("cannot reach DingTalk", count=2)
    assert "connection refused" in lines[0] and endpoint in lines[0] and "retry in" in lines[0]
    assert "Traceback" not in "\n".join(bot.lines)
    assert (await bot.wait_lines("connecting to DingTalk stream at"))[0].count("\n") == 0

    standin = StandIn(port=port)
    await standin.start()
    try:
        await standin.wait_connected(timeout=20)
        await standin.say("/help")
        await standin.wait_sent(1, timeout=20)
        assert await bot.stop() == 0
    finally:
        await standin.stop()
