"""An important notice that cannot reach its member one to one takes the next route.

Routes (bot.notices): ``oToMessages/batchSend`` → the notice's group, naming the member
(``@`` through an open session webhook, the one route with a real mention: DINGTALK.md
"Sending"; by name through ``groupMessages/send``, which has no mention) → the operators,
told one to one with the member's name. The stand-in refuses the first route as DingTalk
does: batchSend answers HTTP 200 listing the member in ``invalidStaffIdList`` (robot_1_0
``BatchSendOTOResponseBody``; a member outside the app's range, or gone from the
organisation), or answers ``QpsLimit`` until the reply's horizon is past.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.app import Application
from bot.clock import ManualClock
from bot.sandbox.standin import StandIn
from storage.models import OutboxMessage
from tests.conftest import BotFactory
from tests.scenario.test_stories import say
from tests.scenario.test_volunteers import NOW, publish, start

PROMOTED = "已从候补转为正式报名"


async def test_a_promotion_refused_one_to_one_is_told_in_the_group_with_a_mention(
    standin: StandIn, start_bot: BotFactory
) -> None:
    async with asyncio.timeout(60):
        await start(start_bot)
        event_id, _ = await publish(standin, seats=1)
        await say(standin, f"/报名 {event_id}", sender="ann", nick="Annie")
        await say(standin, f"/报名 {event_id}", sender="bob", nick="Bobby")  # waitlisted
        standin.faults.invalid_users = {"bob"}  # batchSend: invalidStaffIdList
        await say(standin, f"/取消报名 {event_id}", sender="ann", nick="Annie")
        [told] = await standin.wait_sent(
            where=lambda s: s.route == "webhook" and PROMOTED in s.text and "bob" in s.at_ids
        )
        assert "Bobby" in told.text and "没能私信送达" in told.text
        assert not [s for s in standin.sent if s.route == "o2o" and PROMOTED in s.text]


async def _attempts(app: Application, needle: str) -> int:
    async with app.db.transaction() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.attempts).where(OutboxMessage.idem_key.contains(needle))
            )
        ).scalars()
        return max(rows.all(), default=0)


async def test_a_cancellation_reaching_the_member_nowhere_is_told_to_the_operators_by_name(
    standin: StandIn, start_bot: BotFactory
) -> None:
    async with asyncio.timeout(60):
        clock = ManualClock(NOW)
        app = await start(start_bot, clock)
        event_id, _ = await publish(standin, seats=2, title="清扫")
        await say(standin, f"/报名 {event_id}", sender="ann", nick="Annie")
        await say(standin, f"/报名 {event_id}", sender="bob", nick="Bobby")
        standin.faults.invalid_users = {"bob"}
        # The group stays throttled on both group routes (QpsLimit / 130101).
        standin.faults.throttle_paths = frozenset(
            {"/robot/sendBySession", "/v1.0/robot/groupMessages/send"}
        )
        await standin.say(f"/活动 取消 {event_id} 下雨了", sender="admin1")
        [notice] = await standin.wait_sent(where=lambda s: s.route == "o2o" and "已取消" in s.text)
        assert notice.user_ids == ["ann"]  # ann got it; bob was refused
        for _ in range(500):  # bounded: polling the database for the group route's retries
            if await _attempts(app, "#group") >= 2:
                break
            await asyncio.sleep(0.02)
        assert await _attempts(app, "#group") >= 2
        clock.advance(timedelta(hours=49))  # past every horizon: the group route gives up
        [ops] = await standin.wait_sent(
            where=lambda s: s.route == "o2o" and "admin1" in s.user_ids and "转告" in s.text,
            timeout=15,
        )
        assert "Bobby" in ops.text and "下雨了" in ops.text
        assert "bob" not in ops.text.replace("Bobby", "")  # the name, never the id


async def test_a_check_in_code_refused_one_to_one_is_never_shown_in_the_group(
    standin: StandIn, start_bot: BotFactory
) -> None:
    async with asyncio.timeout(60):
        await start(start_bot)
        event_id, _ = await publish(standin, seats=3)
        standin.faults.invalid_users = {"admin1"}
        await say(standin, f"/签到码 {event_id}", sender="admin1", nick="Organiser")
        [told] = await standin.wait_sent(
            where=lambda s: s.route == "webhook" and "重要私信" in s.text and "admin1" in s.at_ids
        )
        assert "Organiser" in told.text and "签到码" not in told.text
        assert not any(ch.isdigit() for ch in told.text.replace("@admin1", ""))
