"""Organisers' tools (issue 17) through the real SDK and the stand-in: editing an activity,
its status on every card, check-in, reminders and exports."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.clock import ManualClock
from bot.sandbox.standin import Sent, StandIn
from storage.models import AuditEntry, VolunteerHours
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
        (f"/活动 修改 {event_id} 颜色 红色", "时间 / 地点 / 标题 / 时长 / 名额"),
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


async def test_every_card_shows_the_state_and_stops_offering_join_when_it_no_longer_applies(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock(NOW)
    app = await start(start_bot, clock)
    event_id, track = await publish(standin, seats=1)
    card = standin.cards[track]
    assert (card.data["status"], card.data["joinable"]) == ("报名中", "1")
    await standin.click(track, "alice", {"action": "join", "id": str(event_id)})
    assert (card.data["status"], card.data["joinable"]) == ("已满·候补", "1")  # the ack's data
    await say(standin, f"/报名 {event_id}", sender="bob")  # waitlisted: still full
    await card_shows(standin, track, status="已满·候补")
    await say(standin, f"/取消报名 {event_id}", sender="alice")  # bob moves up: still full
    await say(standin, f"/活动 名额 {event_id} 3", sender="admin1")
    await card_shows(standin, track, status="报名中", joinable="1")

    # The start closes sign-ups; the reminders job tells the cards, once.
    clock.set(START + timedelta(minutes=1))
    assert await app.jobs.run_job("event-reminders")
    await card_shows(standin, track, status="已截止", joinable="0")
    updates = len([s for s in standin.sent if s.route == "card_update"])
    assert await app.jobs.run_job("event-reminders")
    await say(standin, "/帮助", sender="bob")
    assert len([s for s in standin.sent if s.route == "card_update"]) == updates
    await say(standin, f"/活动 结束 {event_id}", sender="admin1")
    await card_shows(standin, track, status="已结束", joinable="0")

    # A cancelled activity's card says so; a card sent after that offers no buttons at all.
    clock.set(NOW)
    second, track2 = await publish(standin)
    await say(standin, f"/活动 取消 {second} 下雨", sender="admin1")
    await card_shows(standin, track2, status="已取消", joinable="0")
    push = await standin.click(track2, "carol", {"action": "join", "id": str(second)})
    assert "已取消" in StandIn.response_of(push)["userPrivateData"]["cardParamMap"]["message"]


async def test_check_in_credits_exactly_those_who_checked_in_and_changes_are_audited(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock(NOW)
    app = await start(start_bot, clock)
    event_id, _ = await publish(standin, seats=3)
    for member in ("alice", "bob", "carol", "dave"):  # dave waits
        await say(standin, f"/报名 {event_id}", sender=member)
    await say(standin, "/帮助", sender="erin")  # in the group, never signed up

    # Asked in the group, the code goes to the admin alone.
    sent = await say(standin, f"/签到码 {event_id}", sender="admin1")
    assert "私信" in sent.text and not any(ch.isdigit() for ch in sent.text.split("#")[1][2:])
    [private] = await standin.wait_sent(where=lambda s: s.route == "o2o" and "签到码" in s.text)
    assert private.user_ids == ["admin1"]
    code = private.text.split("签到码：")[1][:4]
    sent = await say(standin, f"/签到 {code}", sender="alice")
    assert "还没开始" in sent.text  # two days early

    clock.set(START - timedelta(minutes=10))
    sent = await say(standin, f"/签到 {code}", sender="alice")
    assert "签到成功" in sent.text
    sent = await say(standin, f"/签到 {code}", sender="alice")
    assert "已经签到过" in sent.text
    sent = await say(
        standin,
        f"／签到 {code.translate(str.maketrans('0123456789', '０１２３４５６７８９'))}",
        sender="bob",
    )
    assert "签到成功" in sent.text  # full-width digits
    sent = await say(standin, f"/签到 {code}", sender="dave")
    assert "不在活动" in sent.text  # waitlisted
    wrong = "0000" if code != "0000" else "1111"
    for _ in range(5):
        sent = await say(standin, f"/签到 {wrong}", sender="erin")
        assert "签到码不对" in sent.text
    sent = await say(standin, f"/签到 {code}", sender="erin")
    assert "太多" in sent.text  # throttled, even with the right code
    clock.set(START + timedelta(minutes=61))
    sent = await say(standin, f"/签到 {code}", sender="carol")
    assert "已于" in sent.text and "结束" in sent.text

    # carol came without checking in: the admin adds her by name; bob is taken off by @.
    sent = await say(standin, f"/活动 结束 {event_id} +Carol -@Bob", sender="admin1", at=["bob"])
    assert "2 人获得 3 小时" in sent.text and "签到" in sent.text, sent.text
    assert "补记：Carol" in sent.text and "Bob" in sent.text
    async with app.db.transaction() as session:
        credited = (await session.execute(select(VolunteerHours.staff_id))).scalars().all()
        audit = (await session.execute(select(AuditEntry.detail))).scalars().all()
    assert sorted(credited) == ["alice", "carol"]
    assert any("{m:bob}" in a and "{m:carol}" in a for a in audit), audit
    sent = await say(standin, "/志愿时长", sender="bob")
    assert "出勤率 0%" in sent.text
    sent = await say(standin, "/志愿时长", sender="alice")
    assert "出勤率 100%" in sent.text


async def test_closing_by_check_in_takes_a_confirmed_member_who_did_not_check_in_off(
    standin: StandIn, start_bot: BotFactory
) -> None:
    """With check-in codes, ``-名字`` for someone confirmed who never checked in is not an
    error (they were refused as "not on the confirmed list", and the whole command with
    them): they get no hours anyway, and the reply says so by name."""
    clock = ManualClock(NOW)
    app = await start(start_bot, clock)
    event_id, _ = await publish(standin, seats=3)
    for member in ("alice", "bob", "carol"):
        await say(standin, f"/报名 {event_id}", sender=member)
    await say(standin, f"/签到码 {event_id}", sender="admin1")
    [private] = await standin.wait_sent(where=lambda s: s.route == "o2o" and "签到码" in s.text)
    code = private.text.split("签到码：")[1][:4]
    clock.set(START - timedelta(minutes=10))
    await say(standin, f"/签到 {code}", sender="alice")
    clock.set(START + timedelta(hours=4))
    sent = await say(standin, f"/活动 结束 {event_id} -carol -nobody", sender="admin1")
    assert "nobody" in sent.text and "获得" not in sent.text  # a name that fits nobody
    sent = await say(standin, f"/活动 结束 {event_id} +@bob -carol", sender="admin1", at=["bob"])
    assert "2 人获得 3 小时" in sent.text, sent.text
    assert "没有签到，本来就不计时长：Carol" in sent.text and "补记：Bob" in sent.text
    async with app.db.transaction() as session:
        credited = (await session.execute(select(VolunteerHours.staff_id))).scalars().all()
    assert sorted(credited) == ["alice", "bob"]


async def test_the_hours_board_ranks_this_month_or_all_time_by_name(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock(NOW)
    await start(start_bot, clock)
    sent = await say(standin, "/时长榜", sender="bob")
    assert "2026-03 志愿时长榜" in sent.text and "还没有记录" in sent.text
    first, _ = await publish(standin, seats=5, title="清扫")
    for member in ("alice", "bob"):
        await say(standin, f"/报名 {first}", sender=member)
    clock.set(START + timedelta(hours=4))
    await say(standin, f"/活动 结束 {first}", sender="admin1")
    # Next month: bob alone comes to a second activity.
    clock.set(START + timedelta(days=25))
    sent = await say(standin, "/活动 新建 植树 | 2026-04-10 09:00 | 2 | 公园 | 5", sender="admin1")
    second = int(sent.text.split("#")[1].split("「")[0])
    await say(standin, f"/报名 {second}", sender="bob")
    clock.set(START + timedelta(days=29, hours=4))
    await say(standin, f"/活动 结束 {second}", sender="admin1")
    sent = await say(standin, "/时长榜 本月", sender="carol")
    assert "2026-04" in sent.text and "1. Bob：2 小时（1 次）" in sent.text
    assert "Alice" not in sent.text and "bob" not in sent.text
    sent = await say(standin, "/时长榜 全部", sender="carol")
    assert "1. Bob：5 小时（2 次）" in sent.text and "2. Alice：3 小时（1 次）" in sent.text
    sent = await say(standin, "/hoursboard all", sender="carol")
    assert "1. Bob: 5 h (2)" in sent.text
    sent = await say(standin, "/时长榜 去年", sender="carol")
    assert "/时长榜 [本月|全部]" in sent.text


async def test_custom_reminders_go_out_once_each_across_a_restart_and_members_can_opt_out(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock(NOW)
    app = await start(start_bot, clock)
    event_id, _ = await publish(standin, seats=5)
    for member in ("alice", "bob"):
        await say(standin, f"/报名 {event_id}", sender=member)
    sent = await say(standin, f"/活动 提醒 {event_id} ２小时，15分钟", sender="admin1")
    assert "开始前 2小时、15分钟 提醒" in sent.text, sent.text
    sent = await say(standin, f"/活动 提醒 {event_id} 明天吧", sender="admin1")
    assert "看不懂提醒时间" in sent.text
    sent = await say(standin, "/提醒 关", sender="bob")
    assert "已关闭" in sent.text

    def reminders(route: str) -> list[Sent]:
        return [s for s in standin.sent if s.route == route and "提醒：" in s.text]

    clock.set(START - timedelta(hours=23))  # the default 24 h reminder is not in this plan
    assert await app.jobs.run_job("event-reminders")
    clock.set(START - timedelta(hours=2))
    assert await app.jobs.run_job("event-reminders")
    [group] = await standin.wait_sent(where=lambda s: s.route == "group" and "提醒：" in s.text)
    [direct] = await standin.wait_sent(where=lambda s: s.route == "o2o" and "提醒：" in s.text)
    assert direct.user_ids == ["alice"] and "Bob" in group.text  # bob opted out of his own
    await app.stop()

    app2 = await start(start_bot, clock)  # a restart sends nothing twice
    assert await app2.jobs.run_job("event-reminders")
    clock.set(START - timedelta(minutes=15))
    assert await app2.jobs.run_job("event-reminders")
    assert await app2.jobs.run_job("event-reminders")
    await standin.wait_sent(2, where=lambda s: s.route == "group" and "提醒：" in s.text)
    await say(standin, "/帮助", sender="alice")  # anything queued is out once this is answered
    assert len(reminders("group")) == 2 and len(reminders("o2o")) == 2
    sent = await say(standin, "/提醒 开", sender="bob")
    assert "已打开" in sent.text
