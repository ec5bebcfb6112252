"""Stories and honest likes through the real SDK, the stand-in, the bot and SQLite."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.app import Application
from bot.clock import ManualClock
from bot.sandbox.standin import Sent, StandIn
from storage.models import Like, Story
from tests.conftest import BotFactory

CARDS = {"story_template": "tpl-story", "review_template": "tpl-review"}
GROUP = "cid-group-1"


async def start(start_bot: BotFactory, **sections: dict[str, Any]) -> Application:
    cards = sections.pop("cards", CARDS)
    return await start_bot(cards=cards, **sections)  # type: ignore[no-any-return]


MESSAGE_ROUTES = ("webhook", "group", "o2o")


async def say(standin: StandIn, text: str | None, **kw: Any) -> Sent:
    """Send a message and return the first message (not card) the bot sent in reply to it."""
    push = await standin.say(text, **kw)
    msg_id = push.data["msgId"]

    def answer(s: Sent) -> bool:
        return s.in_reply_to == msg_id and s.route in MESSAGE_ROUTES

    return (await standin.wait_sent(where=answer))[0]


async def reply_texts(standin: StandIn, text: str, count: int, **kw: Any) -> list[Sent]:
    before = len(standin.sent)
    await standin.say(text, **kw)
    return (await standin.wait_sent(before + count))[before:]


async def submit_and_approve(
    standin: StandIn, title: str = "我的第一天", author: str = "alice"
) -> tuple[int, str]:
    """Submit a story as ``author`` and approve it as admin1; the story id and card track id."""
    sent = await say(standin, f"/故事 {title} | 同事们帮我搬了家，还请我吃饭", sender=author)
    story_id = int(sent.text.split("#")[1].split("「")[0])
    before = len(standin.sent)
    await standin.say(f"/通过 {story_id}", sender="admin1")
    await standin.wait_sent(before + 3, where=lambda s: True)
    card = next(s for s in standin.sent[before:] if s.route == "card")
    return story_id, card.out_track_id


async def test_submit_review_approve_like_by_card_and_command(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot)
    sent = await say(standin, "/故事 我的第一天 | 同事们帮我搬了家", sender="alice")
    assert sent.route == "webhook" and "审核" in sent.text
    story_id = int(sent.text.split("#")[1].split("「")[0])

    # The admin sees a review card with buttons, and approves with it.
    before = len(standin.sent)
    await standin.say("/审核", sender="admin1")
    sent_cards = await standin.wait_sent(before + 2)
    review = next(s for s in sent_cards[before:] if s.route == "card")
    assert standin.cards[review.out_track_id].data["kind"] == "review"
    push = await standin.click(
        review.out_track_id, "admin1", {"action": "approve", "id": str(story_id)}
    )
    assert push.latency is not None and push.latency < 2.0
    assert StandIn.response_of(push)["cardData"]["cardParamMap"]["status"] == "已通过"

    # The story card is posted into the group; the author is told one to one.
    story_card = (
        await standin.wait_sent(
            where=lambda s: s.route == "card" and s.param.get("kind") == "story"
        )
    )[0]
    card = standin.cards[story_card.out_track_id]
    assert card.space_id == f"dtv1.card//IM_GROUP.{GROUP}"
    assert card.data["title"] == "我的第一天" and card.data["likes"] == "0"
    told = await standin.wait_sent(where=lambda s: s.route == "o2o" and "已通过审核" in s.text)
    assert told[0].user_ids == ["alice"]

    # A like by card click: counted, the card and the clicker's own view updated at once.
    push = await standin.click(card.out_track_id, "bob", {"action": "like", "id": str(story_id)})
    assert push.latency is not None and push.latency < 2.0
    response = StandIn.response_of(push)
    assert response["cardData"]["cardParamMap"]["likes"] == "1"
    assert response["userPrivateData"]["cardParamMap"]["liked"] == "已赞"
    assert card.data["likes"] == "1" and card.private["bob"]["liked"] == "已赞"

    # A like by command updates the delivered card through the card update API.
    sent = await say(standin, f"/赞 {story_id}", sender="carol")
    assert "现有 2 个赞" in sent.text
    await standin.wait_sent(
        where=lambda s: s.route == "card_update" and s.param.get("likes") == "2"
    )
    assert card.data["likes"] == "2"

    # Clicking again takes the like back.
    push = await standin.click(card.out_track_id, "bob", {"action": "like", "id": str(story_id)})
    assert StandIn.response_of(push)["cardData"]["cardParamMap"]["likes"] == "1"
    assert card.private["bob"]["liked"] == ""
    async with app.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Like)) == 1


async def test_reject_with_reason_reaches_the_author_and_nothing_else_happens(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start(start_bot)
    sent = await say(standin, "/story Not really a story | just testing", sender="alice")
    story_id = int(sent.text.split("#")[1].split(" ")[0])
    replies = await reply_texts(
        standin, f"/reject {story_id} please tell us what happened", 2, sender="admin1"
    )
    assert any("Rejected story" in s.text for s in replies)
    told = await standin.wait_sent(where=lambda s: s.route == "o2o")
    assert told[0].user_ids == ["alice"] and "please tell us what happened" in told[0].text
    assert not [s for s in standin.sent if s.route == "card"]  # no story card
    sent = await say(standin, f"/like {story_id}", sender="bob")
    assert "has not been approved" in sent.text or "no story" in sent.text
    sent = await say(standin, f"/approve {story_id}", sender="admin1")
    assert "already decided" in sent.text and "rejected" in sent.text


async def test_bad_input_gets_the_right_reply_and_changes_nothing(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot, stories={"review_default": False})
    checks = [
        ("/故事 " + "长" * 41 + " | 正文", "最多 40 个字符，现在是 41 个"),
        ("/故事 标题 | " + "字" * 2001, "最多 2000 个字符，现在是 2001 个"),
        ("/故事 只有标题", "缺少「正文」"),
        ("/故事  | 只有正文", "缺少「标题」"),
        ("/故事 🎉🎉 | 🎊🎊🎊", "需要包含文字"),
        ("/赞 12345", "没有编号为 12345 的故事"),
        ("/赞 abc", "应为整数"),
        ("/like", "Missing story id"),
    ]
    for text, needle in checks:
        sent = await say(standin, text, sender="alice")
        assert needle in sent.text, (text, sent.text)
    async with app.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Story)) == 0

    # With review off the story goes straight to the group.
    replies = await reply_texts(standin, "/故事 搬家 | 大家来帮忙", 2, sender="alice")
    story_id = int(replies[0].text.split("#")[1].split(" ")[0])
    assert replies[1].route == "card"
    sent = await say(standin, f"/赞 {story_id}", sender="alice")
    assert "不能给自己的故事点赞" in sent.text
    await say(standin, f"/赞 {story_id}", sender="bob")
    sent = await say(standin, f"/赞 {story_id}", sender="bob")
    assert "已经赞过" in sent.text
    sent = await say(standin, f"/取消赞 {story_id}", sender="carol")
    assert "还没有赞过" in sent.text
    # An id from another group is unknown here.
    sent = await say(standin, f"/赞 {story_id}", sender="bob", conversation="cid-other-group")
    assert f"没有编号为 {story_id} 的故事" in sent.text
    async with app.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Like)) == 1


async def test_member_text_is_shown_as_text(standin: StandIn, start_bot: BotFactory) -> None:
    await start(start_bot, cards={}, stories={"review_default": False})
    replies = await reply_texts(
        standin,
        "/story [win](http://evil.example) @all | **bold** <b>x</b> @bob hello",
        2,
        sender="alice",
    )
    story = replies[1]
    assert story.route == "webhook" and story.msg_key == "sampleMarkdown"  # markdown fallback
    text = story.text
    assert (
        "](http" not in text and "http://" not in text and "@all" not in text and "@bob" not in text
    )
    assert "\\*\\*bold\\*\\*" in text and "Send /like 1" in text


async def test_two_admins_pressing_at_once_make_one_decision(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start(start_bot, admins={"staff_ids": ["admin1", "admin2"]})
    sent = await say(standin, "/故事 同时审核 | 两位管理员一起点", sender="alice")
    story_id = int(sent.text.split("#")[1].split("「")[0])
    before = len(standin.sent)
    await standin.say("/审核", sender="admin1")
    await standin.wait_sent(before + 2)
    review = next(s for s in standin.sent[before:] if s.route == "card")
    pushes = await asyncio.gather(
        standin.click(review.out_track_id, "admin1", {"action": "approve", "id": str(story_id)}),
        standin.click(review.out_track_id, "admin2", {"action": "reject", "id": str(story_id)}),
    )
    messages = [
        StandIn.response_of(p)["userPrivateData"]["cardParamMap"]["message"] for p in pushes
    ]
    assert sum("已经处理过了" in m for m in messages) == 1
    await standin.wait_sent(where=lambda s: s.route == "o2o")
    await say(standin, "/nosuch-marker", sender="admin1")  # anything queued before is out now
    assert len([s for s in standin.sent if s.route == "o2o"]) == 1


async def test_a_member_cannot_forge_an_approve_click(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start(start_bot)
    sent = await say(standin, "/故事 伪造 | 有人想自己批准", sender="alice")
    story_id = int(sent.text.split("#")[1].split("「")[0])
    before = len(standin.sent)
    await standin.say("/审核", sender="admin1")
    await standin.wait_sent(before + 2)
    review = next(s for s in standin.sent[before:] if s.route == "card")
    push = await standin.click(
        review.out_track_id, "alice", {"action": "approve", "id": str(story_id)}
    )
    assert "只有管理员" in StandIn.response_of(push)["userPrivateData"]["cardParamMap"]["message"]
    sent = await say(standin, "/审核", sender="admin1")
    assert "1" in sent.text  # still pending


async def test_a_burst_of_fresh_accounts_is_found_and_does_not_count(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock()
    app = await start(
        start_bot,
        clock=clock,
        stories={"review_default": False},
        admins={"staff_ids": ["admin1"]},
    )
    # Established members: they spoke long before (first seen is set by their first message).
    story_id, track = 0, ""
    replies = await reply_texts(standin, "/故事 真实故事 | 邻居帮我修好了自行车", 2, sender="alice")
    story_id = int(replies[0].text.split("#")[1].split(" ")[0])
    track = replies[1].out_track_id
    organic = await reply_texts(standin, "/故事 另一个故事 | 大家一起过了中秋", 2, sender="dave")
    other_id = int(organic[0].text.split("#")[1].split(" ")[0])
    # Days later (the group is no longer new to the bot), ten accounts nobody has seen
    # before click like within seconds.
    clock.advance(timedelta(days=3))
    for i in range(10):
        await standin.click(track, f"sock{i}", {"action": "like", "id": str(story_id)})
    # Two real members like the other story.
    await say(standin, f"/赞 {other_id}", sender="bob")
    await say(standin, f"/赞 {other_id}", sender="carol")

    sent = await say(standin, "/异常点赞", sender="admin1")
    assert f"故事 #{story_id}「真实故事」：10 个赞在" in sent.text
    assert "其中 10 个来自 24 小时内首次出现的成员" in sent.text
    sent = await say(standin, "/故事榜 all", sender="bob")
    lines = sent.text.splitlines()
    assert f"#{other_id}" in lines[1] and "真实 2 赞" in lines[1]  # genuine likes rank first
    assert f"#{story_id}" in lines[2] and "真实 1 赞（共 10）" in lines[2]
    sent = await say(standin, f"/点赞明细 {story_id}", sender="admin1")
    assert sent.text.count("0.10") == 10 and "短时间集中点赞" in sent.text
    async with app.db.transaction() as session:
        story = await session.get(Story, story_id)
        assert story is not None and story.likes == 10 and abs(story.genuine_likes - 1.0) < 1e-9


async def test_rescoring_job_recognises_a_burst_after_the_likes(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot, stories={"review_default": False})
    replies = await reply_texts(standin, "/故事 刷赞 | 这个故事会被刷", 2, sender="alice")
    story_id = int(replies[0].text.split("#")[1].split(" ")[0])
    for i in range(9):
        await standin.click(
            replies[1].out_track_id, f"bot{i}", {"action": "like", "id": str(story_id)}
        )
    async with app.db.transaction() as session:
        story = await session.get(Story, story_id)
        assert story is not None and story.genuine_likes == 9  # not yet rescored
    assert standin.cards[replies[1].out_track_id].data["genuine_likes"] == "9"
    assert await app.jobs.run_job("likes-rescore")
    async with app.db.transaction() as session:
        story = await session.get(Story, story_id)
        assert story is not None and abs(story.genuine_likes - 0.9) < 1e-9
        weights = (await session.execute(select(Like.weight, Like.reasons))).all()
    assert all(w == 0.1 and "burst" in r for w, r in weights)
    # The rescoring overturned the count: the delivered card shows it without a new like.
    await standin.wait_sent(
        where=lambda s: s.route == "card_update" and s.param.get("genuine_likes") == "0.9"
    )
    card = standin.cards[replies[1].out_track_id]
    assert card.data["genuine_likes"] == "0.9" and card.data["likes"] == "9"


async def test_a_groups_first_day_is_not_a_burst_of_fresh_accounts(
    standin: StandIn, start_bot: BotFactory
) -> None:
    """Members already in the group speak for the first time after the bot joins: nine of
    them liking quickly on the group's first day count fully (issue 18)."""
    app = await start(
        start_bot, stories={"review_default": False}, admins={"staff_ids": ["admin1"]}
    )
    replies = await reply_texts(standin, "/故事 搬家 | 同事们帮我搬了家", 2, sender="alice")
    story_id = int(replies[0].text.split("#")[1].split(" ")[0])
    for i in range(9):
        # Each says something first (not only likes), as people in a group do.
        await say(standin, "/帮助", sender=f"colleague{i}")
        await say(standin, f"/赞 {story_id}", sender=f"colleague{i}")
    sent = await say(standin, f"/点赞明细 {story_id}", sender="admin1")
    assert "共 9 个，真实 9" in sent.text and "0.10" not in sent.text
    sent = await say(standin, "/异常点赞", sender="admin1")
    assert sent.text == "没有发现异常点赞。"
    async with app.db.transaction() as session:
        story = await session.get(Story, story_id)
        assert story is not None and story.likes == 9 and abs(story.genuine_likes - 9) < 1e-9


