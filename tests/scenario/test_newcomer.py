"""What a newcomer met in the sandbox (issue 18, second shift): each reply here was wrong,
confusing or unreadable the first time a new member or a new admin typed the command."""

from __future__ import annotations

import io
from pathlib import Path

from bot.sandbox.chat import Chat
from bot.sandbox.standin import StandIn
from tests.conftest import BotFactory
from tests.scenario.test_stories import reply_texts, say, start, submit_and_approve
from tests.scenario.test_volunteers import publish
from tests.scenario.test_volunteers import start as start_volunteers


async def test_a_module_that_is_off_names_the_command_that_turns_it_on(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start(start_bot)
    await say(standin, "/模块 技能 关", sender="admin1")
    refused = await say(standin, "/我会 做饭", sender="alice")
    # Was "管理员可以发送 /模块 开启。": a command the router refuses as it stands.
    assert "/模块 技能交换 开" in refused.text, refused.text
    typed = refused.text.split("发送 ")[1].split(" 打开")[0]
    turned_on = await say(standin, typed, sender="admin1")
    assert turned_on.text == "本群已开启「技能交换」。"

    await say(standin, "/modules digest off", sender="admin1")
    refused = await say(standin, "/digest preview", sender="admin1")
    assert "/modules digest on" in refused.text, refused.text


async def test_help_about_a_command_lists_its_family(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start(start_bot)
    # A new admin asks how activities work: /活动 alone only lists them.
    admin = await say(standin, "/帮助 活动", sender="admin1")
    assert "/活动 新建 <标题>" in admin.text and "/活动 修改 <活动编号>" in admin.text, admin.text
    assert "/签到码" not in admin.text  # another first word, another family
    member = await say(standin, "/帮助 活动", sender="alice")
    assert member.text.startswith("/活动 [活动编号] — ")
    assert "新建" not in member.text  # an admin's command is not shown to a member
    story = await say(standin, "/help story", sender="alice")
    assert "/story edit <story id>" in story.text and "/story withdraw" in story.text, story.text
    assert "/story remove" not in story.text
    # Named in full, a subcommand is explained alone.
    one = await say(standin, "/帮助 活动 新建", sender="admin1")
    assert "/活动 修改" not in one.text


async def test_a_members_help_shows_examples_they_may_use(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start(start_bot)
    member = await say(standin, "/帮助", sender="alice")
    # /周报 时间 is an admin's command: the member's examples are of arguments they can type.
    assert "/周报" not in member.text and "编号写 3 或 #3" in member.text, member.text
    english = await say(standin, "/help", sender="alice")
    assert "/digest" not in english.text and "a number as 3 or #3" in english.text
    admin = await say(standin, "/帮助", sender="admin1")
    assert "/周报 时间 星期三 下午6点半" in admin.text


async def test_editing_a_published_story_says_its_state_once(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start(start_bot)
    story_id, _ = await submit_and_approve(standin)
    sent = await say(standin, f"/故事 修改 {story_id} 新标题 | 新正文", sender="alice")
    assert "已经已通过" not in sent.text and "现在是「已通过」" in sent.text, sent.text


async def test_the_check_in_code_reply_says_not_to_post_it(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_volunteers(start_bot)
    event_id, _ = await publish(standin)
    sent = await say(standin, f"/签到码 {event_id}", sender="admin1")
    # Was "（在群里公布，没来的人也能签到）", read as "it was posted in the group".
    assert "别发到群里" in sent.text, sent.text


async def test_the_sandbox_shows_a_picture_as_a_saved_file(
    standin: StandIn, start_bot: BotFactory, tmp_path: Path
) -> None:
    await start(start_bot, stories={"review_default": False})
    replies = await reply_texts(standin, "/故事 走势 | 看看点赞走势", 2, sender="alice")
    story_id = int(replies[0].text.split("#")[1].split(" ")[0])
    await say(standin, f"/赞 {story_id}", sender="bob")
    await say(standin, f"/点赞明细 {story_id}", sender="admin1")
    [image] = await standin.wait_sent(where=lambda s: s.msg_key == "sampleImageMsg")
    out = io.StringIO()
    Chat(standin, out, pictures=tmp_path / "pictures").show(image)
    shown = out.getvalue()
    # Was the raw message parameter: {"photoURL": "@lAfa…"}.
    assert "photoURL" not in shown and "@lAfa" not in shown, shown
    assert "[picture chart.png" in shown
    [saved] = (tmp_path / "pictures").iterdir()
    assert str(saved) in shown
    assert saved.read_bytes() == standin.media[image.param["photoURL"]][0]


async def test_numbers_written_as_words(standin: StandIn, start_bot: BotFactory) -> None:
    await start_volunteers(start_bot)
    # Was "「名额」应为整数，收到「十」。": people write small numbers in words.
    sent = await say(
        standin, "/活动 新建 读书会 | 2026-04-10 14:00 | 两小时 | 图书馆 | 十", sender="admin1"
    )
    assert sent.text.startswith("已发布活动 #1"), sent.text
    roster = await say(standin, "/活动 名单 第一个", sender="admin1")
    assert "报名 0/10" in roster.text, roster.text
    joined = await say(standin, "/报名 一", sender="alice")
    assert joined.text.startswith("报名成功：活动 #1"), joined.text
    left = await say(standin, "/leave one", sender="alice")
    assert "#1" in left.text and "whole number" not in left.text, left.text
    seats = await say(standin, "/活动 名额 1 一百零五", sender="admin1")
    assert "105" in seats.text, seats.text
    # What is not a number is still refused, naming the right form.
    refused = await say(standin, "/报名 一二", sender="alice")
    assert "「活动编号」应为整数，收到「一二」" in refused.text, refused.text


async def test_cancelling_twice_does_not_read_as_done_again(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_volunteers(start_bot)
    event_id, _ = await publish(standin)
    first = await say(standin, f"/活动 取消 {event_id}", sender="admin1")
    assert first.text.startswith(f"已取消活动 #{event_id}")
    # Was "活动 #1 已取消。" again: read as a second cancellation.
    again = await say(standin, f"/活动 取消 {event_id}", sender="admin1")
    assert "不能再" in again.text, again.text


async def test_posting_a_skill_in_english_speaks_to_the_poster(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start(start_bot)
    offer = await say(standin, "/offer guitar | beginners", sender="alice")
    # Was "Posted #1: you offers 'guitar'."
    assert offer.text.startswith("Posted #1: you offer 'guitar'."), offer.text
    want = await say(standin, "/want Python", sender="alice")
    assert want.text.startswith("Posted #2: you want 'Python'."), want.text
    other = await say(standin, "/want guitar", sender="bob")
    assert "Alice offers 'guitar'" in other.text, other.text
