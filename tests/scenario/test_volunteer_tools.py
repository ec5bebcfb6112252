"""Organisers' tools (issue 17) through the real SDK and the stand-in: editing an activity,
its status on every card, check-in, reminders and exports."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.sandbox.standin import Sent, StandIn
from tests.conftest import BotFactory
from tests.scenario.test_stories import say
from tests.scenario.test_volunteers import NOW, START, publish, start


async def card_shows(standin: StandIn, track: str, **values: str) -> None:
    """Wait until the card's public data shows ``values`` (updates follow the reply)."""
    card = standin.cards[track]
    await standin.wait_sent(
        where=lambda _: all(card.data.get(k) == v for k, v in values.items()), timeout=5
    )


def o2o(standin: StandIn, needle: str) -> list[Sent]:
    return [s for s in standin.sent if s.route == "o2o" and needle in s.text]


async def test_edit_updates_every_card_replans_reminders_and_tells_exactly_those_signed_up(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock(NOW)
    app = await start(start_bot, clock)
    event_id, track = await publish(standin, seats=2)
    for member in ("alice", "bob", "carol"):  # carol waits
        await say(standin, f"/报名 {event_id}", sender=member)
    await say(standin, "/帮助", sender="dave")  # dave is in the group, not signed up

    # The 24 h reminder goes out; the activity then moves two days later, so it is due again.
    clock.set(START - timedelta(hours=23))
    assert await app.jobs.run_job("event-reminders")
    await standin.wait_sent(where=lambda s: s.route == "group" and "提醒" in s.text)

    # Full-width separators and a date as people type it.
    sent = await say(standin, f"／活动 修改 {event_id} 时间 ３月１４日 １９：００", sender="admin1")
    assert "已修改活动" in sent.text, sent.text
    assert "2026-03-12 09:00 → 2026-03-14 19:00" in sent.text and "3 位" in sent.text
    [notice] = await standin.wait_sent(where=lambda s: s.route == "o2o" and "有变动" in s.text)
    assert sorted(notice.user_ids) == ["alice", "bob", "carol"]
    assert "2026-03-12 09:00 → 2026-03-14 19:00" in notice.text and "滨江公园" in notice.text
    await card_shows(standin, track, starts="2026-03-14 19:00")

    new_start = START + timedelta(days=2, hours=10)
    clock.set(new_start - timedelta(hours=23))
    assert await app.jobs.run_job("event-reminders")
    await standin.wait_sent(2, where=lambda s: s.route == "group" and "提醒" in s.text)
    assert "2026-03-14 19:00" in [s for s in standin.sent if "提醒" in s.text][-1].text

    sent = await say(standin, f"/活动 修改 {event_id} 地点 人民公园东门", sender="admin1")
    assert "滨江公园 → 人民公园东门" in sent.text
    await card_shows(standin, track, place="人民公园东门")
    sent = await say(standin, f"/event edit {event_id} hours 2.5h", sender="admin1")
    assert "3 h → 2.5 h" in sent.text
    await card_shows(standin, track, hours="2.5")
    # Raising the seats promotes carol, who is told; every card shows the new counts.
    sent = await say(standin, f"/活动 修改 {event_id} 名额 3人", sender="admin1")
    assert "名额 2 → 3" in sent.text
    await standin.wait_sent(where=lambda s: s.route == "o2o" and "已从候补转为正式报名" in s.text)
    await card_shows(standin, track, taken="3")
    sent = await say(standin, f"/活动 修改 {event_id} 标题 春季植树", sender="admin1")
    assert "植树 → 春季植树" in sent.text
    await card_shows(standin, track, title="春季植树")
    notices = await standin.wait_sent(
        5, where=lambda s: s.route == "o2o" and ("有变动" in s.text or "changed:" in s.text)
    )
    assert len(notices) == 5  # time, place, hours (in the admin's English), seats, title
    assert all(sorted(s.user_ids) == ["alice", "bob", "carol"] for s in notices)


async def test_edit_refuses_with_the_reason(standin: StandIn, start_bot: BotFactory) -> None:
    clock = ManualClock(NOW)
    await start(start_bot, clock)
    event_id, _ = await publish(standin)
    checks = [
        (f"/活动 修改 {event_id} 颜色 红色", "可以修改 时间、地点、标题、时长 或 名额"),
        (f"/活动 修改 {event_id} 时间 下下下周", "看不懂时间"),
        (f"/活动 修改 {event_id} 时间 2026-03-01 09:00", "已经过去了"),
        (f"/活动 修改 {event_id} 时长 30", "0.5 到 24"),
        (f"/活动 修改 {event_id} 名额 很多", "1 到 10000"),
        (f"/活动 修改 {event_id} 地点 滨江公园", "没有改动"),
        (f"/活动 修改 {event_id} 地点", "缺少「新值」"),
        ("/活动 修改 99 地点 公园", "没有编号为 99"),
    ]
    for text, needle in checks:
        sent = await say(standin, text, sender="admin1")
        assert needle in sent.text, (text, sent.text)
    sent = await say(standin, f"/活动 修改 {event_id} 地点 公园", sender="bob")
    assert "管理员" in sent.text
    sent = await say(standin, f"/活动 修改 {event_id} 时间 20:00", sender="admin1")
    assert "2026-03-12 09:00 → 2026-03-12 20:00" in sent.text  # a bare time keeps the day

    second, _ = await publish(standin)
    await say(standin, f"/活动 取消 {second}", sender="admin1")
    clock.set(START + timedelta(hours=11, minutes=5))  # 20:05, five minutes after the start
    sent = await say(standin, f"/活动 修改 {event_id} 地点 公园", sender="admin1")
    assert "已经开始，不能再修改" in sent.text
    sent = await say(standin, f"/活动 修改 {second} 地点 公园", sender="admin1")
    assert "已取消，不能再修改" in sent.text
    clock.set(START + timedelta(hours=12))
    await say(standin, f"/活动 结束 {event_id}", sender="admin1")
    sent = await say(standin, f"/活动 修改 {event_id} 地点 公园", sender="admin1")
    assert "已结束，不能再修改" in sent.text
