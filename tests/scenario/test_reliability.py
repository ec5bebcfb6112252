"""Nothing lost, nothing doubled: poison pushes, dead letters, garbage frames, late redeliveries."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import dispatch
from bot.clock import ManualClock
from bot.sandbox.standin import BOT_TOPIC, CARD_TOPIC, StandIn
from storage.models import InboxEvent, Signup
from tests.conftest import BotFactory, eventually
from tests.scenario.test_volunteers import publish, start

POISON = "\ud83d"  # half an emoji: what a UTF-16 truncation leaves


async def test_a_poison_message_spoils_none_of_the_thirty_recorded_with_it(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot()
    texts = [f"/nosuch-n{i:02d}" for i in range(30)]
    texts.insert(13, f"/nosuch-poison {POISON} end")
    pushes = await asyncio.gather(
        *(standin.push(BOT_TOPIC, standin.message(t), timeout=3.0) for t in texts)
    )
    assert all(p.ack is not None and p.ack["code"] == 200 for p in pushes)
    await standin.wait_sent(31)
    for t in texts:
        needle = t.split(" ")[0]
        assert len([s for s in standin.sent if needle in s.text]) == 1, t
    poison = next(s.text for s in standin.sent if "/nosuch-poison" in s.text)
    assert POISON not in poison


async def test_a_poison_click_spoils_none_of_the_thirty_clicks_with_it(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot)
    event_id, track = await publish(standin, seats=20)
    join = {"action": "join", "id": str(event_id)}
    users = [f"m{i:02d}" for i in range(30)]
    users.insert(7, f"mal{POISON}")
    pushes = await asyncio.gather(*(standin.click(track, u, join, timeout=3.0) for u in users))
    assert all(p.ack is not None for p in pushes)
    states = [
        StandIn.response_of(p)["userPrivateData"]["cardParamMap"].get("state") for p in pushes
    ]
    assert states.count("已报名") == 20 and states.count(None) == 0
    assert states[-1] == "候补第 11 位"
    async with app.db.transaction() as session:
        rows = (await session.execute(select(Signup.staff_id))).scalars().all()
    assert len(rows) == 31 and all(POISON not in r for r in rows)


async def test_an_unhandleable_message_is_a_dead_letter_not_retried_forever(
    standin: StandIn, start_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await start_bot()
    data = standin.message("/nosuch-far-future")
    data["sessionWebhookExpiredTime"] = 1e20  # fromtimestamp raises OSError on this
    push = await standin.push(BOT_TOPIC, data)
    assert push.ack is not None and push.ack["code"] == 200
    await standin.wait_sent(where=lambda s: "/nosuch-far-future" in s.text)
    # A message whose handling fails and whose apology fails too ends as a dead letter.
    real = app.dispatcher.run_command

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("handler exploded")

    async def no_apology(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no apology either")

    app.dispatcher.run_command = broken  # type: ignore[method-assign]
    monkeypatch.setattr(dispatch, "write_replies", no_apology)
    try:
        await standin.say("/帮助", msg_id="doomed")
        await eventually(lambda: app.dispatcher.dead_letters == 1)
    finally:
        app.dispatcher.run_command = real  # type: ignore[method-assign]
    async with app.db.transaction() as session:
        row = (
            await session.execute(select(InboxEvent).where(InboxEvent.key == "msg:doomed"))
        ).scalar_one()
    assert row.status == "dead" and "exploded" in row.error and "no apology" in row.error
    assert await app.jobs.run_job("inbox-sweep")
    assert app.queue.empty()


async def test_a_redelivery_after_the_payload_purge_is_still_a_duplicate(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock()
    app = await start_bot(clock=clock)
    data = standin.message("/nosuch-late", msg_id="late-msg")
    await standin.push(BOT_TOPIC, data)
    await standin.wait_sent(where=lambda s: "/nosuch-late" in s.text)
    clock.advance(timedelta(hours=49))
    assert await app.jobs.run_job("inbox-retention")
    async with app.db.transaction() as session:
        [row] = (await session.execute(select(InboxEvent))).scalars().all()
    assert (row.key, row.payload, row.staff_id) == ("msg:late-msg", "", "")
    push = await standin.push(BOT_TOPIC, data)  # DingTalk pushes it again, much later
    assert push.ack is not None and push.ack["code"] == 200
    await standin.say("/nosuch-marker")
    await standin.wait_sent(where=lambda s: "/nosuch-marker" in s.text)
    assert len([s for s in standin.sent if "/nosuch-late" in s.text]) == 1
    assert app.dispatcher.dead_letters == 0


async def test_garbage_frames_are_acked_so_they_are_not_redelivered_forever(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot()

    def frame(kind: str, topic: str, data: object) -> tuple[str, str]:
        message_id = uuid.uuid4().hex
        headers = {"messageId": message_id, "topic": topic, "contentType": "application/json"}
        text = json.dumps({"specVersion": "1.0", "type": kind, "headers": headers, "data": data})
        return text, message_id

    garbage = [
        frame("CALLBACK", BOT_TOPIC, "not json {"),
        frame("CALLBACK", BOT_TOPIC, json.dumps([1, 2, 3])),
        frame("CALLBACK", CARD_TOPIC, "{]"),
        frame("CALLBACK", "/v1.0/unknown/topic", "{}"),
        frame("EVENT", "chat_update", "{}"),
        frame("BOGUS", "x", "{}"),
    ]
    for text, message_id in garbage:
        ack = await standin.push_raw(text, message_id)
        assert ack is not None and ack["code"] == 200, text
    await standin.push_raw("][ not even json", "none")  # nothing to ack, and no harm
    push = await standin.say("/nosuch-alive")
    assert push.ack is not None
    await standin.wait_sent(where=lambda s: "/nosuch-alive" in s.text)
