"""One error path: failures are logged, counted, and told to the operators, rate-limited."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Application
from bot.clock import ManualClock
from bot.context import JobContext
from bot.errors import Failure
from bot.router import Router
from bot.sandbox.standin import Sent, StandIn
from tests.conftest import BotFactory, eventually
from tests.scenario import probe
from tests.scenario.test_ops import scrape, scrape_until, total

failing = Router("failing")


@failing.job("always-fails", every=lambda settings: 3600.0)
async def always_fails(ctx: JobContext) -> None:
    raise RuntimeError("the job broke")


def to_operator(sent: Sent) -> bool:
    return sent.route == "o2o" and sent.user_ids == ["ops1"]


async def settle(app: Application) -> None:
    """Let the error handlers write their messages and the sender deliver them."""
    await app.errors.drain()
    await app.sender.deliver_due()


async def test_a_job_failing_every_minute_is_one_message_then_a_summary(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock()
    app = await start_bot(routers=[failing], clock=clock, ops={"alert_staff_ids": ["ops1"]})
    # The scheduler runs every job once at start-up: wait for that first failure.
    before = await scrape_until(
        app, lambda s: total(s, "community_bot_job_latency_seconds_count", job="always-fails") >= 1
    )
    for _ in range(6):  # the job fails every minute for six minutes
        assert not await app.jobs.run_job("always-fails")
        clock.advance(timedelta(minutes=1))
    await settle(app)
    [first] = await standin.wait_sent(where=to_operator)
    assert "定时任务「always-fails」执行失败" in first.text
    assert "RuntimeError" not in first.text and "Traceback" not in first.text

    # Nothing more within the hour; then the periodic flush sums up the five repeats.
    assert await app.jobs.run_job("ops-alerts")
    await settle(app)
    assert len([s for s in standin.sent if to_operator(s)]) == 1
    clock.advance(timedelta(minutes=55))
    assert await app.jobs.run_job("ops-alerts")
    await settle(app)
    sent = await standin.wait_sent(2, where=to_operator)
    assert "又发生了 6 次" in sent[1].text and "always-fails" in sent[1].text

    # A failure after the window is told again at once.
    assert not await app.jobs.run_job("always-fails")
    await settle(app)
    await standin.wait_sent(3, where=to_operator)
    after = await scrape(app)
    assert (
        total(after, "community_bot_errors_total", kind="job")
        - total(before, "community_bot_errors_total", kind="job")
        == 7
    )


async def test_a_handler_error_and_a_reply_given_up_reach_the_operators(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot(
        routers=[probe.router],
        admins={"staff_ids": ["admin1"]},
        sender={"max_attempts": 2},
    )
    await standin.say("/probe boom")
    told = await standin.wait_sent(where=lambda s: s.route == "o2o" and "admin1" in s.user_ids)
    assert "处理命令「/probe」时出错" in told[0].text

    # Every send fails with 5xx until the reply is given up (two attempts); the platform
    # recovers at that moment (a handler of our own, called after the default one), so the
    # operators' message about it gets through.
    async def recover(failure: Failure) -> None:
        if failure.kind == "delivery":
            standin.faults.server_error_every = 0

    app.errors.add_error_handler(recover)
    standin.faults.expire_sessions = True
    standin.faults.server_error_every = 1
    await standin.say("/nosuch-doomed")
    told = await standin.wait_sent(
        where=lambda s: s.route == "o2o" and "已放弃" in s.text, timeout=15
    )
    assert "群消息" in told[0].text


async def test_click_errors_are_answered_in_the_clickers_language_and_told(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot(routers=[probe.router])
    await standin.say("/probe card")
    [card_sent] = await standin.wait_sent(where=lambda s: s.route == "card")
    await standin.say("hello there", sender="boom")  # boom writes in English
    response = StandIn.response_of(
        await standin.click(card_sent.out_track_id, "boom", {"action": "tally", "id": "7"})
    )
    assert response["userPrivateData"]["cardParamMap"]["message"] == (
        "That did not work; please try again later."
    )
    told = await standin.wait_sent(where=lambda s: s.route == "o2o" and "卡片按钮" in s.text)
    assert "「tally」" in told[0].text


async def test_the_monthly_quota_is_told_and_error_handlers_can_be_added(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot(ops={"alert_staff_ids": ["ops1"]})
    seen: list[Failure] = []

    async def mine(failure: Failure) -> None:
        seen.append(failure)

    app.errors.add_error_handler(mine)
    standin.faults.expire_sessions = True  # the reply needs the OpenAPI
    standin.faults.quota_exhausted = True  # ... and this month's calls are spent
    await standin.say("/nosuch-quota")
    await eventually(lambda: bool(seen))
    standin.faults.quota_exhausted = False  # next month: the operators' message gets through
    told = await standin.wait_sent(where=to_operator, timeout=15)
    assert "调用次数已用完" in told[0].text
    assert [f.kind for f in seen] == ["quota"]
    assert "ApiCountLimitForOrg" in seen[0].detail
