"""The fault run, small: 200 messages under every fault and one kill -9 (tests/fault_run.py
has the full run and its command)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.sandbox.standin import StandIn
from tests.fault_run import SENDERS, fault_run


async def test_200_messages_under_every_fault_and_a_kill_are_handled_once_and_none_lost(
    standin: StandIn, tmp_path: Path, storage_url: str
) -> None:
    # PostgreSQL: two processes share the load and one is killed; SQLite: the one process
    # (a SQLite file is one process's) is killed and started again.
    count = 1 if storage_url.startswith("sqlite") else 2
    async with asyncio.timeout(60):
        result = await fault_run(
            standin,
            tmp_path,
            storage_url,
            messages=200,
            kills=1,
            processes_count=count,
            settle_timeout=25.0,
        )
    print(f"\nfault run, {count} process(es): {result}")
    assert result["kills"] == 1
    assert result["handled once"] == result["recorded"] == 200
    assert result["lost"] == 0 and result["unhandled"] == 0
    # Doubled only in the window: a reply sent and not yet marked when its process died,
    # at most one per order key (member and conversation: SENDERS × 2) for the kill.
    assert result["doubled outside the window"] == 0
    assert result["doubled"] <= result["kills"] * SENDERS * 2
