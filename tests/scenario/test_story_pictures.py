"""Issue 18: a story sent with a picture keeps it: downloaded through the robot's
message-file download API, stored within a size limit, shown on the card and in the
markdown, listed by /我的数据 and erased by /删除我的数据.

Sources: robot_1_0 ``RobotMessageFileDownloadRequest`` (downloadCode + robotCode →
downloadUrl, a temporary link); developerpedia docs/learn/bot/message.md (text with a
picture comes as ``richText``, each picture with its ``downloadCode``); 上传媒体文件 (jpg, gif,
png, bmp → media_id).
"""

from __future__ import annotations

import gc
import os
from typing import Any

from sqlalchemy import func, select

from bench.probe import LoopProbe
from bot.app import Application
from bot.cli import settle_heap
from bot.sandbox.standin import BOT_TOPIC, Sent, StandIn
from domain.likes_chart import PNG_MAGIC
from storage.models import Story, StoryPicture
from tests.conftest import BotFactory
from tests.contract import documented
from tests.scenario.test_admin_privacy import mydata
from tests.scenario.test_stories import GROUP, say, start

LOOP_LIMIT = 0.020  # seconds: "never block the event loop for more than 20 ms" (TEAM.md)
PNG = PNG_MAGIC + b"\0\0\0\rIHDR" + bytes(range(256)) * 8  # about 2 KB, a PNG by its magic


async def tell_story(standin: StandIn, text: str, *pictures: dict[str, Any], **kw: Any) -> Sent:
    """A story as ``@bot /故事 …`` with pictures after the text (``richText``)."""
    rich = [{"text": "@社区助手"}, {"text": text}, *pictures]
    return await say(standin, None, msgtype="richText", rich_text=rich, **kw)


async def fetch(app: Application) -> None:
    """Run the picture fetcher now (the bot's own loop may have run first: either way)."""
    await app.pictures.run_once()


async def stored(app: Application) -> list[StoryPicture]:
    async with app.db.transaction() as session:
        rows = await session.execute(select(StoryPicture).order_by(StoryPicture.id))
        return list(rows.scalars())


async def test_a_story_picture_is_downloaded_stored_shown_and_erased(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot, stories={"review_default": False})
    sent = await tell_story(standin, "/故事 搬家 | 同事们帮我搬了家", standin.add_picture(PNG))
    assert "已发布" in sent.text and "1 张图片" in sent.text
    story_id = int(sent.text.split("#")[1].split(" ")[0])
    await fetch(app)
    # The card waited for its picture: posted once, with the media id DingTalk gave it.
    [card] = await standin.wait_sent(where=lambda s: s.route == "card")
    media_id = standin.cards[card.out_track_id].data["picture"]
    data, content_type, _ = standin.media[media_id]
    assert data == PNG and content_type == "image/png"
    [row] = await stored(app)
    assert (row.status, row.size, row.data, row.media_id) == ("stored", len(PNG), PNG, media_id)
    assert row.download_code == ""  # the short-lived code is not kept
    [asked] = [b for p, b in standin.requests if p == "/v1.0/robot/messageFiles/download"]
    assert asked["robotCode"] == standin.client_id
    assert documented.check(asked, documented.MESSAGE_FILE_DOWNLOAD) == []

    report = await mydata(standin, "alice")
    assert "故事图片：1 条" in report and f"故事 #{story_id} 的图片（2 KB）" in report

    await say(standin, "/删除我的数据", sender="alice")
    sent = await say(standin, "/删除我的数据 确认", sender="alice")
    assert "故事图片 1 条" in sent.text
    assert await stored(app) == []


async def test_the_markdown_fallback_shows_the_picture(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot, cards={}, stories={"review_default": True})
    sent = await tell_story(standin, "/故事 看海 | 海边的一天", standin.add_picture(PNG))
    assert "审核" in sent.text and "1 张图片" in sent.text
    story_id = int(sent.text.split("#")[1].split("「")[0])
    await fetch(app)
    [row] = await stored(app)
    assert row.status == "stored"
    await say(standin, f"/通过 {story_id}", sender="admin1")
    [post] = await standin.wait_sent(
        where=lambda s: s.msg_key == "sampleMarkdown" and "看海" in s.text
    )
    assert f"![图片]({row.media_id})" in post.param["text"]


