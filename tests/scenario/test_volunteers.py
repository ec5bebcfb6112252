"""Volunteer activities through the real SDK and the stand-in, with a clock that moves."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.clock import ManualClock
from bot.sandbox.standin import Sent, StandIn
from storage.models import Signup, VolunteerHours
from tests.conftest import BotFactory
from tests.scenario.test_stories import say

CARDS = {"event_template": "tpl-event"}
# 2026-03-10 10:00 in Shanghai; the activity below starts two days later at 09:00.
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
START_LOCAL = "2026-03-12 09:00"
START = datetime(2026, 3, 12, 1, 0, tzinfo=UTC)


async def start(start_bot: BotFactory, clock: ManualClock | None = None, **sections: Any) -> Any:
    return await start_bot(cards=CARDS, clock=clock or ManualClock(NOW), **sections)


async def publish(standin: StandIn, seats: int = 2, title: str = "植树") -> tuple[int, str]:
    """Create an activity as admin1; its id and the sign-up card's track id."""
    before = len(standin.sent)
    sent = await say(
        standin, f"/活动 新建 {title} | {START_LOCAL} | 3 | 滨江公园 | {seats}", sender="admin1"
    )
    event_id = int(sent.text.split("#")[1].split("「")[0])
    [card] = await standin.wait_sent(
        where=lambda s: s.route == "card" and standin.sent.index(s) >= before
    )
    return event_id, card.out_track_id


def o2o_to(standin: StandIn, member: str) -> list[Sent]:
    return [s for s in standin.sent if s.route == "o2o" and member in s.user_ids]


async def test_publishing_validates_every_field(standin: StandIn, start_bot: BotFactory) -> None:
    await start(start_bot)
    checks = [
        ("/活动 新建 植树 | 2026-03-01 09:00 | 3 | 公园 | 20", "已经过去了"),
        ("/活动 新建 植树 | 2026-03-12 09:00 | 3 | 公园 | 0", "「名额」应在 1 到"),
        (
            "/活动 新建 植树 | 2026-03-12 09:00 | 3 | 公园 | 很多",
            "「名额」应为整数",
        ),  # 二十 reads as 20
        ("/活动 新建 植树 | 2026-03-12 09:00 | 30 | 公园 | 20", "「时长（小时）」应在 0.5 到 24"),
        ("/活动 新建 植树 | 2026-03-12 09:00 | 3 | 公园", "缺少「名额」"),
        ("/活动 新建 植树 | 3月12日 | 3 | 公园 | 20", "2026-12-05 18:30"),
        ("/活动 新建 " + "长" * 41 + " | 2026-03-12 09:00 | 3 | 公园 | 20", "最多 40 个字符"),
    ]
    for text, needle in checks:
        sent = await say(standin, text, sender="admin1")
        assert needle in sent.text, (text, sent.text)
        assert "用法" in sent.text or "YYYY" in sent.text
    sent = await say(standin, "/活动", sender="bob")
    assert "暂时没有" in sent.text


