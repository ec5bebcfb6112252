"""Recurring activities (issue 17) through the real SDK and the stand-in: a series creates its
occurrences ahead, survives restarts and a second process without doubling a date, and
cancelling tells exactly those signed up."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.clock import ManualClock
from bot.sandbox.standin import Sent, StandIn
from storage.models import Event
from storage.volunteers import SeriesRepo
from tests.conftest import BotFactory
from tests.scenario.test_stories import say
from tests.scenario.test_volunteers import NOW, start

# NOW is Tuesday 2026-03-10 10:00 in Shanghai; the series is every Wednesday at 19:00.
NEW = "/活动 新建 周三探访 | 2026-03-11 19:00 | 2 | 敬老院 | 2 | 每个周三"


async def occurrences(app: object) -> list[tuple[int, str]]:
    async with app.db.transaction() as session:  # type: ignore[attr-defined]
        rows = await session.execute(
            select(Event.id, Event.occurs_on).where(Event.series_id.is_not(None)).order_by(Event.id)
        )
        return [(int(i), str(d)) for i, d in rows.all()]


def o2o(standin: StandIn, needle: str) -> list[Sent]:
    return [s for s in standin.sent if s.route == "o2o" and needle in s.text]


async def test_a_series_creates_its_occurrences_ahead_once_across_restarts_and_processes(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock(NOW)
    app = await start(start_bot, clock)
    before = len(standin.sent)
    sent = await say(standin, NEW, sender="admin1")
    assert "已发布重复活动系列 #1" in sent.text and "每周三 19:00" in sent.text, sent.text
    # Four weeks ahead (the default horizon): 3-11, 3-18, 3-25, 4-1.
    for day in ("2026-03-11 19:00", "2026-03-18 19:00", "2026-03-25 19:00", "2026-04-01 19:00"):
        assert day in sent.text, sent.text
    [card] = await standin.wait_sent(
        where=lambda s: s.route == "card" and standin.sent.index(s) >= before
    )
    assert standin.cards[card.out_track_id].data["starts"] == "2026-03-11 19:00"
    made = await occurrences(app)
    assert [d for _, d in made] == ["2026-03-11", "2026-03-18", "2026-03-25", "2026-04-01"]
    # Each occurrence is an activity of its own: its own seats and waitlist.
    first, second = made[0][0], made[1][0]
    for member in ("alice", "bob", "carol"):
        await say(standin, f"/报名 {first}", sender=member)
    sent = await say(standin, f"/报名 {second}", sender="carol")
    assert "报名成功" in sent.text  # carol waits on the first, is in on the second

    assert await app.jobs.run_job("event-series")  # nothing new today
    assert len(await occurrences(app)) == 4
    await app.stop()

    # A restart a week later, and a second process running the same job at the same moment:
    # the new date is created once, and its card posted once.
    clock.set(NOW + timedelta(days=7))
    mark = len(standin.sent)  # the processes' schedulers may run the job as they start, too
    app2 = await start(start_bot, clock)
    app3 = await start(start_bot, clock)
    results = await asyncio.gather(
        app2.jobs.run_job("event-series"), app3.jobs.run_job("event-series")
    )
    assert all(results)
    assert await app2.jobs.run_job("event-series")
    # Two writers that both looked before either inserted: the unique index decides.
    async with app2.db.transaction() as session:
        series = await SeriesRepo(session).get("cid-group-1", 1)
        assert series is not None
        at = datetime(2026, 4, 8, 11, 0, tzinfo=UTC)
        assert await SeriesRepo(session).add_occurrence(series, date(2026, 4, 8), at, at) is None
    made = await occurrences(app2)
    dates = Counter(d for _, d in made)
    assert max(dates.values()) == 1 and "2026-04-08" in dates, dates
    assert len(made) == 5
    # A process just started may not listen for new replies yet: its poll picks it up.
    await standin.wait_sent(
        where=lambda s: s.route == "card" and standin.sent.index(s) >= mark, timeout=20
    )
    await say(standin, "/帮助", sender="alice")  # anything queued is out once this is answered
    new_cards = [s for s in standin.sent[mark:] if s.route == "card"]
    assert [standin.cards[c.out_track_id].data["starts"] for c in new_cards] == ["2026-04-08 19:00"]

    sent = await say(standin, "/活动 系列 1", sender="bob")
    assert sent.text.count("- 活动 #") == 5, sent.text
    assert "已截止" in sent.text and "报名 2/2，候补 1 人" in sent.text, sent.text
    sent = await say(standin, "/event series 1", sender="bob")
    assert "Series #1" in sent.text
    sent = await say(standin, "/活动 系列 9", sender="bob")
    assert "没有编号为 9 的活动系列" in sent.text

    # A group that turned activities off gets no new ones; back on, the series goes on.
    await say(standin, "/模块 volunteers 关", sender="admin1")
    clock.set(NOW + timedelta(days=14))
    assert await app2.jobs.run_job("event-series")
    assert len(await occurrences(app2)) == 5
    await say(standin, "/模块 volunteers 开", sender="admin1")
    assert await app2.jobs.run_job("event-series")
    assert len(await occurrences(app2)) == 6


async def test_cancelling_an_occurrence_or_the_series_tells_exactly_those_signed_up(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock(NOW)
    app = await start(start_bot, clock)
    await say(standin, NEW.replace("每个周三", "weekly wed"), sender="admin1")
    ids = [i for i, _ in await occurrences(app)]
    await say(standin, f"/报名 {ids[0]}", sender="alice")
    await say(standin, f"/报名 {ids[1]}", sender="alice")
    await say(standin, f"/报名 {ids[1]}", sender="bob")
    await say(standin, f"/报名 {ids[2]}", sender="carol")
    await say(standin, "/帮助", sender="dave")  # in the group, signed up for nothing

    # One occurrence: those signed up for it, and no one else.
    sent = await say(standin, f"/活动 取消 {ids[0]} 下雨", sender="admin1")
    assert "已通知 1 位" in sent.text, sent.text
    [notice] = await standin.wait_sent(where=lambda s: s.route == "o2o" and "已取消" in s.text)
    assert notice.user_ids == ["alice"]

    # The whole series: each member once, with the dates they lose; the past stays.
    clock.set(NOW + timedelta(days=1, hours=10))  # the first Wednesday's 20:00
    sent = await say(standin, "/活动 取消系列 1 场地维修", sender="admin1")
    assert "取消了 3 次" in sent.text and "通知 3 位" in sent.text, sent.text
    notices = await standin.wait_sent(3, where=lambda s: s.route == "o2o" and "系列 #1" in s.text)
    assert sorted(u for s in notices for u in s.user_ids) == ["alice", "bob", "carol"]
    assert all("场地维修" in s.text for s in notices)
    [to_alice] = [s for s in notices if s.user_ids == ["alice"]]
    assert f"#{ids[1]}" in to_alice.text and f"#{ids[2]}" not in to_alice.text
    sent = await say(standin, "/活动 系列 1", sender="bob")
    assert "已取消" in sent.text

    # A cancelled series creates nothing more.
    clock.set(NOW + timedelta(days=30))
    assert await app.jobs.run_job("event-series")
    assert len(await occurrences(app)) == 4
    await say(standin, "/帮助", sender="alice")
    assert len(o2o(standin, "系列 #1")) == 3  # nobody told twice, dave never
    sent = await say(standin, "/活动 取消系列 1", sender="admin1")
    assert "已经取消" in sent.text
    sent = await say(standin, "/活动 取消系列 1", sender="bob")
    assert "管理员" in sent.text


async def test_a_repeat_people_cannot_read_gets_the_forms(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start(start_bot)
    sent = await say(standin, NEW.replace("每个周三", "有空就来"), sender="admin1")
    assert "看不懂重复方式" in sent.text and "每周三" in sent.text, sent.text
    sent = await say(standin, NEW.replace("每个周三", "每两周三"), sender="admin1")
    assert "每两周的周三" in sent.text and "2026-03-25 19:00" in sent.text
    assert "2026-03-18" not in sent.text
