"""A bot process killed with SIGKILL between the ack and the reply loses nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.sandbox.standin import StandIn
from tests.conftest import eventually
from tests.processes import start_process, write_config


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