async def test_a_picture_that_cannot_be_kept_leaves_the_story_text_and_tells_the_member(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot, stories={"review_default": False, "picture_max_kb": 1})
    expired = standin.add_picture(PNG[:500], ttl=0)  # DingTalk's code has run out
    too_big = standin.add_picture(PNG)  # 2 KB over a 1 KB limit
    not_image = standin.add_picture(b"%PDF-1.7 not a picture", "image/png")
    sent = await tell_story(standin, "/故事 三张 | 文字还在", expired, too_big, not_image)
    story_id = int(sent.text.split("#")[1].split(" ")[0])
    await fetch(app)
    told = await standin.wait_sent(3, where=lambda s: s.route == "o2o" and "没能保存" in s.text)
    assert all(s.user_ids == ["alice"] and f"#{story_id}" in s.text for s in told)
    reasons = " ".join(s.text for s in told)
    assert "下载码已失效" in reasons and "超过 1 KB" in reasons and "不是 JPG" in reasons
    assert all("故事的文字已保留" in s.text for s in told)
    # The story is there once, with its text, and its card goes out without a picture.
    [card] = await standin.wait_sent(where=lambda s: s.route == "card")
    assert standin.cards[card.out_track_id].data["picture"] == ""
    assert [r.status for r in await stored(app)] == ["failed"] * 3
    assert ("/v1.0/robot/messageFiles/download", "param.invalid") in standin.rejected
    async with app.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Story)) == 1
        story = await session.get(Story, story_id)
        assert story is not None and story.body == "文字还在"
        assert story.conversation_id == GROUP


async def test_the_download_api_refuses_what_dingtalk_refuses(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot)
    api = app.api
    fragment = standin.add_picture(PNG)
    url = await api.message_file_url(fragment["downloadCode"])
    assert await api.fetch_file(url, 10_000) == PNG
    for code in ("unknown-code", standin.add_picture(PNG, ttl=0)["downloadCode"]):
        try:
            await api.message_file_url(code)
        except Exception as exc:
            assert getattr(exc, "code", "") == "param.invalid"
        else:
            raise AssertionError("an unknown or expired downloadCode was accepted")
    try:
        await api.fetch_file(url, 100)
    except Exception as exc:
        assert getattr(exc, "code", "") == "too-large"
    else:
        raise AssertionError("a file over the limit was read whole")


async def test_a_picture_sent_alone_joins_the_story_just_told(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot, stories={"review_default": False})
    before = len(standin.sent)
    await standin.say("/故事 晚霞 | 今天的晚霞", sender="alice")
    await standin.wait_sent(before + 2)
    [card] = [s for s in standin.sent[before:] if s.route == "card"]
    story_id = int(standin.cards[card.out_track_id].data["id"])
    # DingTalk sends a picture alone as a ``picture`` message, here one to one.
    alone = standin.picture_message(
        standin.add_picture(PNG), sender="alice", conversation="cid-alice", conversation_type="1"
    )
    push = await standin.push(BOT_TOPIC, alone)
    [reply] = await standin.wait_sent(where=lambda s: s.in_reply_to == push.data["msgId"])
    assert f"已把 1 张图片加到故事 #{story_id}「晚霞」" in reply.text
    await fetch(app)
    await standin.wait_sent(where=lambda s: s.route == "card_update")
    media_id = standin.cards[card.out_track_id].data["picture"]
    assert standin.media[media_id][0] == PNG
    [row] = await stored(app)
    assert (row.story_id, row.conversation_id, row.status) == (story_id, GROUP, "stored")

    # Without a story of the last minutes, the picture is not kept, and the member is told.
    stray = standin.picture_message(
        standin.add_picture(PNG), sender="bob", conversation="cid-bob", conversation_type="1"
    )
    push = await standin.push(BOT_TOPIC, stray)
    [reply] = await standin.wait_sent(where=lambda s: s.in_reply_to == push.data["msgId"])
    assert "没有找到你最近 10 分钟内发的故事" in reply.text
    assert len(await stored(app)) == 1


async def test_storing_a_picture_at_the_limit_never_holds_the_loop(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot, stories={"review_default": False})
    limit = app.settings.stories.picture_max_kb * 1024
    big = PNG_MAGIC + os.urandom(limit - len(PNG_MAGIC))  # exactly at the limit
    await tell_story(standin, "/故事 大图 | 一张大图", standin.add_picture(big))
    settle_heap()  # as ``community-bot run`` does after start-up (see test_loop_stall)
    try:
        async with LoopProbe(period=0) as probe:
            await fetch(app)
            await standin.wait_sent(where=lambda s: s.route == "card")
    finally:
        gc.unfreeze()
    [row] = await stored(app)
    assert row.status == "stored" and row.size == limit
    assert probe.longest_cpu < LOOP_LIMIT, (
        f"the loop ran {probe.longest_cpu * 1000:.1f} ms of CPU without a break"
    )