async def test_admin_commands_of_stories_are_refused_to_members(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start(start_bot)
    for command in ("/审核", "/通过 1", "/驳回 1", "/likes 1", "/异常点赞", "/审核 关"):
        sent = await say(standin, command, sender="mallory")
        assert "只有管理员" in sent.text or "admins only" in sent.text, command


async def test_likes_on_pending_and_deleted_stories_are_refused(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot)
    sent = await say(standin, "/故事 等待审核 | 还没通过", sender="alice")
    pending_id = int(sent.text.split("#")[1].split("「")[0])
    sent = await say(standin, f"/赞 {pending_id}", sender="bob")
    assert "还没有通过审核" in sent.text

    story_id, track = await submit_and_approve(standin, title="会被删除", author="dave")
    # The story is deleted (as /forget does for its author's stories).
    async with app.db.transaction() as session:
        story = await session.get(Story, story_id)
        assert story is not None
        story.status = "deleted"
    sent = await say(standin, f"/赞 {story_id}", sender="bob")
    assert f"没有编号为 {story_id} 的故事" in sent.text
    push = await standin.click(track, "bob", {"action": "like", "id": str(story_id)})
    assert (
        f"没有编号为 {story_id} 的故事"
        in StandIn.response_of(push)["userPrivateData"]["cardParamMap"]["message"]
    )
    async with app.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Like)) == 0


