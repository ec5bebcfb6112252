"""Issue 18: authors edit and withdraw their stories, admins remove them with a reason.

Through the real SDK, the stand-in, the bot and the database; card updates are checked on
the cards the stand-in holds (更新卡片: ``PUT /v1.0/card/instances``, update by key).
"""

from __future__ import annotations

from sqlalchemy import select

from bot.sandbox.standin import StandIn
from storage.models import Story
from tests.conftest import BotFactory
from tests.scenario.test_stories import reply_texts, say, start


def story_id_of(text: str) -> int:
    return int(text.split("#")[1].split("「")[0].split(" ")[0])


async def test_the_author_edits_a_pending_story_and_withdraws_it(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot)
    sent = await say(standin, "/故事 初稿 | 写得有点急", sender="alice")
    story_id = story_id_of(sent.text)

    # The admin's review card, delivered before the edit, shows the new text after it.
    before = len(standin.sent)
    await standin.say("/审核", sender="admin1")
    await standin.wait_sent(before + 2)
    review = next(s for s in standin.sent[before:] if s.route == "card")

    sent = await say(standin, f"/故事 修改 {story_id} 搬家记 | 同事们帮我搬了家", sender="alice")
    assert sent.text == f"已修改故事 #{story_id}「搬家记」，仍在等待审核。"
    await standin.wait_sent(where=lambda s: s.route == "card_update")
    assert standin.cards[review.out_track_id].data["title"] == "搬家记"

    # Bad forms and other people get a clear answer, and change nothing.
    sent = await say(standin, f"/故事 修改 {story_id} 只有标题", sender="alice")
    assert "用法：/故事 修改" in sent.text and "标题 | 正文" in sent.text
    sent = await say(standin, f"/故事 修改 {story_id} 改一下 | 我来改", sender="bob")
    assert sent.text == f"故事 #{story_id} 不是你写的，只有作者可以修改或撤回。"
    sent = await say(standin, f"/story edit {story_id} Moving | my colleagues helped", sender="bob")
    assert sent.text == f"Story #{story_id} is not yours; only its author can edit or withdraw it."

    sent = await say(standin, f"/故事 撤回 {story_id}", sender="alice")
    assert sent.text == f"已撤回故事 #{story_id}「搬家记」，它的赞不再计入排行。"
    await standin.wait_sent(
        where=lambda s: s.route == "card_update" and s.param.get("status") == "已撤回"
    )
    sent = await say(standin, f"/故事 修改 {story_id} 再改 | 再改一次", sender="alice")
    assert "只有待审核的故事可以修改" in sent.text and "已撤回" in sent.text
    sent = await say(standin, f"/故事 撤回 {story_id}", sender="alice")
    assert sent.text == f"故事 #{story_id} 已经撤回了。"
    sent = await say(standin, "/审核", sender="admin1")
    assert sent.text == "没有待审核的故事。"
    async with app.db.transaction() as session:
        story = await session.get(Story, story_id)
        assert story is not None and story.status == "withdrawn" and story.title == "搬家记"


async def test_a_withdrawn_story_says_so_on_its_card_and_its_likes_stop_counting(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot, stories={"review_default": False})
    replies = await reply_texts(standin, "/故事 中秋 | 大家一起过了中秋", 2, sender="alice")
    story_id, track = story_id_of(replies[0].text), replies[1].out_track_id
    await say(standin, f"/赞 {story_id}", sender="bob")
    await say(standin, f"/赞 {story_id}", sender="carol")
    sent = await say(standin, "/故事榜 all", sender="bob")
    assert f"#{story_id}" in sent.text

    sent = await say(standin, f"/故事 撤回 {story_id}", sender="alice")
    assert "已撤回" in sent.text
    await standin.wait_sent(
        where=lambda s: s.route == "card_update" and s.param.get("genuine_likes") == "0"
    )
    card = standin.cards[track]
    assert card.data["title"] == "（已撤回）中秋" and card.data["body"] == "作者已撤回这个故事。"
    sent = await say(standin, "/故事榜 all", sender="bob")
    assert f"#{story_id}" not in sent.text
    sent = await say(standin, f"/赞 {story_id}", sender="dave")
    assert f"故事 #{story_id} 现在是「已撤回」，不能点赞" in sent.text
    # Rescoring never brings the withdrawn story's likes back.
    assert await app.jobs.run_job("likes-rescore")
    async with app.db.transaction() as session:
        genuine = await session.scalar(select(Story.genuine_likes).where(Story.id == story_id))
    assert genuine == 0


