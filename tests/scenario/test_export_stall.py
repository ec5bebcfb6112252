"""A large export never holds the event loop for more than 20 ms (the LoopProbe of
test_loop_stall: CPU time of the loop's thread between two of its turns)."""

from __future__ import annotations

import gc
import io
from datetime import UTC, datetime, timedelta

import openpyxl
from sqlalchemy import insert

from bench.probe import LoopProbe
from bot.cli import settle_heap
from bot.sandbox.standin import StandIn
from storage.models import VolunteerHours
from tests.conftest import BotFactory
from tests.scenario.test_loop_stall import GROUP, LIMIT
from tests.scenario.test_stories import say

ROWS = 20_000  # 200 members, 100 activities each


async def test_exporting_20000_hours_rows_never_holds_the_loop(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot()
    await say(standin, "/帮助", sender="admin1")  # the group exists the ordinary way
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    async with app.db.transaction() as session:
        await session.execute(
            insert(VolunteerHours),
            [
                {
                    "conversation_id": GROUP,
                    "staff_id": f"m{i % 200}",
                    "event_id": 100_000 + i,
                    "title": f"活动{i // 200}",
                    "hours": 1.5,
                    "at": start + timedelta(minutes=i),
                }
                for i in range(ROWS)
            ],
        )
    settle_heap()  # as `community-bot run` does after start-up (see test_loop_stall)
    try:
        async with LoopProbe(period=0) as probe:
            before = len(standin.sent)
            await standin.say("/导出 时长", sender="admin1")
            [file] = await standin.wait_sent(
                where=lambda s: s.msg_key == "sampleFile" and standin.sent.index(s) >= before,
                timeout=60,
            )
    finally:
        gc.unfreeze()
    book = openpyxl.load_workbook(io.BytesIO(standin.media[file.param["mediaId"]][0]))
    detail = list(book["明细"].iter_rows(values_only=True))
    assert len(detail) == ROWS + 2 and detail[-1][4] == ROWS * 1.5
    assert probe.longest_cpu < LIMIT, (
        f"the loop ran {probe.longest_cpu * 1000:.1f} ms of CPU without a break "
        f"(the timer fired up to {probe.longest_late * 1000:.1f} ms late)"
    )
