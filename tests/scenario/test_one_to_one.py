"""Commands sent one to one: which group they are about, and privacy across every group."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from bot.sandbox.standin import Sent, StandIn
from storage.models import Base, Like, Member, Signup, Story
from tests.conftest import BotFactory
from tests.scenario.test_stories import say

CHAT = "cid-chat-alice"  # alice's one-to-one chat with the robot
GROUP_A, GROUP_B = "cid-group-a", "cid-group-b"


async def dm(standin: StandIn, text: str, sender: str = "alice") -> Sent:
    return await say(
        standin, text, sender=sender, conversation=f"cid-chat-{sender}", conversation_type="1"
    )


async def in_group(standin: StandIn, text: str, group: str, sender: str = "alice") -> Sent:
    title = {GROUP_A: "读书会", GROUP_B: "志愿者协会"}[group]
    return await say(standin, text, sender=sender, conversation=group, title=title)


def number_in(text: str) -> int:
    """The first #number in a reply."""
    return int(re.search(r"#(\d+)", text).group(1))  # type: ignore[union-attr]


def section(text: str, group: str) -> str:
    """The part of a per-group report about one group (up to the next group's heading)."""
    return text.split(f"「{group}」：")[1].split("」：")[0]


async def test_a_group_command_one_to_one_asks_which_group_or_uses_the_one_it_can_tell(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot(stories={"review_default": False})
    # Nobody has seen alice in a group yet: the command is explained, not run in the chat.
    sent = await dm(standin, "/故事 私聊里 | 发一个故事")
    assert "要在群里用" in sent.text and "群:群名" in sent.text, sent.text
    async with app.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Story)) == 0

    # One group known: it is used, and the answer says which.
    await in_group(standin, "/帮助", GROUP_A)
    sent = await dm(standin, "/故事 私聊里 | 发一个故事")
    assert sent.text.startswith("【读书会】") and "#" in sent.text, sent.text
    story_id = number_in(sent.text)  # PostgreSQL may skip numbers after a retried batch
    async with app.db.transaction() as session:
        story = await session.get(Story, story_id)
        assert story is not None and story.conversation_id == GROUP_A
    # The published story is a post for the group: it goes there, not back to the chat.
    await standin.wait_sent(
        where=lambda s: s.route == "group" and s.conversation_id == GROUP_A and "私聊里" in s.text
    )

    # Two groups: asked which, with the groups and the form.
    created = await in_group(
        standin, "/活动 新建 植树 | 2030-03-12 09:00 | 3 | 公园 | 5", GROUP_B, "admin1"
    )
    event_id = number_in(created.text)
    await in_group(standin, "/帮助", GROUP_B)
    sent = await dm(standin, "/活动")
    assert "2 个群" in sent.text and "「读书会」" in sent.text and "「志愿者协会」" in sent.text
    assert "群:" in sent.text, sent.text
    # Named with 群:<name> (any unambiguous part), or told the name fits none.
    sent = await dm(standin, "/活动 群:志愿者")
    assert sent.text.startswith("【志愿者协会】") and "植树" in sent.text, sent.text
    sent = await dm(standin, "/活动 群：不存在")
    assert "没有叫「不存在」的" in sent.text and "「读书会」" in sent.text, sent.text
    # A number names its group by itself.
    sent = await dm(standin, f"/报名 {event_id}")
    assert sent.text.startswith("【志愿者协会】") and "报名成功" in sent.text, sent.text
    sent = await dm(standin, f"/赞 {story_id}", sender="bob")  # bob is in no group: explained
    assert "要在群里用" in sent.text, sent.text
    await in_group(standin, "/帮助", GROUP_A, "bob")
    sent = await dm(standin, f"/赞 {story_id}", sender="bob")
    assert sent.text.startswith("【读书会】") and "1 个赞" in sent.text, sent.text
    async with app.db.transaction() as session:
        signup = (await session.execute(select(Signup))).scalar_one()
        assert (signup.conversation_id, signup.staff_id) == (GROUP_B, "alice")
        like = (await session.execute(select(Like))).scalar_one()
        assert like.conversation_id == GROUP_A