async def test_an_admin_removes_a_published_story_with_a_reason_and_the_author_is_told(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start(start_bot, stories={"review_default": False})
    replies = await reply_texts(standin, "/故事 广告 | 快来买我的产品", 2, sender="alice")
    story_id, track = story_id_of(replies[0].text), replies[1].out_track_id

    sent = await say(standin, f"/故事 删除 {story_id} 这是广告", sender="bob")
    assert "只有管理员" in sent.text
    sent = await say(standin, f"/故事 删除 {story_id} 这是广告", sender="admin1")
    assert sent.text == f"已删除故事 #{story_id}，作者已收到通知。"
    told = await standin.wait_sent(where=lambda s: s.route == "o2o" and "已被管理员删除" in s.text)
    assert told[0].user_ids == ["alice"]
    assert told[0].text == f"你的故事 #{story_id}「广告」已被管理员删除。理由：这是广告"
    await standin.wait_sent(where=lambda s: s.route == "card_update")
    assert standin.cards[track].data["body"] == "这个故事已被管理员删除。"
    sent = await say(standin, f"/故事 删除 {story_id}", sender="admin1")
    assert sent.text == f"故事 #{story_id} 现在是「已删除」，只能删除已发布的故事。"

    # A story still waiting for review is rejected, not removed.
    sent = await say(standin, "/审核 开", sender="admin1")
    sent = await say(standin, "/故事 待审 | 还在排队", sender="alice")
    pending = story_id_of(sent.text)
    sent = await say(standin, f"/story remove {pending}", sender="admin1")
    assert sent.text == f"Story #{pending} is pending; only a published story can be removed."


async def test_story_arguments_take_the_words_the_help_shows(
    standin: StandIn, start_bot: BotFactory
) -> None:
    """Issue 18: `/故事榜 本周|全部` and `/审核 开|关` in Chinese and English; a usage line names
    the switch that exists ("/审核 off" was refused with "用法：/审核")."""
    await start(start_bot, stories={"review_default": False})
    await reply_texts(standin, "/故事 中秋 | 大家一起过了中秋", 2, sender="alice")
    for text, header in (
        ("/故事榜 全部", "故事总榜"),
        ("/故事榜 本周", "本周故事榜"),
        ("/故事榜 ALL", "故事总榜"),
        ("/stories week", "This week's top stories"),
        ("/stories 全部", "Top stories of all time"),
    ):
        sent = await say(standin, text, sender="bob")
        assert sent.text.startswith(header), (text, sent.text)
    sent = await say(standin, "/故事榜 昨天", sender="bob")
    assert sent.text == "「范围」只能是 本周 / 全部。\n用法：/故事榜 [本周|全部]"
    sent = await say(standin, "/审核 off", sender="admin1")
    assert sent.text == "本群已关闭故事审核，新故事会直接发布。"
    sent = await say(standin, "/审核 开", sender="admin1")
    assert sent.text == "本群已开启故事审核。"
    sent = await say(standin, "/review OFF", sender="admin1")
    assert sent.text == "Stories here are now published without review."
    sent = await say(standin, "/审核 也许", sender="admin1")
    assert "/审核 开\n/审核 关" in sent.text
    sent = await say(standin, "/帮助 审核", sender="admin1")
    assert "/审核 [开|关]" in sent.text
