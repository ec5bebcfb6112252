"""A storm of card clicks through the real SDK and the stand-in: the work it costs stays per
batch, not per click (issue 15: 1,000 joins on 50 seats answered with p99 <= 200 ms)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, select

from bot.sandbox.standin import StandIn
from storage.models import Signup
from tests.conftest import BotFactory
from tests.scenario.test_volunteers import publish, start

CLICKS = 300  # more than one batch (bot.clicks takes up to 256 a transaction)


async def test_a_storm_of_clicks_costs_statements_per_batch_not_per_click(
    standin: StandIn, start_bot: BotFactory
) -> None:
    """Every statement of a click's path is shared by the clicks of its batch: the inbox
    rows, the activity's lock and counts, the sign-ups, the stored answers. A statement per
    click (a lookup, an update, a card refresh) would show here as 300 more; the answers and
    the sign-ups are what they always were."""
    app = await start(start_bot)
    event_id, track = await publish(standin, seats=50)
    await asyncio.sleep(0.2)  # the card's own delivery is done before counting
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])  # the statement's text (SQLAlchemy's documented event)

    engine = app.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        pushes = await asyncio.gather(
            *(
                standin.click(
                    track, f"s{i:04d}", {"action": "join", "id": str(event_id)}, timeout=60
                )
                for i in range(CLICKS)
            )
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert all(p.ack is not None for p in pushes)
    # However the clicks fell into batches (each ~15 statements), far fewer than one a click.
    assert len(statements) < CLICKS // 2, f"{len(statements)} statements for {CLICKS} clicks"
    answers = [StandIn.response_of(p) for p in pushes]
    states = [a["userPrivateData"]["cardParamMap"]["state"] for a in answers]
    assert states[:50] == ["已报名"] * 50
    assert states[50:] == [f"候补第 {n} 位" for n in range(1, CLICKS - 49)]
    # Each answer's public data carries the counts after its own batch: never fewer taken
    # than the clicks before it, the last one the final counts.
    shown = [int(a["cardData"]["cardParamMap"]["waitlist"]) for a in answers]
    assert all(shown[i] >= i - 49 for i in range(50, CLICKS))
    assert answers[-1]["cardData"]["cardParamMap"]["taken"] == "50"
    assert shown[-1] == CLICKS - 50
    async with app.db.transaction() as session:
        rows = (
            await session.execute(select(Signup.staff_id, Signup.status).order_by(Signup.id))
        ).all()
    assert [s for s, status in rows if status == "confirmed"] == [f"s{i:04d}" for i in range(50)]
    assert len(rows) == CLICKS
