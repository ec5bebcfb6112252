"""Issue 18: ``[retention]`` days per kind of record, enforced by the hourly job (the clock
is moved, never waited for), shown in /我的数据, and never removing what another feature
still reads (the likes of a live story stay: the honest-likes scorer reads them all)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import ColumnElement, func, select

from bot.app import Application
from bot.clock import ManualClock
from bot.sandbox.standin import StandIn
from storage.models import AuditEntry, Like, OutboxMessage, Story, StoryPicture
from tests.conftest import BotFactory
from tests.scenario.test_admin_privacy import mydata
from tests.scenario.test_stories import say, start, submit_and_approve
from tests.scenario.test_story_pictures import PNG, fetch, tell_story

RETENTION = {
    "rejected_stories_days": 30,
    "like_evidence_days": 30,
    "audit_log_days": 60,
    "delivered_outbox_days": 7,
    "pictures_days": 30,
}


async def counts(app: Application) -> dict[str, int]:
    async with app.db.transaction() as session:

        async def n(model: type, *where: ColumnElement[bool]) -> int:
            found = await session.scalar(select(func.count()).select_from(model).where(*where))
            return int(found or 0)

        return {
            "stories": await n(Story),
            "audit": await n(AuditEntry),
            "delivered": await n(OutboxMessage, OutboxMessage.status != "pending"),
            "pictures": await n(StoryPicture),
        }


async def all_marked(app: Application) -> None:
    """Wait (a condition, not a schedule) until every reply so far is marked delivered."""
    async with asyncio.timeout(10):
        while True:
            async with app.db.transaction() as session:
                pending = OutboxMessage.status == "pending"
                query = select(func.count()).select_from(OutboxMessage).where(pending)
                if not await session.scalar(query):
                    return
            await asyncio.sleep(0.05)


async def likes_of(app: Application, story_id: int) -> int:
    async with app.db.transaction() as session:
        found = await session.scalar(select(func.count()).where(Like.story_id == story_id))
        return int(found or 0)


async def test_the_hourly_job_removes_only_what_is_past_its_retention(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock()
    app = await start(start_bot, clock=clock, retention=RETENTION)
    sent = await say(standin, "/故事 不合适 | 会被驳回", sender="alice")
    rejected = int(sent.text.split("#")[1].split("「")[0])
    await say(standin, f"/驳回 {rejected} 跑题了", sender="admin1")
    withdrawn, _ = await submit_and_approve(standin, "会撤回", "alice")
    await say(standin, f"/赞 {withdrawn}", sender="bob")
    await say(standin, f"/故事 撤回 {withdrawn}", sender="alice")
    sent = await tell_story(standin, "/故事 留着 | 有图", standin.add_picture(PNG))
    live = int(sent.text.split("#")[1].split("「")[0])
    await fetch(app)
    await say(standin, f"/通过 {live}", sender="admin1")
    await say(standin, f"/赞 {live}", sender="bob")
    await say(standin, f"/赞 {live}", sender="carol")
    before = await counts(app)
    assert before["stories"] == 3 and before["pictures"] == 1 and before["audit"] >= 3

    # Nothing is old yet: the job removes nothing.
    assert await app.jobs.run_job("retention")
    now = await counts(app)
    # (a reply still being marked may add a delivered row meanwhile: never fewer)
    assert now["delivered"] >= before["delivered"] > 0
    assert {**now, "delivered": 0} == {**before, "delivered": 0}
    assert await likes_of(app, withdrawn) == 1

    await all_marked(app)
    # A month later: what is past 30 days goes, the audit log (60 days) stays.
    clock.advance(timedelta(days=31))
    assert await app.jobs.run_job("retention")
    after = await counts(app)
    assert after["stories"] == 2 and after["pictures"] == 0
    assert after["audit"] == before["audit"]
    async with app.db.transaction() as session:
        old = OutboxMessage.created_at < clock.now() - timedelta(days=7)
        delivered = OutboxMessage.status != "pending"
        query = select(func.count()).select_from(OutboxMessage).where(old, delivered)
        assert await session.scalar(query) == 0
    assert await likes_of(app, withdrawn) == 0
    # The live story keeps its likes (the scorer reads them) and its text.
    assert await likes_of(app, live) == 2
    async with app.db.transaction() as session:
        story = await session.get(Story, live)
        assert story is not None and story.body == "有图" and story.likes == 2
        assert await session.get(Story, rejected) is None

    clock.advance(timedelta(days=30))
    assert await app.jobs.run_job("retention")
    assert (await counts(app))["audit"] == 0

    report = await mydata(standin, "alice")
    assert "保留期限：被驳回的故事 30 天" in report and "管理操作记录 60 天" in report
    assert "已发出的消息副本 7 天" in report and "故事图片 30 天" in report
