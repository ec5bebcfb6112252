"""People see names, never staff ids; admins name members by @-mention or nick."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from bot.clock import ManualClock
from bot.sandbox.standin import Sent, StandIn
from storage.models import Ban, Event, VolunteerHours
from tests.conftest import BotFactory
from tests.scenario.test_stories import reply_texts, say
from tests.scenario.test_volunteers import NOW, START

# Staff ids look like real ones and appear in no nick, so a leak is a plain substring.
BOSS, LIN, CHEN, WANG1, WANG2, ZHAO = (
    "boss-8841",
    "manager7121",
    "0938472361",
    "wangf01",
    "wangf02",
    "zhao-2291",
)
NICKS = {BOSS: "社长", LIN: "林小雨", CHEN: "陈大文", WANG1: "王芳", WANG2: "王芳", ZHAO: "赵四"}
CARDS = {"story_template": "tpl-story", "event_template": "tpl-event", "swap_template": "tpl-swap"}


async def as_(standin: StandIn, who: str, text: str, **kw: object) -> Sent:
    return await say(standin, text, sender=who, nick=NICKS[who], **kw)


def visible(sent: Sent) -> str:
    """What people can see of a delivery: its text and every card value. A mention the
    platform renders as a name (``@id`` with the id in the webhook's ``atUserIds``) is not
    an id on screen."""
    shown = sent.text + "\n" + json.dumps(sent.param, ensure_ascii=False)
    if sent.route == "webhook":
        for staff_id in sent.at_ids:
            shown = shown.replace("@" + staff_id, "@<mention>")
    return shown


def assert_no_staff_ids(standin: StandIn) -> None:
    assert len(standin.sent) > 40
    for sent in standin.sent:
        shown = visible(sent)
        for staff_id in NICKS:
            assert staff_id not in shown, (staff_id, sent.route, shown)
        assert "['" not in shown and "staff=" not in shown, shown  # no Python reprs or keys


async def test_every_reply_names_people_and_admins_name_members_by_mention_or_nick(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock(NOW)
    app = await start_bot(
        clock=clock,
        cards=CARDS,
        admins={"staff_ids": [BOSS]},
        stories={"review_default": False},
    )
    # Stories and likes.
    await reply_texts(standin, "/故事 修自行车 | 楼下师傅教我补胎", 2, sender=LIN, nick=NICKS[LIN])
    await as_(standin, CHEN, "/赞 1")
    assert "林小雨" in (await as_(standin, CHEN, "/故事榜 all")).text
    assert "陈大文" in (await as_(standin, BOSS, "/点赞明细 1")).text
    await as_(standin, BOSS, "/异常点赞")

    # Skills, a swap and time credits.
    await as_(standin, LIN, "/我会 吉他 | 周末有空")
    assert "林小雨" in (await as_(standin, CHEN, "/我想学 吉他")).text
    assert "林小雨" in (await as_(standin, CHEN, "/技能")).text
    assert "林小雨" in (await as_(standin, CHEN, "/匹配")).text
    await as_(standin, CHEN, "/交换 1")
    await as_(standin, LIN, "/交换 接受 1")
    assert "等待 林小雨 确认" in (await as_(standin, CHEN, "/交换完成 1 2")).text
    assert "林小雨 +2，陈大文 -2" in (await as_(standin, LIN, "/交换 确认 1")).text
    await as_(standin, LIN, "/时间币")

    # An activity: roster, reminders, and everyone signs up.
    await as_(standin, BOSS, "/活动 新建 清扫 | 2026-03-12 09:00 | 2 | 小区 | 5")
    for who in (LIN, CHEN, WANG1, WANG2, ZHAO):
        await as_(standin, who, "/报名 1")
    roster = (await as_(standin, BOSS, "/活动 名单 1")).text
    assert all(NICKS[w] in roster for w in (LIN, CHEN, ZHAO)) and roster.count("王芳") == 2
    clock.set(START - timedelta(hours=23))
    assert await app.jobs.run_job("event-reminders")
    [reminder] = await standin.wait_sent(where=lambda s: s.route == "group" and "提醒" in s.text)
    assert "林小雨" in reminder.text and "赵四" in reminder.text

    # Banning by @-mention, by nick; an unknown or ambiguous name is refused, nothing banned.
    sent = await as_(standin, BOSS, "/封禁 @赵四", at=[ZHAO])
    assert "已禁止 赵四" in sent.text, sent.text
    sent = await as_(standin, BOSS, "/封禁 王芳")
    assert "有 2 位成员都叫「王芳」" in sent.text and "@" in sent.text, sent.text
    sent = await as_(standin, BOSS, "/封禁 张三丰")
    assert "没有叫「张三丰」的成员" in sent.text, sent.text
    async with app.db.transaction() as session:
        assert (await session.execute(select(Ban.staff_id))).scalars().all() == [ZHAO]
    assert "暂时不能" in (await as_(standin, ZHAO, "/故事 再来 | 一个")).text
    assert "已解除对 赵四 的禁止" in (await as_(standin, BOSS, "/解封 赵四")).text

    # Closing the activity: absentees by @-mention and by nick; unknown names refuse it all.
    clock.set(START + timedelta(hours=3))
    sent = await as_(standin, BOSS, "/活动 结束 1 张三丰")
    assert "没有叫「张三丰」的成员" in sent.text, sent.text
    sent = await as_(standin, BOSS, "/活动 结束 1 王芳")
    assert "2 位成员都叫「王芳」" in sent.text, sent.text
    async with app.db.transaction() as session:
        event = await session.get(Event, 1)
        assert event is not None and event.status == "open"  # nothing half done
    sent = await as_(standin, BOSS, "/活动 结束 1 @王芳 陈大文", at=[WANG1])
    assert "3 人获得 2 小时" in sent.text and "缺席（不计时长）：王芳、陈大文" in sent.text, (
        sent.text
    )
    async with app.db.transaction() as session:
        credited = (await session.execute(select(VolunteerHours.staff_id))).scalars().all()
    assert sorted(credited) == sorted([LIN, WANG2, ZHAO])

    # The audit log: names, the commands as typed, no keys or reprs.
    audit = (await as_(standin, BOSS, "/审计")).text
    assert "社长：/活动 结束 1 缺席 王芳、陈大文" in audit, audit
    assert "社长：/封禁 赵四" in audit and "社长：/解封 赵四" in audit, audit

    # The digest, and the member's own data.
    await as_(standin, BOSS, "/周报")
    await as_(standin, LIN, "/我的数据")
    await as_(standin, BOSS, "/帮助")  # anything still queued is out once this is answered
    assert_no_staff_ids(standin)


async def test_an_at_mention_of_the_robot_alone_is_not_a_member(
    standin: StandIn, start_bot: BotFactory
) -> None:
    """The robot is in every ``atUsers``; a typed "@name" with no member mention is a nick."""
    await start_bot(admins={"staff_ids": [BOSS]})
    await as_(standin, LIN, "/帮助")
    sent = await as_(standin, BOSS, "/封禁 @林小雨")  # typed, not picked: only the robot in atUsers
    assert "已禁止 林小雨" in sent.text, sent.text
    sent = await as_(standin, BOSS, "/封禁 @陈大文 @林小雨", at=[CHEN, LIN])
    assert "一次只能指定一位成员" in sent.text or "多余" in sent.text, sent.text
    # A mention whose "@nick" the client left out of the text still names the member.
    await as_(standin, CHEN, "/帮助")
    sent = await as_(standin, BOSS, "/封禁", at=[CHEN])
    assert "已禁止 陈大文" in sent.text, sent.text
    sent = await as_(standin, BOSS, "/解封")
    assert "请指定成员" in sent.text and "@" in sent.text, sent.text
