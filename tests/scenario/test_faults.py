"""Faults the platform and the machine throw at a running bot, with counts."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

import bot.clock
from bot.sandbox.standin import StandIn
from tests.conftest import BotFactory, eventually


async def test_a_clock_stepping_back_does_not_park_a_retry(
    standin: StandIn, start_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A retry is stored as a wall-clock time. An NTP correction of an hour backwards must not
    # make a reply throttled "for 2 s" wait an hour. The machine's clock is shared, so the
    # bot's view of it is stepped (bot.clock.utcnow, which the sender and outbox read).
    await start_bot(sender={"backoff_initial": 2.0, "backoff_max": 2.0})
    standin.faults.throttle_every = 1  # the platform refuses the first attempt: 130101
    await standin.say("/nosuch-clock")
    await eventually(lambda: bool(standin.rejected), timeout=10)
    standin.faults.throttle_every = 0
    stepped = time.monotonic()
    real = bot.clock.utcnow

    def an_hour_ago() -> datetime:
        return real() - timedelta(hours=1)

    for module in ("bot.sender", "bot.outbox", "bot.clock"):
        monkeypatch.setattr(f"{module}.utcnow", an_hour_ago)
    [sent] = await standin.wait_sent(where=lambda s: "/nosuch-clock" in s.text, timeout=10)
    assert sent.at - stepped < 5.0
    assert len([s for s in standin.sent if "/nosuch-clock" in s.text]) == 1