async def test_sign_up_waitlist_promotion_and_cards(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot)
    event_id, track = await publish(standin, seats=2)
    card = standin.cards[track]
    assert (card.data["taken"], card.data["seats"], card.data["waitlist"]) == ("0", "2", "0")
    assert card.data["starts"] == START_LOCAL

    push = await standin.click(track, "alice", {"action": "join", "id": str(event_id)})
    assert push.latency is not None and push.latency < 2.0
    assert card.data["taken"] == "1" and card.private["alice"]["state"] == "已报名"
    sent = await say(standin, f"/报名 {event_id}", sender="bob")
    assert "报名成功" in sent.text
    await standin.click(track, "carol", {"action": "join", "id": str(event_id)})
    assert card.private["carol"]["state"] == "候补第 1 位"
    sent = await say(standin, f"/报名 {event_id}", sender="dave")
    assert "候补第 2 位" in sent.text
    sent = await say(standin, f"/报名 {event_id}", sender="dave")
    assert "已在活动" in sent.text and "候补第 2 位" in sent.text  # twice is a friendly no-op
    push = await standin.click(track, "alice", {"action": "join", "id": str(event_id)})
    assert "已经报名" in StandIn.response_of(push)["userPrivateData"]["cardParamMap"]["message"]
    sent = await say(standin, "/活动", sender="erin")
    assert f"#{event_id}「植树」" in sent.text and "剩余名额 0/2，候补 2 人" in sent.text

    # Leaving promotes the first on the waitlist, who is told one to one.
    push = await standin.click(track, "alice", {"action": "leave", "id": str(event_id)})
    assert card.private["alice"]["state"] == ""
    await standin.wait_sent(where=lambda s: s.route == "o2o" and "carol" in s.user_ids)
    assert "已从候补转为正式报名" in o2o_to(standin, "carol")[0].text
    sent = await say(standin, f"/取消报名 {event_id}", sender="alice")
    assert "没有报名" in sent.text

    # Raising seats promotes in order; lowering never evicts.
    sent = await say(standin, f"/活动 名额 {event_id} 3", sender="admin1")
    assert "已从候补递补 1 人" in sent.text
    await standin.wait_sent(where=lambda s: s.route == "o2o" and "dave" in s.user_ids)
    sent = await say(standin, f"/活动 名额 {event_id} 1", sender="admin1")
    assert "不会被移除" in sent.text
    async with app.db.transaction() as session:
        rows = (
            await session.execute(select(Signup.staff_id, Signup.status).order_by(Signup.id))
        ).all()
    assert rows == [("bob", "confirmed"), ("carol", "confirmed"), ("dave", "confirmed")]
    sent = await say(standin, f"/活动 名单 {event_id}", sender="admin1")
    assert "报名 3/1" in sent.text and "1. Bob" in sent.text


async def test_sign_ups_close_at_the_start(standin: StandIn, start_bot: BotFactory) -> None:
    clock = ManualClock(NOW)
    await start(start_bot, clock)
    event_id, track = await publish(standin)
    clock.set(START)
    sent = await say(standin, f"/报名 {event_id}", sender="bob")
    assert "报名已截止" in sent.text
    push = await standin.click(track, "carol", {"action": "join", "id": str(event_id)})
    assert "报名已截止" in StandIn.response_of(push)["userPrivateData"]["cardParamMap"]["message"]


