"""Issue 18: /点赞明细 also sends a chart, a real PNG uploaded by the media upload API and
sent by its media id (sampleImageMsg), and the stand-in refuses uploads as DingTalk does."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from bot.errors import DeliveryFailed
from bot.openapi import OpenAPI
from bot.sandbox.standin import MEDIA_MAX, StandIn
from domain.likes_chart import PNG_MAGIC
from tests.conftest import BotFactory, bot_settings
from tests.scenario.test_stories import GROUP, reply_texts, say, start


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


async def test_likes_audit_sends_the_likes_chart_as_a_picture(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start(start_bot, stories={"review_default": False})
    replies = await reply_texts(standin, "/故事 刷赞 | 这个故事会被刷", 2, sender="alice")
    story_id = int(replies[0].text.split("#")[1].split(" ")[0])
    await say(standin, f"/赞 {story_id}", sender="bob")
    for i in range(9):
        await standin.click(
            replies[1].out_track_id, f"bot{i}", {"action": "like", "id": str(story_id)}
        )
    sent = await say(standin, f"/点赞明细 {story_id}", sender="admin1")
    assert sent.text.startswith(f"故事 #{story_id} 的点赞：共 10 个")
    [image] = await standin.wait_sent(where=lambda s: s.msg_key == "sampleImageMsg")
    assert image.route == "group" and image.conversation_id == GROUP
    data, content_type, filename = standin.media[image.param["photoURL"]]
    assert content_type == "image/png" and filename.endswith(".png")
    assert png_size(data) == (800, 400) and 5_000 < len(data) < MEDIA_MAX
    [upload] = [body for path, body in standin.requests if path == "/media/upload"]
    assert upload["type"] == "image" and upload["size"] == len(data)


async def test_the_media_upload_refuses_what_dingtalk_refuses(
    standin: StandIn, tmp_path: Path
) -> None:
    api = OpenAPI(bot_settings(standin, tmp_path))
    try:
        media_id = await api.media_upload(PNG_MAGIC + b"\0" * 64, "a.png", "image/png")
        assert media_id in standin.media
        with pytest.raises(DeliveryFailed) as refused:
            await api.media_upload(b"%PDF-1.7 not a picture", "a.pdf", "application/pdf")
        assert refused.value.code == "40005"
        with pytest.raises(DeliveryFailed) as refused:
            await api.media_upload(PNG_MAGIC + b"\0" * MEDIA_MAX, "big.png", "image/png")
        assert refused.value.code == "40006"
        # A token the platform no longer knows is fetched anew, once.
        standin.expire_tokens()
        assert await api.media_upload(PNG_MAGIC + b"\0", "b.png", "image/png") in standin.media
    finally:
        await api.aclose()
