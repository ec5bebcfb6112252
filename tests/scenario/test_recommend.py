"""Issue 18: /推荐 (/foryou), recommendations for one member with the reasons, and the
weekly one-to-one opt-in. Through the real SDK, the stand-in, the bot and the database."""

from __future__ import annotations

from bot.sandbox.standin import StandIn
from tests.conftest import BotFactory
from tests.scenario.test_stories import reply_texts, say, start


def id_of(text: str) -> int:
    return int(text.split("#")[1].split("「")[0].split(" ")[0])


async def test_recommendations_name_their_reasons(standin: StandIn, start_bot: BotFactory) -> None:
    await start(start_bot, cards={}, stories={"review_default": False})
    planting = id_of(
        (
            await say(
                standin, "/活动 新建 春季植树 | 2030-03-12 09:00 | 3 | 公园 | 5", sender="admin1"
            )
        ).text
    )
    day = id_of(
        (
            await say(
                standin, "/活动 新建 植树节 | 2030-04-01 09:00 | 3 | 公园 | 5", sender="admin1"
            )
        ).text
    )
    id_of(
        (
            await say(
                standin, "/活动 新建 读书会 | 2030-04-02 19:00 | 2 | 图书馆 | 9", sender="admin1"
            )
        ).text
    )
    await say(standin, f"/报名 {planting}", sender="mia")
    await say(standin, f"/报名 {planting}", sender="bob")
    # Skills: carol can teach what mia wants and wants what mia teaches; dave only wants.
    await say(standin, "/我会 PPT", sender="mia")
    await say(standin, "/我想学 Python", sender="mia")
    await say(standin, "/我会 python", sender="carol")
    await say(standin, "/我想学 ppt", sender="carol")
    await say(standin, "/我想学 PPT", sender="dave")
    # Stories of the week: bob joined the activity with mia; erin is a stranger to her.
    await reply_texts(standin, "/故事 种树那天 | 我们一起种了三十棵树", 1, sender="bob")
    await reply_texts(standin, "/故事 陌生人 | 和米娅没有交集", 1, sender="erin")

    sent = await say(standin, "/推荐", sender="mia")
    text = sent.text
    assert text.startswith("为你推荐：")
    assert f"#{day}「植树节」" in text and "你参加过「春季植树」，地点相同" in text
    # Not the activity she already joined, nor one unlike it elsewhere.
    assert "读书会" not in text and "「春季植树」·" not in text
    lines = text.splitlines()
    partners = lines.index("技能伙伴（双向优先）")
    assert lines[partners + 1].startswith("- Carol（双向）")
    assert "TA 会「python」，你想学「Python」" in lines[partners + 1]
    assert "你会「PPT」，TA 想学「ppt」" in lines[partners + 1]
    assert lines[partners + 2].startswith("- Dave（单向）")
    assert "「种树那天」— Bob —— 你们一起参加过「春季植树」" in text
    assert "陌生人" not in text

    # English alias, English reply; a member with nothing to go on is told how to get some.
    sent = await say(standin, "/foryou", sender="mia")
    assert sent.text.startswith("For you:") and "like '春季植树', which you joined" in sent.text
    sent = await say(standin, "/推荐", sender="newbie")
    assert "暂时没有为你推荐的内容" in sent.text


async def test_weekly_recommendations_are_opt_in_once_a_week_and_listed(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot, cards={}, stories={"review_default": False})
    event = id_of(
        (
            await say(
                standin, "/活动 新建 春季植树 | 2030-03-12 09:00 | 3 | 公园 | 5", sender="admin1"
            )
        ).text
    )
    await say(standin, "/活动 新建 植树节 | 2030-04-01 09:00 | 3 | 公园 | 5", sender="admin1")
    await say(standin, f"/报名 {event}", sender="mia")

    assert await app.jobs.run_job("weekly-recommendations")
    sent = await say(standin, "/推荐 订阅", sender="mia")
    assert sent.text.startswith("已订阅")
    sent = await say(standin, "/推荐 订阅", sender="mia")
    assert sent.text.startswith("你已经订阅了")
    await say(standin, "/我的数据", sender="mia")  # answered one to one
    [mine] = await standin.wait_sent(where=lambda s: s.route == "o2o" and "每周推荐订阅" in s.text)
    assert mine.user_ids == ["mia"]

    assert await app.jobs.run_job("weekly-recommendations")
    [weekly] = await standin.wait_sent(
        where=lambda s: s.route == "o2o" and "本周为你推荐" in s.text
    )
    assert weekly.user_ids == ["mia"] and "植树节" in weekly.text
    assert await app.jobs.run_job("weekly-recommendations")  # the same week: nothing more
    sent = await say(standin, "/推荐 退订", sender="mia")
    assert sent.text == "已退订每周推荐。"
    assert len([s for s in standin.sent if "本周为你推荐" in s.text]) == 1