async def test_admins_see_admin_commands_in_help(standin: StandIn, start_bot: BotFactory) -> None:
    await start(start_bot)
    member = await say(standin, "/帮助", sender="bob")
    admin = await say(standin, "/帮助", sender="admin1")
    assert "/故事 <标题> | <正文>" in member.text and "/审核" not in member.text
    assert "管理员命令" in admin.text and "/审核" in admin.text and "/异常点赞" in admin.text


async def test_a_story_not_published_is_named_with_its_state_not_as_unknown(
    standin: StandIn, start_bot: BotFactory
) -> None:
    """Its author reads their pending story in full; a like on a withdrawn story says it
    was withdrawn (both answered "本群没有编号为 N 的故事", found trying it as a new user)."""
    await start_bot(cards=CARDS, admins={"staff_ids": ["admin1"]})
    sent = await say(standin, "/故事 待审的 | 还在审核中的故事", sender="alice")
    pending_id = int(sent.text.split("#")[1].split("「")[0])
    sent = await say(standin, f"/故事 全文 {pending_id}", sender="alice")
    assert "还在审核中的故事" in sent.text, sent.text
    sent = await say(standin, f"/故事 全文 {pending_id}", sender="bob")
    assert "没有编号为" in sent.text  # not bob's to read before it is published
    story_id, _ = await submit_and_approve(standin, "会撤回的")
    await say(standin, f"/故事 撤回 {story_id}", sender="alice")
    sent = await say(standin, f"/赞 {story_id}", sender="bob")
    assert f"故事 #{story_id} 现在是「已撤回」，不能点赞" in sent.text, sent.text