async def test_mydata_and_forget_one_to_one_cover_every_group_and_say_so(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot(stories={"review_default": False})
    await in_group(standin, "/故事 读书 | 一本好书", GROUP_A)
    await in_group(standin, "/故事 植树 | 一起种树", GROUP_B)
    bobs = await in_group(standin, "/故事 鲍勃 | 鲍勃的", GROUP_A, "bob")
    await in_group(standin, f"/赞 {number_in(bobs.text)}", GROUP_A)

    report = (await dm(standin, "/我的数据")).text
    assert "2 个群" in report and "「读书会」：" in report and "「志愿者协会」：" in report
    assert "「这个私聊」：" in report
    a, b = section(report, "读书会"), section(report, "志愿者协会")
    assert "故事：1 条" in a and "点过的赞：1 条" in a
    assert "故事：1 条" in b and "点过的赞：0 条" in b

    sent = await dm(standin, "/删除我的数据")
    assert (
        "全部 2 个群" in sent.text and "「读书会」" in sent.text and "「志愿者协会」" in sent.text
    )
    sent = await dm(standin, "/删除我的数据 确认")
    assert "全部 2 个群和这个私聊" in sent.text, sent.text
    a, b = section(sent.text, "读书会"), section(sent.text, "志愿者协会")
    assert "故事 1 条" in a and "点过的赞 1 条" in a, sent.text
    assert "故事 1 条" in b, sent.text
    async with app.db.transaction() as session:
        left = (await session.execute(select(Story.author_staff_id))).scalars().all()
        assert left == ["bob"]
        assert await session.scalar(select(func.count()).select_from(Like)) == 0
        assert (
            await session.scalar(
                select(func.count()).select_from(Member).where(Member.staff_id == "alice")
            )
            == 0
        )
    report = (await dm(standin, "/我的数据")).text
    assert "故事：1 条" not in report, report


async def test_forget_one_to_one_leaves_no_row_holding_the_member_in_any_group(
    standin: StandIn, start_bot: BotFactory, tmp_path: Path
) -> None:
    who, nick, words = "stf5531qx", "Plumquiver", "Zebrafernish"
    app = await start_bot(stories={"review_default": False})
    for group, title in ((GROUP_A, "读书会"), (GROUP_B, "志愿者协会")):
        await say(
            standin,
            f"/故事 {words} | {words}",
            sender=who,
            nick=nick,
            conversation=group,
            title=title,
        )
        await say(standin, f"/我会 {words}", sender=who, nick=nick, conversation=group, title=title)
    await say(
        standin,
        "/我的数据",
        sender=who,
        nick=nick,
        conversation="cid-chat-x",
        conversation_type="1",
    )
    await say(
        standin,
        "/删除我的数据",
        sender=who,
        nick=nick,
        conversation="cid-chat-x",
        conversation_type="1",
    )
    sent = await say(
        standin,
        "/删除我的数据 确认",
        sender=who,
        nick=nick,
        conversation="cid-chat-x",
        conversation_type="1",
    )
    assert "全部 2 个群和这个私聊" in sent.text, sent.text
    await app.sender.deliver_due()
    await app.sender.stop()
    async with app.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                for needle in (who, nick, words):
                    assert needle not in str(row), (table.name, row)
    for name, data in _database_files(tmp_path).items():
        for needle in (who, nick, words):
            assert needle.encode() not in data, (name, needle)


def _database_files(folder: Path) -> dict[str, bytes]:
    """The SQLite database file and its -wal / -shm companions, read while the bot runs."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name.startswith("bot.sqlite3")}


async def test_the_erase_card_in_the_chat_asks_about_every_group_not_this_group(
    standin: StandIn, start_bot: BotFactory
) -> None:
    """One to one, the erase question covers every group and the chat: its card says so
    too (it said "本群", this group, beside a text naming the groups)."""
    await start_bot(cards={"generic_template": "tpl-generic"})
    await in_group(standin, "/故事 第一个 | 读书会的故事", GROUP_A)
    before = len(standin.sent)
    sent = await dm(standin, "/删除我的数据")
    assert "全部 1 个群" in sent.text, sent.text
    [card] = await standin.wait_sent(
        where=lambda s: s.route == "card" and any(s is x for x in standin.sent[before:])
    )
    assert "全部 1 个群" in card.param["title"] and "本群" not in card.param["title"], card.param
