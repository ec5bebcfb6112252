"""Between two messages of a batch the loop runs everything that became ready meanwhile.

"Never block the event loop for more than 20 ms" (TEAM.md). On SQLite a message is handled
inline, in one stretch of the loop (5 to 15 ms in the mix); the dispatcher yields between
two. It yielded with one ``asyncio.sleep(0)``, which puts it first in the loop's next turn,
ahead of the timers and sockets that became ready while the message ran: two messages then
ran back to back with nothing in between, and the mix benchmark's loop probe saw stretches
of 25 to 45 ms. Now it yields a whole turn (``bot.batching.one_turn``).

The test: the first message of a batch sets a timer due at once; the second finds it run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.context import MessageContext
from bot.i18n import Text
from bot.router import Router
from bot.sandbox.standin import StandIn
from tests.conftest import BotFactory, eventually

TIMEOUT = 10.0  # seconds any one wait may take before the test fails instead of hanging


async def test_a_timer_due_during_a_message_runs_before_the_next_message(
    standin: StandIn, start_bot: BotFactory
) -> None:
    fired: list[str] = []
    seen: list[list[str]] = []
    router = Router("test-turns")

    @router.command("tick", help=Text("计时", "tick"))
    async def tick(ctx: MessageContext) -> str:
        seen.append(list(fired))
        # A timer that is due at once (a ping, the loop probe, a timeout): it must run
        # before the next message is handled.
        asyncio.get_running_loop().call_later(0, fired.append, f"timer {len(seen)}")
        return "tock"

    app = await start_bot(routers=[router])
    gate = asyncio.Event()
    real: Callable[[list[int]], Awaitable[None]] = app.inbox.process
    batches: list[list[int]] = []

    async def gated(batch: list[int]) -> None:
        batches.append(batch)
        if len(batches) == 1:
            await asyncio.wait_for(gate.wait(), TIMEOUT)
        await real(batch)

    app.inbox.process = gated
    await standin.say("/帮助", sender="ann")  # keeps the worker busy while the rest queue
    await eventually(lambda: len(batches) == 1, TIMEOUT)
    for _ in range(3):
        await standin.say("/tick", sender="bob")
    gate.set()
    await standin.wait_sent(where=lambda s: s.text == "tock", count=3, timeout=TIMEOUT)
    assert len(batches) == 2 and len(batches[1]) >= 3  # the three in one batch
    assert seen == [[], ["timer 1"], ["timer 1", "timer 2"]]
