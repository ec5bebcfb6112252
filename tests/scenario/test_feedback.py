"""Issue 18: ``/反馈`` reaches the admins one to one with a number; ``/回复`` reaches the member.

One to one through the robot's batchSend (robot_1_0 ``BatchSendOTORequest``, at most 20 user
ids a call): ``groupMessages/send`` would show the feedback to the whole group.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.sandbox.standin import Sent, StandIn
from storage.models import Feedback
from tests.conftest import BotFactory
from tests.scenario.test_stories import say, start

ADMINS = {"staff_ids": ["admin1", "admin2"]}


def one_to_one(standin: StandIn, needle: str) -> list[Sent]:
    return [s for s in standin.sent if s.route == "o2o" and needle in s.text]


async def test_feedback_reaches_the_admins_and_the_answer_reaches_the_member(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot, admins=ADMINS)
    sent = await say(
        standin,
        "/反馈 周末活动能不能早点通知 @all dingtalk://dingtalkclient/page",
        sender="alice",
        nick="林小雨",
    )
    assert sent.route == "webhook" and "已收到你的反馈 #" in sent.text
    number = int(re.search(r"#(\d+)", sent.text).group(1))  # type: ignore[union-attr]
    [notice] = await standin.wait_sent(where=lambda s: s.route == "o2o" and "的反馈 #" in s.text)
    assert sorted(notice.user_ids) == ["admin1", "admin2"]
    assert f"林小雨 的反馈 #{number}：" in notice.text and "【社区群】" in notice.text
    assert "周末活动能不能早点通知" in notice.text
    # Member text is shown as text (bot.safety): no mention, no link a client acts on.
    assert "@all" not in notice.text and "dingtalk://" not in notice.text
    assert f"/回复 {number} <内容>" in notice.text

    # The admin answers one to one (the number names the group); the member is told.
    await say(standin, "/帮助", sender="admin1")  # the bot knows admin1 from the group
    answer = await say(
        standin,
        f"/回复 {number} 好的，下次提前三天",
        sender="admin1",
        conversation="cid-chat-admin1",
        conversation_type="1",
    )
    assert "已把回复私信发给 林小雨" in answer.text, answer.text
    [told] = await standin.wait_sent(
        where=lambda s: s.route == "o2o" and "管理员回复了你的反馈" in s.text
    )
    assert told.user_ids == ["alice"]
    assert "好的，下次提前三天" in told.text and "周末活动能不能早点通知" in told.text
    assert "@all" not in told.text and "dingtalk://" not in told.text

    # Members cannot answer; an unknown number is said so.
    refused = await say(standin, f"/回复 {number} 我也想", sender="bob")
    assert "只有管理员" in refused.text
    unknown = await say(standin, "/回复 999 好", sender="admin1")
    assert unknown.text == "本群没有编号为 999 的反馈。"

    # English: /feedback and /reply, answered in the member's language.
    sent = await say(standin, "/feedback more evening events please", sender="bob", nick="Bob")
    assert sent.text.startswith("Thanks, your feedback #")
    en_number = int(re.search(r"#(\d+)", sent.text).group(1))  # type: ignore[union-attr]
    await say(standin, f"/reply {en_number} Sure, next month", sender="admin2")
    [en] = await standin.wait_sent(
        where=lambda s: s.route == "o2o" and "An admin answered" in s.text
    )
    assert en.user_ids == ["bob"] and "Sure, next month" in en.text

    # /我的数据 lists the member's feedback; /删除我的数据 removes it.
    await say(standin, "/我的数据", sender="alice")
    [mine] = await standin.wait_sent(where=lambda s: s.route == "o2o" and "我的反馈" in s.text)
    assert "我的反馈" in mine.text and f"#{number}" in mine.text and "（已回复）" in mine.text
    await say(standin, "/删除我的数据", sender="alice")
    await say(standin, "/删除我的数据 确认", sender="alice")
    async with app.db.transaction() as session:
        left = await session.scalar(
            select(func.count()).select_from(Feedback).where(Feedback.staff_id == "alice")
        )
    assert left == 0


async def test_feedback_is_rate_limited_and_checked(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock()
    await start(start_bot, clock=clock, admins=ADMINS)
    for i in range(3):
        sent = await say(standin, f"/反馈 第 {i} 条建议", sender="carol")
        assert "已收到你的反馈" in sent.text
    refused = await say(standin, "/反馈 第四条", sender="carol")
    assert refused.text.startswith("你在 1 小时内已经发了 3 条反馈"), refused.text
    assert len(one_to_one(standin, "的反馈 #")) == 3  # the refused one reached nobody
    clock.advance(timedelta(hours=1, minutes=1))
    sent = await say(standin, "/反馈 第四条", sender="carol")
    assert "已收到你的反馈" in sent.text

    missing = await say(standin, "/反馈", sender="carol")
    assert "缺少「内容」" in missing.text and "/反馈 <内容>" in missing.text
    long = await say(standin, "/反馈 " + "长" * 501, sender="carol")
    assert long.text == "反馈最多 500 个字，现在是 501 个。"
