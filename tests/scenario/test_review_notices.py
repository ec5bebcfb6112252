"""Issue 18: admins hear of stories waiting for review without polling.

One one-to-one notice per group per interval (``stories.review_notice_minutes``), naming the
stories not yet announced; the clock is moved, never slept on. One to one because
``groupMessages/send`` would tell the whole group, and batchSend takes at most 20 user ids
(robot_1_0 ``BatchSendOTORequest``; the sender splits longer lists).
"""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.sandbox.standin import StandIn
from tests.conftest import BotFactory
from tests.scenario.test_stories import say, start


def notices(standin: StandIn) -> list[str]:
    return [s.text for s in standin.sent if s.route == "o2o" and "等待审核" in s.text]


async def test_admins_get_one_notice_per_batch_rate_limited(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock()
    app = await start(start_bot, clock=clock, admins={"staff_ids": ["admin1", "admin2"]})
    await say(standin, "/故事 第一个 | 同事们帮我搬了家", sender="alice")
    await say(standin, "/故事 第二个 | 大家一起过中秋", sender="bob")
    assert await app.jobs.run_job("review-notices")
    [sent] = await standin.wait_sent(where=lambda s: s.route == "o2o" and "等待审核" in s.text)
    assert sorted(sent.user_ids) == ["admin1", "admin2"]
    assert "有 2 个新故事等待审核：#" in sent.text
    assert "「第一个」、#" in sent.text and "「第二个」" in sent.text
    assert "/审核" in sent.text

    # Nothing new: no notice. A new story soon after waits for the interval.
    assert await app.jobs.run_job("review-notices")
    await say(standin, "/故事 第三个 | 邻居帮我修车", sender="carol")
    clock.advance(timedelta(minutes=10))
    assert await app.jobs.run_job("review-notices")
    await say(standin, "/帮助", sender="dave")  # something else goes through meanwhile
    assert len(notices(standin)) == 1
    clock.advance(timedelta(minutes=21))
    assert await app.jobs.run_job("review-notices")
    await standin.wait_sent(where=lambda s: s.route == "o2o" and "「第三个」" in s.text)
    assert len(notices(standin)) == 2 and "有 1 个新故事" in notices(standin)[1]
    assert "第一个" not in notices(standin)[1]

    # A story decided before the notice is not announced.
    clock.advance(timedelta(hours=1))
    sent = await say(standin, "/故事 第四个 | 很快就通过了", sender="erin")
    fourth = int(sent.text.split("#")[1].split("「")[0])
    await say(standin, f"/通过 {fourth}", sender="admin1")
    assert await app.jobs.run_job("review-notices")
    await say(standin, "/帮助", sender="dave")
    assert len(notices(standin)) == 2
