"""The weekly digest through the real path, driven by a clock that moves (no sleeping)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.clock import ManualClock
from bot.sandbox.standin import Sent, StandIn
from storage.models import DigestRun
from tests.conftest import BotFactory
from tests.scenario.test_stories import reply_texts, say

GROUP = "cid-group-1"
TUESDAY = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # Tue 10:00 in Shanghai
SLOT = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)  # Mon 09:00 in Shanghai, the default slot


def digests(standin: StandIn) -> list[Sent]:
    return [s for s in standin.sent if s.route == "group" and "社区周报" in s.text]


async def start(start_bot: BotFactory, clock: ManualClock, **sections: Any) -> Any:
    defaults: dict[str, Any] = {"stories": {"review_default": False}, "cards": {}}
    return await start_bot(clock=clock, **{**defaults, **sections})


async def week_of_activity(standin: StandIn, clock: ManualClock) -> None:
    """Stories with likes, an activity done (hours), one coming up with seats left."""
    clock.set(TUESDAY)
    for title, author in (("修自行车", "alice"), ("中秋晚会", "bob")):
        await reply_texts(standin, f"/故事 {title} | {author} 的故事", 2, sender=author)
    await say(standin, "/赞 1", sender="carol")
    await say(standin, "/赞 1", sender="dave")
    await say(standin, "/赞 2", sender="carol")
    await reply_texts(
        standin, "/活动 新建 清扫 | 2026-03-11 09:00 | 2 | 小区 | 5", 2, sender="admin1"
    )
    await say(standin, "/报名 1", sender="erin")
    await reply_texts(
        standin, "/活动 新建 植树 | 2026-03-20 09:00 | 3 | 公园 | 10", 2, sender="admin1"
    )
    await say(standin, "/我会 吉他", sender="frank")
    await say(standin, "/我想学 书法", sender="gina")
    proposal = await say(standin, "/交换 1", sender="gina")
    swap_id = proposal.text.split("（#")[1].split("）")[0]
    await say(standin, f"/交换 接受 {swap_id}", sender="frank")
    await say(standin, f"/交换完成 {swap_id} 1.5", sender="frank")
    await say(standin, f"/交换 确认 {swap_id}", sender="gina")
    clock.set(datetime(2026, 3, 11, 6, 0, tzinfo=UTC))
    await say(standin, "/活动 结束 1", sender="admin1")


async def test_the_digest_goes_out_at_the_slot_with_its_sections(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock(TUESDAY)
    app = await start(start_bot, clock)
    await week_of_activity(standin, clock)
    clock.set(SLOT - timedelta(minutes=1))
    assert await app.jobs.run_job("weekly-digest")
    assert not digests(standin)
    clock.set(SLOT)
    assert await app.jobs.run_job("weekly-digest")
    [digest] = await standin.wait_sent(where=lambda s: s.route == "group" and "社区周报" in s.text)
    text = digest.text
    assert digest.conversation_id == GROUP and digest.msg_key == "sampleMarkdown"
    assert "03-09 – 03-16" in text
    assert "本周故事" in text and "1. #1 修自行车 — Alice · 真实 2 赞" in text
    assert "即将开始的活动" in text and "#2 植树" in text and "剩余 10/10" in text
    assert "本周志愿时长" in text and "1. Erin · 2 小时" in text
    assert (
        "技能交换" in text
        and "- Frank 会「吉他」（/交换 1）" in text
        and "- Gina 想学「书法」" in text
    )
    assert "完成：Frank 教 Gina「吉他」1.5 小时" in text
    assert await app.jobs.run_job("weekly-digest")  # the same minute again: nothing new
    clock.advance(timedelta(hours=1))
    assert await app.jobs.run_job("weekly-digest")
    await say(standin, "/帮助", sender="alice")  # anything queued is out once this is answered
    assert len(digests(standin)) == 1


async def test_an_empty_week_posts_nothing(standin: StandIn, start_bot: BotFactory) -> None:
    clock = ManualClock(TUESDAY)
    app = await start(start_bot, clock)
    await say(standin, "/帮助", sender="alice")  # the group exists, but nothing happened
    clock.set(SLOT)
    assert await app.jobs.run_job("weekly-digest")
    await say(standin, "/帮助", sender="alice")
    assert not digests(standin)
    async with app.db.transaction() as session:
        runs = (await session.execute(select(DigestRun.period, DigestRun.status))).all()
    assert runs == [("2026-03-16 09:00", "empty")]


async def test_a_changed_schedule_and_off_on_are_honoured(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock(TUESDAY)
    app = await start(start_bot, clock)
    await week_of_activity(standin, clock)
    sent = await say(standin, "/周报 时间 周三 18:30", sender="admin1")
    assert "每周三 18:30" in sent.text
    clock.set(SLOT)
    assert await app.jobs.run_job("weekly-digest")
    assert not digests(standin)
    clock.set(datetime(2026, 3, 18, 10, 30, tzinfo=UTC))  # Wed 18:30 in Shanghai
    assert await app.jobs.run_job("weekly-digest")
    [digest] = await standin.wait_sent(where=lambda s: s.route == "group" and "社区周报" in s.text)
    assert "03-11 – 03-18" in digest.text

    sent = await say(standin, "/周报 关", sender="admin1")
    assert "已停止" in sent.text
    clock.advance(timedelta(days=7))
    assert await app.jobs.run_job("weekly-digest")
    sent = await say(standin, "/周报 开", sender="admin1")
    assert "每周三 18:30" in sent.text
    clock.advance(timedelta(days=6))  # Tue 04-01 18:30, the day before the next slot
    await reply_texts(standin, "/故事 新的一周 | 又有故事了", 2, sender="alice")
    clock.advance(timedelta(days=1))  # Wed 18:30: the slot
    assert await app.jobs.run_job("weekly-digest")
    await standin.wait_sent(2, where=lambda s: s.route == "group" and "社区周报" in s.text)
    await say(standin, "/帮助", sender="alice")
    assert len(digests(standin)) == 2  # the week it was off had none


async def test_a_restart_at_the_scheduled_minute_posts_once(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock(TUESDAY)
    app = await start(start_bot, clock)
    await week_of_activity(standin, clock)
    clock.set(SLOT)
    assert await app.jobs.run_job("weekly-digest")
    await app.stop()
    second = await start(start_bot, clock)  # runs its jobs at start-up, still at the slot
    third = await start(start_bot, clock)  # and another process at the same time
    assert await second.jobs.run_job("weekly-digest")
    assert await third.jobs.run_job("weekly-digest")
    await standin.wait_sent(where=lambda s: s.route == "group" and "社区周报" in s.text)
    await say(standin, "/帮助", sender="alice")
    assert len(digests(standin)) == 1


async def test_downtime_across_the_slot_catches_up_within_grace_only(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock(TUESDAY)
    app = await start(start_bot, clock)
    await week_of_activity(standin, clock)
    await app.stop()
    clock.set(SLOT + timedelta(hours=3))  # down across the slot, back three hours later
    app = await start(start_bot, clock)  # the job runs at start-up
    await standin.wait_sent(where=lambda s: s.route == "group" and "社区周报" in s.text)
    await app.stop()
    clock.set(SLOT + timedelta(days=7, hours=13))  # the next one missed by more than 12 h
    app = await start(start_bot, clock)
    assert await app.jobs.run_job("weekly-digest")
    await say(standin, "/帮助", sender="alice")
    assert len(digests(standin)) == 1
    async with app.db.transaction() as session:
        runs = dict((await session.execute(select(DigestRun.period, DigestRun.status))).all())
    assert runs == {"2026-03-16 09:00": "posted", "2026-03-23 09:00": "skipped"}


async def test_throttled_group_sends_still_deliver_the_digest_once(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock(TUESDAY)
    app = await start(start_bot, clock, digest={"max_bytes": 1000, "top": 20})
    await week_of_activity(standin, clock)
    clock.set(TUESDAY + timedelta(hours=1))
    for i in range(12):
        await reply_texts(
            standin,
            f"/故事 第{i:02d}个" + "很长的标题" * 6 + " | " + "正文" * 50,
            2,
            sender=f"m{i}",
        )
    standin.faults.throttle_every = 2
    clock.set(SLOT)
    assert await app.jobs.run_job("weekly-digest")
    parts = await standin.wait_sent(
        2, where=lambda s: s.route == "group" and "社区周报" in s.text, timeout=15
    )
    await say(standin, "/帮助", sender="alice")
    parts = digests(standin)
    assert len(parts) >= 2 and all(len(p.text.encode()) <= 1200 for p in parts)
    assert len({p.text for p in parts}) == len(parts)  # each part once
    assert "（1/" in parts[0].text
    assert any("QpsLimit" in code for _, code in standin.rejected)


async def test_preview_and_now(standin: StandIn, start_bot: BotFactory) -> None:
    clock = ManualClock(TUESDAY)
    app = await start(start_bot, clock)
    await week_of_activity(standin, clock)
    before = len(standin.sent)
    sent = await say(standin, "/周报", sender="admin1")
    assert "私信" in sent.text
    [preview] = await standin.wait_sent(
        where=lambda s: s.route == "o2o" and standin.sent.index(s) >= before
    )
    assert preview.user_ids == ["admin1"] and "修自行车" in preview.text
    assert not digests(standin)  # a preview is not posted
    sent = await say(standin, "/周报 立即", sender="admin1")
    assert "不会再重复发送" in sent.text and "03-16" in sent.text
    await standin.wait_sent(where=lambda s: s.route == "group" and "社区周报" in s.text)
    sent = await say(standin, "/周报 立即", sender="admin1")
    assert "已经发过了" in sent.text
    clock.set(SLOT)
    assert await app.jobs.run_job("weekly-digest")
    await say(standin, "/帮助", sender="alice")
    assert len(digests(standin)) == 1


async def test_brushed_likes_go_to_admins_not_into_the_digest(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock(TUESDAY)
    app = await start(start_bot, clock, cards={"story_template": "tpl-story"})
    replies = await reply_texts(standin, "/故事 被刷的故事 | 会有人刷赞", 2, sender="alice")
    for i in range(10):
        await standin.click(replies[1].out_track_id, f"sock{i}", {"action": "like", "id": "1"})
        clock.advance(2)
    clock.set(SLOT)
    assert await app.jobs.run_job("weekly-digest")
    [digest] = await standin.wait_sent(where=lambda s: s.route == "group" and "社区周报" in s.text)
    [note] = await standin.wait_sent(where=lambda s: s.route == "o2o" and "点赞异常" in s.text)
    assert note.user_ids == ["admin1"] and "10 个赞在 18 秒内" in note.text
    assert "异常" not in digest.text and "sock" not in digest.text
    assert "真实 1 赞" in digest.text  # the digest counts genuine likes only


async def test_the_digest_is_a_card_where_a_template_is_configured(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock(TUESDAY)
    app = await start(start_bot, clock, cards={"digest_template": "tpl-digest"})
    await week_of_activity(standin, clock)
    clock.set(SLOT)
    assert await app.jobs.run_job("weekly-digest")
    [card] = await standin.wait_sent(
        where=lambda s: s.route == "card" and s.param.get("kind") == "digest"
    )
    data = standin.cards[card.out_track_id].data
    assert standin.cards[card.out_track_id].space_id == f"dtv1.card//IM_GROUP.{GROUP}"
    assert data["title"] == "社区周报 · 03-09 – 03-16" and "修自行车" in data["content"]
    assert not digests(standin)  # no markdown copy besides the card
