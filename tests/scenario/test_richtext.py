"""richText messages as real clients send them, through the real SDK and the stand-in.

Sources: AstrBot PR #9389 (the HarmonyOS client sends ``@bot /命令`` as ``richText`` with the
robot's name as the first fragment; macOS/Linux send ``text``); developerpedia
docs/learn/stream/faq.md and docs/learn/bot/message.md (text with pictures is ``richText``,
each picture with ``downloadCode`` and ``pictureDownloadCode``).
"""

from __future__ import annotations

from bot.context import MessageContext
from bot.i18n import Text
from bot.router import Arg, Router
from bot.sandbox.standin import StandIn
from tests.conftest import BotFactory

pictures = Router("pictures-probe")


@pictures.command(
    "pics",
    help=Text("图片探针", "picture probe"),
    args=[Arg("rest", Text("内容", "text"), kind="rest", optional=True)],
    hidden=True,
)
async def pics(ctx: MessageContext, rest: str | None = None) -> str:
    return "pictures: " + ",".join(ctx.message.pictures) + f" text: {ctx.message.plain_text}"


async def test_the_harmonyos_shape_of_a_command_is_routed_like_text(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot()
    # [{"text": "@社区助手"}, {"text": "/帮助"}], atUsers: [the robot]
    await standin.say("/帮助", msgtype="richText")
    [reply] = await standin.wait_sent(1)
    assert "查看命令列表" in reply.text and "@社区助手" not in reply.text

    # The same, with the name and the command in one fragment, one to one (no atUsers).
    data = standin.message(
        None,
        msgtype="richText",
        rich_text=[{"text": "@社区助手 /help"}],
        conversation="cid-dm-alice",
        conversation_type="1",
    )
    data.pop("atUsers")
    await standin.push("/v1.0/im/bot/messages/get", data)
    replies = await standin.wait_sent(2)
    assert "list the commands" in replies[1].text


async def test_text_and_pictures_keep_the_download_codes_for_features(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot(routers=[pictures])
    first, second = standin.picture(), standin.picture()
    await standin.say(
        None,
        msgtype="richText",
        rich_text=[{"text": "@社区助手"}, {"text": "/pics 看"}, first, {"text": "图"}, second],
    )
    [reply] = await standin.wait_sent(1)
    # downloadCode is preferred over pictureDownloadCode.
    assert f"pictures: {first['downloadCode']},{second['downloadCode']}" in reply.text
    assert (
        "pictureDownloadCode" not in reply.text and first["pictureDownloadCode"] not in reply.text
    )
    assert "text: /pics 看\n图" in reply.text


async def test_a_mention_of_someone_else_first_is_kept_and_pictures_alone_get_a_hint(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot()
    # The official sample: the robot's name, then only a picture (faq.md): not text.
    await standin.say(None, msgtype="richText", rich_text=[{"text": "@SDK示例"}, standin.picture()])
    [hint] = await standin.wait_sent(1)
    assert "图文消息" in hint.text
    # The first mention is another member, not the robot: the text is theirs, not a command.
    data = standin.message(
        None, msgtype="richText", rich_text=[{"text": "@张三"}, {"text": " 你好"}]
    )
    data["atUsers"] = [{"dingtalkId": "$:LWCP_v1:$zhangsan"}, {"dingtalkId": "$:LWCP_v1:$robot"}]
    await standin.push("/v1.0/im/bot/messages/get", data)
    replies = await standin.wait_sent(2)
    assert "发送 /帮助" in replies[1].text
