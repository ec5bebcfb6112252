"""Hostile input through the real path: every one gets a clear answer, nothing breaks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select, text

from bot.sandbox.standin import BOT_TOPIC, StandIn
from storage.models import InboxEvent, Like, OutboxMessage, Story
from tests.conftest import BotFactory
from tests.scenario.test_stories import CARDS, reply_texts, say

# (what the member sends, something the answer must contain)
HOSTILE_MESSAGES: list[tuple[str, str]] = [
    ("/故事 " + "字" * 100_000, "消息太长了"),
    ("/" + "a" * 5000, "no command '/aaaaaaaa"),
    ("/赞 1; DROP TABLE stories;--", "用法：/赞 <故事编号>"),
    ("/赞 ' OR 1=1 --", "用法：/赞 <故事编号>"),
    ("/赞 99999999999999999999", "应在 1 到 9223372036854775807 之间"),
    ("/赞 -1", "应不小于 1"),
    ("/赞 🎉", "应为整数"),
    ("/赞 1.5", "应为整数"),
    ("😀😀😀", "发送 /帮助"),
    ("\u202e/帮助", "我能做这些"),  # a right-to-left override before the slash is dropped
    ("   ", "发送 /帮助"),
    ("／故事　全角标题｜全角正文", "已发布"),  # full-width slash, ideographic space and bar
    ("/故事 \x00\x07控制\x1b[31m字符 | 正文\x08在这", "已发布"),
    ("/故事 Robert'); DROP TABLE stories;-- | {name} {0} %s", "已发布"),
    ("/故事 [点我](http://evil.example) @all | 正文 @所有人 <script>alert(1)</script>", "已发布"),
    ("/故事 \u202eevil\u202c | \u2066隔离\u2069", "已发布"),
    ("/故事 🎉 | 🎊", "需要包含文字"),
    ("/模块 stories 开", "只有管理员"),
    ("/帮助 " + "x" * 100, "最多 40 个字符"),
]


@pytest.fixture
async def bot(standin: StandIn, start_bot: BotFactory) -> Any:
    return await start_bot(cards=CARDS, stories={"review_default": False})


async def test_hostile_messages_get_clear_answers_and_change_nothing_wrong(
    standin: StandIn, bot: Any
) -> None:
    for message, needle in HOSTILE_MESSAGES:
        sent = await say(standin, message, sender="mallory")
        assert needle in sent.text, (message[:60], sent.text[:200])
        assert "Traceback" not in sent.text and "Error" not in sent.text
        assert len(sent.text) < 3000
    async with bot.db.transaction() as session:
        stories = (await session.execute(select(Story.title, Story.body))).all()
        assert len(stories) == 5
        for title, body in stories:
            for field in (title, body):
                assert not any(ch in field for ch in "\x00\x07\x1b\x08\u202e\u202c\u2066\u2069")
        assert ("Robert'); DROP TABLE stories;--", "{name} {0} %s") in stories
        if bot.db.is_sqlite:  # PostgreSQL has no file-level check to ask for
            integrity = (await session.execute(text("PRAGMA integrity_check"))).scalar()
            assert integrity == "ok"


async def test_smuggled_markup_is_inert_in_cards_and_markdown(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot(cards={}, stories={"review_default": False})
    replies = await reply_texts(
        standin,
        "/故事 [点我](http://evil.example) @all | 正文 @所有人 **粗** ＠张三",
        2,
        sender="mallory",
    )
    markdown = replies[1].text
    for bad in ("[点我](", "http://", "@all", "@所有人", "**粗**", "＠张三"):
        assert bad not in markdown, bad


async def test_non_text_messages_and_empty_text(standin: StandIn, bot: Any) -> None:
    for kind, word in (("picture", "图片"), ("file", "文件"), ("audio", "语音"), ("video", "视频")):
        sent = await say(standin, None, msgtype=kind, sender="mallory")
        assert word in sent.text and "文字" in sent.text
    data = standin.message("x")
    data.pop("text")  # a message over the robot's quota can come without its text
    before = len(standin.sent)
    await standin.push(BOT_TOPIC, data)
    [sent] = await standin.wait_sent(where=lambda s: standin.sent.index(s) >= before)
    assert "文字" in sent.text


async def test_malformed_pushes_are_acked_and_harmless(standin: StandIn, bot: Any) -> None:
    # Not a robot message at all, and one with wrong types: acked, recorded, nothing sent.
    for data in ({"hello": "world"}, {"msgId": 12, "conversationId": ["x"], "text": "no"}):
        push = await standin.push(BOT_TOPIC, data)
        assert push.ack is not None and push.ack["code"] == 200
    await say(standin, "/帮助", sender="alice")  # the bot is alive and answering
    async with bot.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(InboxEvent)) == 3


@pytest.mark.parametrize(
    "params",
    [
        {"action": "like", "id": {"$gt": 1}},
        {"action": 5, "id": "1"},
        {"action": "like", "id": "1e9999"},
        {"action": "like", "id": "-1"},
        {"action": ["like"], "id": ["1"]},
        {"action": "like", "id": "1" * 400},
        {"action": "approve", "id": "1"},
        {"action": "like", "id": True},
    ],
)
async def test_wrong_types_in_card_params_are_refused(
    standin: StandIn, bot: Any, params: dict[str, Any]
) -> None:
    replies = await reply_texts(standin, "/故事 卡片 | 被乱点", 2, sender="alice")
    track = replies[1].out_track_id
    push = await standin.click(track, "mallory", params)
    assert push.latency is not None and push.latency < 2.0
    message = StandIn.response_of(push)["userPrivateData"]["cardParamMap"]["message"]
    assert message and "Traceback" not in message
    async with bot.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Like)) == 0


async def test_a_click_for_an_entity_of_another_group_is_refused(
    standin: StandIn, bot: Any
) -> None:
    ours = await reply_texts(standin, "/故事 本群 | 本群的故事", 2, sender="alice")
    theirs = await reply_texts(
        standin, "/故事 别群 | 别群的故事", 2, sender="bob", conversation="cid-b"
    )
    their_id = theirs[0].text.split("#")[1].split(" ")[0]
    # A button on our group's card, pointed at the other group's story.
    push = await standin.click(ours[1].out_track_id, "mallory", {"action": "like", "id": their_id})
    # Refused before it reaches the story: the id is not the card's own.
    message = StandIn.response_of(push)["userPrivateData"]["cardParamMap"]["message"]
    assert message == "这张卡片已失效。", message
    async with bot.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Like)) == 0


async def test_after_all_that_nothing_is_left_half_done(standin: StandIn, bot: Any) -> None:
    for message, _ in HOSTILE_MESSAGES[:8]:
        await say(standin, message, sender="mallory")

    async def settled() -> bool:
        async with bot.db.transaction() as session:
            pending = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status != "sent")
            )
            received = await session.scalar(
                select(func.count()).select_from(InboxEvent).where(InboxEvent.status == "received")
            )
        return pending == 0 and received == 0

    for _ in range(200):
        if await settled():
            break
        await asyncio.sleep(0.02)  # polling the database for the sender to finish
    assert await settled()
