"""Flows across modules on every backend, and two bots on one PostgreSQL racing for seats."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.sandbox.standin import StandIn
from storage.db import Database
from storage.models import Like, Signup
from storage.repositories import InboxRepo, OutboxRepo
from tests.conftest import BotFactory
from tests.scenario.test_stories import reply_texts, say, submit_and_approve
from tests.scenario.test_volunteers import CARDS as EVENT_CARDS
from tests.scenario.test_volunteers import NOW, publish

CARDS = {**EVENT_CARDS, "story_template": "tpl-story", "review_template": "tpl-review"}


async def test_stories_likes_and_sign_ups_on_postgres(
    standin: StandIn, start_bot: BotFactory
) -> None:
    from bot.clock import ManualClock

    app = await start_bot(cards=CARDS, clock=ManualClock(NOW))
    story_id, track = await submit_and_approve(standin)
    push = await standin.click(track, "bob", {"action": "like", "id": str(story_id)})
    assert StandIn.response_of(push)["cardData"]["cardParamMap"]["likes"] == "1"
    sent = await say(standin, f"/赞 {story_id}", sender="carol")
    assert "现有 2 个赞" in sent.text
    sent = await say(standin, "/故事榜 all", sender="carol")
    assert "真实 2 赞" in sent.text
    event_id, _ = await publish(standin, seats=1)
    await say(standin, f"/报名 {event_id}", sender="bob")
    sent = await say(standin, f"/报名 {event_id}", sender="carol")
    assert "候补第 1 位" in sent.text
    async with app.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Like)) == 2


@pytest.mark.backends("postgresql")  # one SQLite file is one process's
async def test_two_bot_processes_racing_never_overbook(
    standin: StandIn, start_bot: BotFactory
) -> None:
    from bot.clock import ManualClock

    clock = ManualClock(NOW)
    first = await start_bot(cards=CARDS, clock=clock)
    await start_bot(cards=CARDS, clock=clock)
    await standin.wait_connected(2)
    event_id, track = await publish(standin, seats=20)
    # Pushes alternate between the two connections: both processes take sign-ups at once.
    pushes = await asyncio.gather(
        *(
            standin.click(track, f"p{i:03d}", {"action": "join", "id": str(event_id)}, timeout=60)
            for i in range(200)
        )
    )
    states = [StandIn.response_of(p)["userPrivateData"]["cardParamMap"]["state"] for p in pushes]
    assert states.count("已报名") == 20
    positions = sorted(
        int(s.split("第 ")[1].split(" 位")[0]) for s in states if s.startswith("候补")
    )
    assert positions == list(range(1, 181))
    async with first.db.transaction() as session:
        confirmed = await session.scalar(
            select(func.count()).select_from(Signup).where(Signup.status == "confirmed")
        )
        total = await session.scalar(select(func.count()).select_from(Signup))
    assert (confirmed, total) == (20, 200)


def _outbox_row(n: int, now: datetime) -> dict[str, object]:
    return {
        "idem_key": f"skip-{n}",
        "conversation_id": "cid-group-1",
        "conversation_type": "2",
        "reply": "{}",
        "reply_staff_id": f"m{n}",
        "session_webhook": "",
        "session_expires_at": None,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "lease_until": None,
        "last_error": "",
        "route": "",
        "created_at": now,
        "sent_at": None,
    }


@pytest.mark.backends("postgresql")  # SQLite has one writer: nothing to skip there
async def test_claims_skip_rows_another_process_holds(storage_url: str) -> None:
    now = datetime.now(UTC)
    mine, theirs = Database(storage_url), Database(storage_url)
    try:
        await mine.migrate()
        async with mine.transaction() as session:
            events = await InboxRepo(session).record_many(
                [
                    {
                        "key": f"k{n}",
                        "topic": "t",
                        "conversation_id": "",
                        "staff_id": "",
                        "payload": {},
                    }
                    for n in range(3)
                ],
                now,
            )
            rows = [
                r.id
                for r in await OutboxRepo(session).add_many([_outbox_row(n, now) for n in range(3)])
            ]
        ids = [e for e in events if e is not None]
        async with mine.transaction() as held:
            # This process holds the first two of each (uncommitted); the other process must
            # take what is left at once, not wait for this transaction to end.
            assert [c[0] for c in await InboxRepo(held).claim_many(ids[:2], now)] == ids[:2]
            until = now + timedelta(seconds=30)
            assert sorted(await OutboxRepo(held).lease(rows[:2], now, until)) == rows[:2]
            async with asyncio.timeout(3), theirs.transaction() as other:
                claimed = await InboxRepo(other).claim_many(ids, now)
                leased = await OutboxRepo(other).lease(rows, now, until)
        assert [c[0] for c in claimed] == ids[2:]
        assert leased == rows[2:]
    finally:
        await mine.dispose()
        await theirs.dispose()


@pytest.mark.backends("postgresql")  # several processes need PostgreSQL
async def test_two_processes_share_one_groups_send_pace(
    standin: StandIn, start_bot: BotFactory
) -> None:
    # 60 a minute with a burst of 2: together the processes may post 2 at once, then one a
    # second. With a bucket each, two processes posted twice that.
    pace = {"group_messages_per_minute": 60, "group_burst": 2}
    await start_bot(sender=pace)
    await start_bot(sender=pace)
    await standin.wait_connected(2)
    standin.faults.expire_sessions = True  # replies go out as group messages, paced
    for i in range(6):
        await standin.say(f"/nosuch-pace{i}", sender=f"p{i}", wait_ack=False)
    sent = await standin.wait_sent(6, timeout=30)
    times = sorted(s.at for s in sent if s.route == "group")
    assert len(times) == 6
    # 2 at once, then 4 more at one a second: the sixth at least ~4 s after the first.
    assert times[5] - times[0] >= 3.5, [round(t - times[0], 2) for t in times]


@pytest.mark.backends("postgresql")  # several processes need PostgreSQL
async def test_two_processes_rescoring_at_once_do_not_fight(
    standin: StandIn, start_bot: BotFactory
) -> None:
    """Every process runs the rescoring job. Two that run it at once for the same group
    must not both rescore it: the second would wait on the first's row locks, then write
    the same weights again and update each changed story card a second time (an OpenAPI
    call each, against the organisation's monthly quota). The second skips a group the
    first holds."""
    # The jobs run at start-up and then only when the test runs them.
    slow = {"review_default": False}
    first = await start_bot(cards=CARDS, stories=slow, likes={"rescore_seconds": 3600})
    second = await start_bot(cards=CARDS, stories=slow, likes={"rescore_seconds": 3600})
    await standin.wait_connected(2)
    await asyncio.sleep(0.5)  # both start-up runs are over
    replies = await reply_texts(standin, "/故事 刷赞 | 这个故事会被刷", 2, sender="alice")
    story_id = int(replies[0].text.split("#")[1].split(" ")[0])
    card = replies[1]
    for i in range(9):
        await standin.click(card.out_track_id, f"bot{i}", {"action": "like", "id": str(story_id)})
    done = await asyncio.gather(
        first.jobs.run_job("likes-rescore"), second.jobs.run_job("likes-rescore")
    )
    assert done == [True, True]
    await standin.wait_sent(
        where=lambda s: s.route == "card_update" and s.param.get("genuine_likes") == "0.9"
    )
    await asyncio.sleep(1.0)  # a second update of the card, if any, is sent by now
    updates = [
        s
        for s in standin.sent
        if s.route == "card_update" and s.param.get("genuine_likes") == "0.9"
    ]
    print(f"\ncard updates after two rescoring jobs at once: {len(updates)}")
    assert len(updates) == 1