async def test_reminders_fire_by_the_clock_once_each(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock(NOW)
    app = await start(start_bot, clock)
    event_id, _ = await publish(standin, seats=25)
    for i in range(23):
        await say(standin, f"/报名 {event_id}", sender=f"m{i:02d}")
    assert await app.jobs.run_job("event-reminders")
    assert not [s for s in standin.sent if "提醒" in s.text]  # two days ahead: nothing yet

    clock.set(START - timedelta(hours=23, minutes=59))
    assert await app.jobs.run_job("event-reminders")
    group = await standin.wait_sent(where=lambda s: s.route == "group" and "提醒" in s.text)
    direct = await standin.wait_sent(2, where=lambda s: s.route == "o2o" and "提醒" in s.text)
    assert len(group) == 1 and "M00" in group[0].text and "M22" in group[0].text
    assert sorted(len(s.user_ids) for s in direct) == [3, 20]  # batched within batchSend's 20
    assert await app.jobs.run_job("event-reminders")  # again: nothing new
    clock.advance(timedelta(hours=23, minutes=30))  # 29 minutes before the start
    assert await app.jobs.run_job("event-reminders")
    await standin.wait_sent(2, where=lambda s: s.route == "group" and "提醒" in s.text)
    await say(standin, "/帮助", sender="m00")  # anything queued is out once this is answered
    assert len([s for s in standin.sent if s.route == "group" and "提醒" in s.text]) == 2


async def test_a_reminder_due_while_down_goes_out_on_start_up_once(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock(NOW)
    app = await start(start_bot, clock)
    event_id, _ = await publish(standin, seats=5)
    await say(standin, f"/报名 {event_id}", sender="bob")
    await app.stop()  # the bot is down across the 24 h mark
    clock.set(START - timedelta(hours=20))
    await start(start_bot, clock)  # the jobs run once at start-up
    await standin.wait_sent(where=lambda s: s.route == "group" and "提醒" in s.text, timeout=10)
    app3 = await start(start_bot, clock)  # a second process (or another restart): no repeat
    assert await app3.jobs.run_job("event-reminders")
    await say(standin, "/帮助", sender="bob")
    assert len([s for s in standin.sent if s.route == "group" and "提醒" in s.text]) == 1


async def test_cancel_tells_everyone_and_done_credits_hours(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock(NOW)
    app = await start(start_bot, clock)
    first, _ = await publish(standin, seats=1, title="清扫")
    await say(standin, f"/报名 {first}", sender="bob")
    await say(standin, f"/报名 {first}", sender="carol")  # waitlisted
    sent = await say(standin, f"/活动 取消 {first} 下雨了", sender="admin1")
    assert "已通知 2 位报名者" in sent.text
    [notice] = await standin.wait_sent(where=lambda s: s.route == "o2o" and "已取消" in s.text)
    assert sorted(notice.user_ids) == ["bob", "carol"] and "下雨了" in notice.text
    sent = await say(standin, f"/报名 {first}", sender="dave")
    assert "已取消" in sent.text

    second, _ = await publish(standin, seats=3, title="植树")
    for member in ("bob", "carol", "dave"):
        await say(standin, f"/报名 {second}", sender=member)
    sent = await say(standin, f"/活动 结束 {second}", sender="admin1")
    assert "还没开始" in sent.text
    clock.set(START + timedelta(hours=4))
    sent = await say(standin, f"/活动 结束 {second} dave", sender="admin1")
    assert "2 人获得 3 小时" in sent.text
    sent = await say(standin, "/志愿时长", sender="bob")
    assert "共 3 小时（1 次活动）" in sent.text and "植树：3 小时，2026-" in sent.text
    sent = await say(standin, "/hours", sender="bob")  # English: no Chinese punctuation
    assert "3 h (activities: 1)" in sent.text and "植树: 3 h, 2026-" in sent.text, sent.text
    sent = await say(standin, "/志愿时长", sender="dave")
    assert "还没有志愿时长" in sent.text
    async with app.db.transaction() as session:
        credited = (await session.execute(select(VolunteerHours.staff_id))).scalars().all()
    assert sorted(credited) == ["bob", "carol"]


async def test_forget_releases_seats_and_the_waitlist_moves_up(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot)
    event_id, _ = await publish(standin, seats=1)
    await say(standin, f"/报名 {event_id}", sender="alice")
    await say(standin, f"/报名 {event_id}", sender="bob")  # waitlisted
    await say(standin, "/删除我的数据", sender="alice")
    sent = await say(standin, "/删除我的数据 确认", sender="alice")
    assert "活动报名 1 条" in sent.text
    await standin.wait_sent(where=lambda s: s.route == "o2o" and "bob" in s.user_ids)
    async with app.db.transaction() as session:
        rows = (await session.execute(select(Signup.staff_id, Signup.status))).all()
    assert rows == [("bob", "confirmed")]


async def test_a_storm_of_join_clicks_never_overbooks(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot)
    event_id, track = await publish(standin, seats=50)
    clicks = [
        asyncio.create_task(
            standin.click(track, f"s{i:04d}", {"action": "join", "id": str(event_id)}, timeout=60)
        )
        for i in range(300)
    ]
    pushes = await asyncio.gather(*clicks)
    assert all(p.ack is not None for p in pushes)
    states = [StandIn.response_of(p)["userPrivateData"]["cardParamMap"]["state"] for p in pushes]
    assert states.count("已报名") == 50
    async with app.db.transaction() as session:
        rows = (
            await session.execute(select(Signup.staff_id, Signup.status).order_by(Signup.id))
        ).all()
    assert [s for s, status in rows if status == "confirmed"] == [f"s{i:04d}" for i in range(50)]
    assert [s for s, status in rows if status == "waitlisted"] == [
        f"s{i:04d}" for i in range(50, 300)
    ]
    assert states[60] == "候补第 11 位"


async def test_clicks_arriving_together_keep_arrival_order_and_are_answered_alone(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot)
    event_id, track = await publish(standin, seats=2)
    other_id, other_track = await publish(standin, seats=5, title="清扫")
    await say(standin, "/封禁 @Mallory", sender="admin1", at=["mallory"])
    join = {"action": "join", "id": str(event_id)}
    await standin.click(track, "ann", join)
    burst = [
        (track, "bob", join),
        (track, "bob", join),  # twice: a friendly no-op
        (track, "ann", {"action": "leave", "id": str(event_id)}),
        (track, "cat", join),  # gets ann's seat only if the leave is handled first
        (track, "dan", join),
        (track, "mallory", join),  # banned
        (track, "eve", {"action": "join", "id": "abc"}),
        (other_track, "eve", {"action": "join", "id": str(other_id)}),
    ]
    pushes = await asyncio.gather(*(standin.click(t, who, p) for t, who, p in burst))
    answers = [StandIn.response_of(p)["userPrivateData"]["cardParamMap"] for p in pushes]
    assert [a.get("state") for a in answers[:2]] == ["已报名", "已报名"]
    assert answers[1]["message"] == f"你已经报名了活动 #{event_id}。"
    assert answers[2]["message"] == f"已取消报名活动 #{event_id}。"
    assert answers[3]["state"] == "已报名"
    assert answers[4]["state"] == "候补第 1 位"
    assert "暂时不能" in answers[5]["message"] and "state" not in answers[5]
    assert answers[6]["message"] == "这张卡片已失效。"  # not the card's own id
    assert answers[7]["state"] == "已报名"
    # Every answer on the first card carries counts at least as new as the click's own.
    last = StandIn.response_of(pushes[4])["cardData"]["cardParamMap"]
    assert (last["taken"], last["waitlist"]) == ("2", "1")
    async with app.db.transaction() as session:
        rows = (
            await session.execute(
                select(Signup.event_id, Signup.staff_id, Signup.status).order_by(Signup.id)
            )
        ).all()
    assert rows == [
        (event_id, "bob", "confirmed"),
        (event_id, "cat", "confirmed"),
        (event_id, "dan", "waitlisted"),
        (other_id, "eve", "confirmed"),
    ]


async def test_no_reminders_while_the_volunteers_module_is_off(
    standin: StandIn, start_bot: BotFactory
) -> None:
    """An admin who turned the volunteers module off hears no more of it: reminders wait,
    and the latest one due goes out if it is turned back on before the start."""
    clock = ManualClock(NOW)
    app = await start(start_bot, clock)
    event_id, _ = await publish(standin, seats=5)
    await say(standin, f"/报名 {event_id}", sender="bob")
    await say(standin, "/模块 volunteers 关", sender="admin1")
    clock.set(START - timedelta(hours=23, minutes=59))
    assert await app.jobs.run_job("event-reminders")
    await say(standin, "/帮助", sender="bob")  # anything queued is out once this is answered
    assert not [s for s in standin.sent if "提醒" in s.text]
    await say(standin, "/模块 volunteers 开", sender="admin1")
    assert await app.jobs.run_job("event-reminders")
    [group] = await standin.wait_sent(where=lambda s: s.route == "group" and "提醒" in s.text)
    assert "Bob" in group.text


async def test_an_activity_in_full_says_where_the_member_stands(
    standin: StandIn, start_bot: BotFactory
) -> None:
    """`/活动 <编号>` (what members naturally type after the list) shows the activity in
    full, and whether they are signed up, waiting (with the place), or how to sign up."""
    clock = ManualClock(NOW)
    await start(start_bot, clock)
    event_id, _ = await publish(standin, seats=1)
    sent = await say(standin, f"/活动 {event_id}", sender="bob")
    assert f"活动 #{event_id}「植树」" in sent.text and "滨江公园" in sent.text
    assert "已报名 0/1" in sent.text and f"/报名 {event_id}" in sent.text
    await say(standin, f"/报名 {event_id}", sender="bob")
    await say(standin, f"/报名 {event_id}", sender="carol")
    sent = await say(standin, f"/活动 #{event_id}", sender="bob")
    assert "已报名 1/1，候补 1 人" in sent.text and "你已报名" in sent.text
    sent = await say(standin, f"/活动 {event_id}", sender="carol")
    assert "你在候补第 1 位" in sent.text and f"/取消报名 {event_id}" in sent.text
    sent = await say(standin, "/活动 99", sender="carol")
    assert "没有编号为 99 的活动" in sent.text
    sent = await say(standin, "/events 1", sender="dave")
    assert "Activity #1" in sent.text and "Seats: 1 of 1 taken" in sent.text
