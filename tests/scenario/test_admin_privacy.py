"""Admins, modules, bans, the audit log, privacy and group isolation, on the real path."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.router import Arg, CommandSpec
from bot.sandbox.standin import Sent, StandIn
from handlers import default_routers
from storage.admin import PrivacyRepo
from storage.models import AuditEntry, InboxEvent, Like, Member, Story
from tests.conftest import BotFactory
from tests.scenario.test_stories import CARDS, GROUP, reply_texts, say, submit_and_approve

REFUSED = ("只有管理员", "admins only")


def sample(arg: Arg) -> str:
    """A well-formed value for an argument, so the only possible refusal is the admin check."""
    return {
        "int": "1",
        "float": "1",
        "hours": "1",
        "time": "09:00",
        "datetime": "2030-01-01 10:00",
        "choice": arg.choices[0] if arg.choices else "x",
        "many": "",
    }.get(arg.kind, "x")


def command_text(spec: CommandSpec) -> str:
    sep = " | " if spec.style == "pipe" else " "
    args = sep.join(sample(a) for a in spec.args if not a.optional)
    return f"/{spec.name} {args}".strip()


def admin_specs() -> list[CommandSpec]:
    from bot.commands import CommandTable
    from bot.router import Router

    root = Router("all")
    for router in default_routers():
        root.include_router(router)
    return [route.spec for route in CommandTable(root).routes if route.spec.admin]


async def test_every_admin_command_is_refused_to_members_and_allowed_to_admins(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot(cards=CARDS, admins={"staff_ids": ["admin1"], "trust_dingtalk_admin": True})
    specs = admin_specs()
    assert len(specs) >= 10
    for spec in specs:
        text = command_text(spec)
        refused = await say(standin, text, sender="mallory")
        assert any(r in refused.text for r in REFUSED), (text, refused.text)
        flagged_but_not_trusted = await say(standin, text, sender="admin1")
        assert not any(r in flagged_but_not_trusted.text for r in REFUSED), (
            text,
            flagged_but_not_trusted.text,
        )
        trusted_flag = await say(standin, text, sender="owner", is_admin=True)
        assert not any(r in trusted_flag.text for r in REFUSED), (text, trusted_flag.text)


async def test_the_dingtalk_admin_flag_counts_only_where_trusted(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot(cards=CARDS)
    sent = await say(standin, "/审计", sender="owner", is_admin=True)
    assert "只有管理员" in sent.text


async def test_admin_actions_are_audited(standin: StandIn, start_bot: BotFactory) -> None:
    app = await start_bot(cards=CARDS)
    story_id, _ = await submit_and_approve(standin)
    await say(standin, "/帮助", sender="mallory")  # the bot knows mallory's name from here on
    await say(standin, "/封禁 @Mallory", sender="admin1", at=["mallory"])
    sent = await say(standin, "/审计", sender="admin1")
    # Names, the command as the admin typed it, no keys or reprs.
    assert "Admin1：/封禁 Mallory" in sent.text and f"Admin1：/通过 {story_id}" in sent.text
    async with app.db.transaction() as session:
        actions = (
            await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))
        ).scalars()
        assert list(actions) == ["/approve", "/ban", "/audit"]  # looking at the log is logged too


async def test_an_admin_change_applies_to_the_rest_of_the_same_batch(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot()
    order = [
        ("/帮助", "bob"),  # recorded first, alone; the rest queue up behind it
        ("/活动", "alice"),  # reads the group's modules and bans: they are remembered
        ("/报名 1", "mallory"),
        ("/模块 volunteers 关", "admin1"),
        ("/封禁 mallory", "admin1"),
        ("/活动", "alice"),  # must see the module switched off
        ("/模块 volunteers 开", "admin1"),
        ("/报名 1", "mallory"),  # must see the ban
    ]
    # Hold the database so every push is recorded in one commit and handled in one batch.
    async with app.db.transaction():
        pushes = [await standin.say(text, sender=who, wait_ack=False) for text, who in order]
        await asyncio.sleep(0.2)
    sent = [
        await standin.wait_sent(where=lambda s, m=p.data["msgId"]: s.in_reply_to == m, timeout=10)
        for p in pushes
    ]
    async with app.db.transaction() as session:
        handled = (
            (await session.execute(select(InboxEvent.processed_at).order_by(InboxEvent.id)))
            .scalars()
            .all()
        )
    assert len(handled) == len(order) and len(set(handled[1:])) == 1  # one batch
    texts = [s[0].text for s in sent][1:]
    assert "没有即将开始的活动" in texts[0] and "没有编号为 1 的活动" in texts[1]
    assert "没有开启「志愿活动」功能" in texts[4]
    assert "暂时不能这样操作" in texts[6]


async def test_modules_switch_off_and_on(standin: StandIn, start_bot: BotFactory) -> None:
    await start_bot(cards=CARDS, stories={"review_default": False})
    replies = await reply_texts(standin, "/故事 开着的时候 | 发了一个故事", 2, sender="alice")
    story_id = int(replies[0].text.split("#")[1].split(" ")[0])
    track = replies[1].out_track_id
    sent = await say(standin, "/模块 stories 关", sender="admin1")
    assert "已关闭「故事」" in sent.text
    sent = await say(standin, "/故事 关了 | 还能发吗", sender="alice")
    assert "没有开启「故事」功能" in sent.text
    push = await standin.click(track, "bob", {"action": "like", "id": str(story_id)})
    assert (
        "没有开启「故事」功能"
        in StandIn.response_of(push)["userPrivateData"]["cardParamMap"]["message"]
    )
    help_text = (await say(standin, "/帮助", sender="alice")).text
    assert "/故事" not in help_text and "/帮助" in help_text
    # Other groups are not affected.
    sent = await say(standin, "/故事 别的群 | 照常", sender="alice", conversation="cid-other")
    assert "没有开启" not in sent.text
    await say(standin, "/模块 stories 开", sender="admin1")
    sent = await say(standin, f"/赞 {story_id}", sender="bob")
    assert "现有 1 个赞" in sent.text


async def test_banned_members_cannot_act_but_can_read_and_erase(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot(cards=CARDS, stories={"review_default": False})
    replies = await reply_texts(standin, "/故事 大家的故事 | 欢迎点赞", 2, sender="alice")
    story_id = int(replies[0].text.split("#")[1].split(" ")[0])
    track = replies[1].out_track_id
    created = await say(
        standin, "/活动 新建 清扫 | 2030-03-11 09:00 | 2 | 小区 | 5", sender="admin1"
    )
    event_id = int(created.text.split("#")[1].split("「")[0])
    await say(standin, "/封禁 @Mallory", sender="admin1", at=["mallory"])
    for text in ("/故事 我被禁了 | 还想发", f"/赞 {story_id}", f"/报名 {event_id}", "/我会 钓鱼"):
        sent = await say(standin, text, sender="mallory")
        assert "暂时不能这样操作" in sent.text, text
    push = await standin.click(track, "mallory", {"action": "like", "id": str(story_id)})
    assert "暂时不能" in StandIn.response_of(push)["userPrivateData"]["cardParamMap"]["message"]
    sent = await say(standin, "/故事榜", sender="mallory")
    assert "本周故事榜" in sent.text
    # The ban is per group.
    sent = await say(
        standin, "/故事 另一个群 | 这里可以", sender="mallory", conversation="cid-other"
    )
    assert "暂时不能" not in sent.text
    await say(standin, "/解封 @Mallory", sender="admin1", at=["mallory"])
    sent = await say(standin, f"/赞 {story_id}", sender="mallory")
    assert "现有 1 个赞" in sent.text
    async with app.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Like)) == 1


async def mydata(standin: StandIn, sender: str, conversation: str = "cid-group-1") -> str:
    """The private report; the group only hears that it was sent privately."""
    before = len(standin.sent)
    await standin.say("/我的数据", sender=sender, conversation=conversation)

    def new(s: Sent) -> bool:
        return any(s is x for x in standin.sent[before:])

    [private] = await standin.wait_sent(where=lambda s: new(s) and s.route == "o2o")
    await standin.wait_sent(where=lambda s: new(s) and s.text == "已私信发给你。")
    assert private.user_ids == [sender]
    return private.text


async def test_mydata_is_accurate_and_forget_erases_it_all_and_nothing_else(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot(cards=CARDS, stories={"review_default": False})
    a1 = await reply_texts(standin, "/故事 第一个 | 我的故事一", 2, sender="alice")
    a2 = await reply_texts(standin, "/故事 第二个 | 我的故事二", 2, sender="alice")
    b1 = await reply_texts(standin, "/故事 鲍勃的 | 鲍勃的故事", 2, sender="bob")
    ids = [int(r[0].text.split("#")[1].split(" ")[0]) for r in (a1, a2, b1)]
    await say(standin, f"/赞 {ids[2]}", sender="alice")
    await say(standin, f"/赞 {ids[0]}", sender="bob")
    await standin.click(a2[1].out_track_id, "bob", {"action": "like", "id": str(ids[1])})
    # Activity in another group must not show here.
    await reply_texts(
        standin, "/故事 别处 | 另一个群的故事", 2, sender="alice", conversation="cid-other"
    )

    report = await mydata(standin, "alice")
    assert "故事：2 条" in report and "#2「第二个」" in report and "#1「第一个」" in report
    assert "点过的赞：1 条（#3）" in report
    assert "个人资料：1 条" in report and "消息 4 条" in report  # 2 stories, 1 like, /我的数据
    assert "仍保留的原始消息：4 条" in report
    assert "别处" not in report

    sent = await say(standin, "/删除我的数据", sender="alice")
    assert "10 分钟内" in sent.text
    async with app.db.transaction() as session:
        copies_before = await PrivacyRepo(session).message_copies(GROUP, "alice", ["Alice"])
    sent = await say(standin, "/删除我的数据 确认", sender="alice")
    assert "已删除你在本群的数据" in sent.text
    # The raw messages: the four above, /删除我的数据 and its confirmation.
    for part in ("个人资料 1 条", "点过的赞 1 条", "故事 2 条", "原始消息 6 条"):
        assert part in sent.text, part
    assert "仍保留的原始消息" not in sent.text  # erased, not "still kept"
    # The copies are the outbox's replies to alice and those naming her, counted once: her
    # own six messages are the raw messages' (they were counted in both).
    copies = int(sent.text.split("消息副本 ")[1].split(" 条")[0])
    assert copies == copies_before, (copies, copies_before, sent.text)

    async with app.db.transaction() as session:
        stories = (
            await session.execute(select(Story.author_staff_id, Story.conversation_id))
        ).all()
        assert sorted(stories) == [("alice", "cid-other"), ("bob", "cid-group-1")]
        likes = (await session.execute(select(Like.staff_id, Like.story_id))).all()
        assert likes == []  # alice's like went; bob's likes were on alice's stories
        bob_story = await session.get(Story, ids[2])
        assert bob_story is not None and bob_story.likes == 0
        assert await session.get(Member, ("cid-group-1", "alice")) is None
        assert await session.get(Member, ("cid-group-1", "bob")) is not None
        assert await session.get(Member, ("cid-other", "alice")) is not None
        kept = await session.scalar(
            select(func.count())
            .select_from(InboxEvent)
            .where(
                InboxEvent.conversation_id == "cid-group-1", InboxEvent.payload.contains("alice")
            )
        )
        assert kept == 0
    report = await mydata(standin, "bob")
    assert "故事：1 条" in report and "点过的赞：0 条" in report


async def test_forget_needs_a_fresh_confirmation(standin: StandIn, start_bot: BotFactory) -> None:
    clock = ManualClock()
    await start_bot(cards=CARDS, clock=clock)
    sent = await say(standin, "/删除我的数据 确认", sender="alice")
    assert "没有待确认的删除请求" in sent.text
    await say(standin, "/删除我的数据", sender="alice")
    clock.advance(timedelta(minutes=11))
    sent = await say(standin, "/删除我的数据 确认", sender="alice")
    assert "已超过 10 分钟" in sent.text


async def test_forget_by_card_button_only_by_its_member(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot(cards={**CARDS, "generic_template": "tpl-generic"})
    before = len(standin.sent)
    await standin.say("/删除我的数据", sender="alice")
    card = (
        await standin.wait_sent(
            where=lambda s: s.route == "card" and standin.sent.index(s) >= before
        )
    )[0]
    push = await standin.click(card.out_track_id, "mallory", {"action": "confirm", "id": "alice"})
    assert "别人的" in StandIn.response_of(push)["userPrivateData"]["cardParamMap"]["message"]
    push = await standin.click(card.out_track_id, "alice", {"action": "confirm", "id": "alice"})
    assert "已删除" in StandIn.response_of(push)["userPrivateData"]["cardParamMap"]["message"]
    async with app.db.transaction() as session:
        assert await session.get(Member, ("cid-group-1", "alice")) is None


async def test_ids_from_another_group_are_unknown_for_every_id_command(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot(cards=CARDS, admins={"staff_ids": ["admin1"]})
    story_id, _ = await submit_and_approve(standin)  # all of these live in cid-group-1
    pending = await say(standin, "/故事 待审 | 另一个", sender="bob")
    pending_id = int(pending.text.split("#")[1].split("「")[0])
    created = await say(
        standin, "/活动 新建 植树 | 2030-03-12 09:00 | 3 | 公园 | 5", sender="admin1"
    )
    event_id = int(created.text.split("#")[1].split("「")[0])
    from bot.commands import CommandTable
    from bot.router import Router

    root = Router("all")
    for router in default_routers():
        root.include_router(router)
    specs = [r.spec for r in CommandTable(root).routes if any(a.name == "id" for a in r.spec.args)]
    expected = {"like", "unlike", "approve", "reject", "likes", "join", "leave"}
    expected |= {"event seats", "event roster", "event done", "event cancel", "events"}
    assert {s.name for s in specs} >= expected
    for spec in specs:
        for target in (story_id, pending_id, event_id):
            text = command_text(spec).replace(" 1", f" {target}", 1)
            if all(a.optional for a in spec.args if a.name == "id"):
                text += f" {target}"  # /活动 <id>: the id is optional there
            sent = await say(standin, text, sender="admin1", conversation="cid-group-b")
            assert f"#{target}" in sent.text or f" {target} " in sent.text, (text, sent.text)
            assert "没有" in sent.text or "There is no" in sent.text, (text, sent.text)


async def test_retention_purges_old_raw_payloads(standin: StandIn, start_bot: BotFactory) -> None:
    clock = ManualClock()
    app = await start_bot(clock=clock)
    await say(standin, "/帮助", sender="alice")
    await say(standin, "/帮助", sender="bob")
    clock.advance(timedelta(hours=47))
    await say(standin, "/帮助", sender="carol")
    clock.advance(timedelta(hours=2))  # the first two are now 49 h old, the third 2 h
    assert await app.jobs.run_job("inbox-retention")
    async with app.db.transaction() as session:
        left = (
            await session.execute(
                select(InboxEvent.staff_id, InboxEvent.payload).order_by(InboxEvent.id)
            )
        ).all()
    # The old payloads are gone; their keys stay (without sender) so a late redelivery is
    # still recognised as a duplicate.
    assert [staff for staff, _ in left] == ["", "", "carol"]
    assert [payload == "" for _, payload in left] == [True, True, False]


async def test_mydata_and_forget_cover_every_module(
    standin: StandIn, start_bot: BotFactory
) -> None:
    from tests.scenario.test_skills import propose

    clock = ManualClock(datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
    await start_bot(clock=clock, cards=CARDS, stories={"review_default": False})
    # Stories and likes.
    await reply_texts(standin, "/故事 全都有 | 每个模块都用一遍", 2, sender="alice")
    await reply_texts(standin, "/故事 鲍勃的 | 故事", 2, sender="bob")
    await say(standin, "/赞 2", sender="alice")
    # Volunteering: one activity done (hours), one upcoming with a waitlist behind alice.
    await say(standin, "/活动 新建 清扫 | 2026-03-11 09:00 | 2 | 小区 | 5", sender="admin1")
    await say(standin, "/报名 1", sender="alice")
    await say(standin, "/活动 新建 植树 | 2026-03-20 09:00 | 3 | 公园 | 1", sender="admin1")
    await say(standin, "/报名 2", sender="alice")
    await say(standin, "/报名 2", sender="carol")  # waitlisted behind alice
    # Skills: a post, a swap, credits.
    await say(standin, "/我会 吉他", sender="alice")
    swap_id = await propose(standin, 1, "bob")
    await say(standin, f"/交换 接受 {swap_id}", sender="alice")
    await say(standin, f"/交换完成 {swap_id} 2", sender="bob")
    await say(standin, f"/交换 确认 {swap_id}", sender="alice")
    clock.set(datetime(2026, 3, 11, 6, 0, tzinfo=UTC))
    await say(standin, "/活动 结束 1", sender="admin1")

    report = await mydata(standin, "alice")
    for line in (
        "个人资料：1 条",
        "点过的赞：1 条（#2）",
        "故事：1 条",
        "活动报名：2 条",
        "志愿时长记录：1 条",
        "技能帖：1 条（#1「吉他」）",
        "交换：1 条（#1 已完成）",
        "时间币记录（删除后匿名保留）：1 条（2）",
        "仍保留的原始消息：",
    ):
        assert line in report, (line, report)

    await say(standin, "/删除我的数据", sender="alice")
    sent = await say(standin, "/删除我的数据 确认", sender="alice")
    for part in (
        "点过的赞 1 条",
        "故事 1 条",
        "活动报名 2 条",
        "志愿时长记录 1 条",
        "技能帖 1 条",
        "交换 1 条",
    ):
        assert part in sent.text, (part, sent.text)
    # carol moved up from the waitlist and was told.
    await standin.wait_sent(
        where=lambda s: s.route == "o2o" and "carol" in s.user_ids and "正式报名" in s.text
    )
    report = await mydata(standin, "alice")
    assert "故事：0 条" in report and "技能帖：0 条" in report and "活动报名：0 条" in report
    assert "时间币记录（删除后匿名保留）：0 条" in report
    bob = await mydata(standin, "bob")
    assert (
        "故事：1 条" in bob
        and "交换：0 条" in bob
        and "时间币记录（删除后匿名保留）：1 条（-2）" in bob
    )


async def test_help_shows_the_chinese_form_of_a_choice_and_both_forms_work(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot()
    help_text = (await say(standin, "/帮助", sender="alice")).text
    assert "/删除我的数据 [确认]" in help_text and "confirm" not in help_text
    english = (await say(standin, "/help", sender="alice")).text
    assert "/forget [confirm]" in english
    for word in ("确认", "confirm"):  # both are accepted
        await say(standin, "/删除我的数据", sender="alice")
        done = await say(standin, f"/删除我的数据 {word}", sender="alice")
        assert "已删除" in done.text or "deleted" in done.text, done.text


async def test_a_bare_confirmation_names_the_command_instead_of_greeting(
    standin: StandIn, start_bot: BotFactory
) -> None:
    """Asked to send "/删除我的数据 确认", a member answers "确认" alone: the greeting would
    leave them believing their data erased; the reply names the form, and nothing is erased
    until it is sent."""
    app = await start_bot()
    await say(standin, "/故事 第一个 | 我的故事", sender="alice")
    await say(standin, "/删除我的数据", sender="alice")
    sent = await say(standin, "确认", sender="alice")
    assert "/删除我的数据 确认" in sent.text and "你好" not in sent.text, sent.text
    sent = await say(standin, "confirm", sender="alice")
    assert "/forget confirm" in sent.text, sent.text
    async with app.db.transaction() as session:
        assert await session.scalar(select(func.count(Story.id))) == 1
    sent = await say(standin, "/删除我的数据 确认", sender="alice")
    assert "已删除你在本群的数据" in sent.text


async def test_mydata_says_when_it_lists_only_the_latest_of_a_kind(
    standin: StandIn, start_bot: BotFactory
) -> None:
    """Four sign-ups, three listed: the line says they are the latest three, or "4 条"
    beside three items reads as a record missing from the privacy dashboard."""
    await start_bot(admins={"staff_ids": ["admin1"]})
    for day in range(10, 14):
        created = await say(
            standin, f"/活动 新建 植树{day} | 2030-03-{day} 09:00 | 3 | 公园 | 5", sender="admin1"
        )
        event_id = int(created.text.split("#")[1].split("「")[0])
        await say(standin, f"/报名 {event_id}", sender="carol")
    report = await mydata(standin, "carol")
    line = next(x for x in report.splitlines() if x.startswith("活动报名"))
    assert line.startswith("活动报名：4 条（最近 3 条：#4"), line
    assert line.count("#") == 3, line
