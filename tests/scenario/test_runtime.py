"""The runtime through the real path: dingtalk-stream client ↔ WebSocket ↔ stand-in ↔ bot."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from sqlalchemy import func, select

from bot.app import Application
from bot.sandbox.standin import BOT_TOPIC, StandIn
from storage.db import Database
from storage.models import CardInstance, InboxEvent, OutboxMessage
from storage.repositories import InboxRepo
from tests.conftest import BotFactory, eventually
from tests.scenario import probe


def replies_to(standin: StandIn, needle: str) -> list[str]:
    return [s.text for s in standin.sent if needle in s.text]


async def test_help_is_answered_through_the_session_webhook(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot()
    push = await standin.say("/help")
    assert push.ack is not None and push.ack["code"] == 200
    [sent] = await standin.wait_sent(1)
    assert sent.route == "webhook"
    assert sent.conversation_id == "cid-group-1"
    assert "/help" in sent.text and "list the commands" in sent.text

    await standin.say("／帮助")  # full-width slash, Chinese alias
    sent = (await standin.wait_sent(2))[-1]
    assert "查看命令列表" in sent.text


async def test_plain_text_unknown_commands_and_pictures_get_hints(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot()
    await standin.say("大家好")
    await standin.say("/frobnicate now")
    await standin.say(None, msgtype="picture")
    sent = await standin.wait_sent(3)
    texts = [s.text for s in sent]
    assert "发送 /帮助" in texts[0]
    assert "/frobnicate" in texts[1] and "/help" in texts[1]
    assert "图片" in texts[2]


async def test_a_message_pushed_twice_is_answered_once(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot()
    standin.faults.duplicate_pushes = True
    await standin.say("/nosuch-dup-1")
    standin.faults.duplicate_pushes = False
    # The very same msgId again, later, as a redelivery after an ack would be.
    data = standin.message("/nosuch-dup-2", msg_id="fixed-msg-id")
    await standin.push(BOT_TOPIC, data)
    await standin.push(BOT_TOPIC, data)
    # A marker in the same conversation: processing is in order, so once it is answered,
    # any duplicate would have been answered before it.
    await standin.say("/nosuch-marker")
    await standin.wait_sent(where=lambda s: "/nosuch-marker" in s.text)
    await app.sender.deliver_due()
    assert len(replies_to(standin, "/nosuch-dup-1")) == 1
    assert len(replies_to(standin, "/nosuch-dup-2")) == 1
    async with app.db.transaction() as session:
        inbox = await session.scalar(select(func.count()).select_from(InboxEvent))
    assert inbox == 3


async def test_dropped_socket_reconnects_and_answers_within_two_seconds(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot()
    opens = standin.opens
    dropped_at = time.monotonic()
    await standin.drop()
    await standin.say("/nosuch-after-drop")
    await standin.wait_sent(where=lambda s: "/nosuch-after-drop" in s.text, timeout=5)
    elapsed = time.monotonic() - dropped_at
    assert elapsed < 2.0, f"took {elapsed:.2f}s"
    assert standin.opens == opens + 1  # a fresh ticket, not a reused one
    assert app.edge.connections == 2


async def test_disconnect_frame_gets_a_new_connection_at_once(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot()
    opens = standin.opens
    started = time.monotonic()
    await standin.disconnect()
    await eventually(lambda: standin.opens == opens + 1, timeout=2.0)
    assert time.monotonic() - started < 2.0
    await standin.say("/nosuch-after-disconnect")
    await standin.wait_sent(where=lambda s: "/nosuch-after-disconnect" in s.text)


async def test_half_open_socket_is_noticed_and_replaced(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot()
    opens = standin.opens
    standin.freeze()  # the socket stays up but nothing comes through, not even pongs
    await eventually(lambda: standin.opens == opens + 1, timeout=3.0)
    await standin.say("/nosuch-after-freeze")
    await standin.wait_sent(where=lambda s: "/nosuch-after-freeze" in s.text)


async def test_gateway_refusals_are_retried_with_backoff(
    standin: StandIn, start_bot: BotFactory
) -> None:
    standin.faults.refuse_opens = 3
    await start_bot()
    assert standin.faults.refuse_opens == 0
    await standin.say("/help")
    await standin.wait_sent(1)


async def test_expired_session_falls_back_to_the_group_send_api(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot()
    standin.faults.expire_sessions = True
    await standin.say("/nosuch-expired")
    [sent] = await standin.wait_sent(where=lambda s: "/nosuch-expired" in s.text)
    assert sent.route == "group" and sent.conversation_id == "cid-group-1"
    assert ("/robot/sendBySession", "300001") in standin.rejected
    # A session the bot already knows is past its expiry is not even tried.
    standin.faults.expire_sessions = False
    rejected = len(standin.rejected)
    await standin.say("/nosuch-stale", session_ttl=-1)
    [sent] = await standin.wait_sent(where=lambda s: "/nosuch-stale" in s.text)
    assert sent.route == "group"
    assert len(standin.rejected) == rejected


async def test_one_to_one_with_expired_session_goes_through_batch_send(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot()
    await standin.say(
        "/nosuch-dm",
        conversation="cid-dm-carol",
        conversation_type="1",
        sender="carol",
        session_ttl=-1,
    )
    [sent] = await standin.wait_sent(where=lambda s: "/nosuch-dm" in s.text)
    assert sent.route == "o2o" and sent.user_ids == ["carol"]


async def test_throttling_every_third_send_still_delivers_each_reply_once(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot(sender={"group_burst": 50, "group_messages_per_minute": 600})
    standin.faults.throttle_every = 3
    standin.faults.expire_sessions = True  # exercise the OpenAPI path: 403 QpsLimit
    for i in range(15):
        await standin.say(f"/nosuch-t{i:02d}")
    await standin.wait_sent(15, timeout=15)
    for i in range(15):
        assert len(replies_to(standin, f"/nosuch-t{i:02d}")) == 1, i
    throttled = [r for r in standin.rejected if "QpsLimit" in r[1]]
    assert len(throttled) >= 4
    await eventually_all_sent(app)


async def test_a_members_replies_keep_their_order_while_others_go_alongside(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot()
    standin.faults.throttle_every = 2  # every other webhook call: errcode 130101
    for i in range(8):
        await standin.say(f"/nosuch-a{i}", sender="alice", wait_ack=False)
        await standin.say(f"/nosuch-b{i}", sender="bob", wait_ack=False)
    await standin.wait_sent(16, timeout=15)
    for member in ("a", "b"):
        texts = [s.text for s in standin.sent if f"/nosuch-{member}" in s.text]
        assert texts == [
            f"There is no command '/nosuch-{member}{i}'. Send /help for the list." for i in range(8)
        ]
    assert len([r for r in standin.rejected if r[1] == "130101"]) >= 4


async def eventually_all_sent(app: Application, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        async with app.db.transaction() as session:
            statuses = set((await session.execute(select(OutboxMessage.status))).scalars())
        if statuses <= {"sent"} or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
    assert statuses == {"sent"}


async def test_webhook_throttling_and_5xx_and_expired_tokens_are_retried(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot()
    standin.faults.throttle_every = 3  # webhook: errcode 130101
    for i in range(6):
        await standin.say(f"/nosuch-w{i}")
    await standin.wait_sent(6, timeout=10)
    standin.faults.throttle_every = 0
    standin.faults.expire_sessions = True
    standin.faults.server_error_every = 4
    standin.faults.expire_token_every = 2
    for i in range(6):
        await standin.say(f"/nosuch-g{i}")
    await standin.wait_sent(12, timeout=15)
    for prefix in ("w", "g"):
        for i in range(6):
            assert len(replies_to(standin, f"/nosuch-{prefix}{i}")) == 1
    codes = {code for _, code in standin.rejected}
    assert {"130101", "system.busy", "InvalidAuthentication"} <= codes


async def test_card_click_is_answered_inside_the_ack_within_two_seconds(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot(routers=[probe.router])
    await standin.say("/probe card")
    [card_sent] = await standin.wait_sent(where=lambda s: s.route == "card")
    card = standin.cards[card_sent.out_track_id]
    assert card.data["kind"] == "probe" and card.data["id"] == "7"
    assert card.space_id == "dtv1.card//IM_GROUP.cid-group-1"

    push = await standin.click(
        card.out_track_id, "bob", {"action": "press", "id": "7"}, message_id="click-1"
    )
    assert push.latency is not None and push.latency < 2.0
    response = StandIn.response_of(push)
    assert response["cardData"]["cardParamMap"] == {"presses": "1", "last": "bob"}
    assert response["userPrivateData"]["cardParamMap"] == {"message": "你按下了"}
    assert card.data["presses"] == "1" and card.private["bob"] == {"message": "你按下了"}
    await standin.wait_sent(where=lambda s: s.text == "pressed by bob")
    await standin.wait_sent(where=lambda s: s.route == "card_update")

    # The same frame again: the stored answer, and no second side effect.
    again = await standin.click(
        card.out_track_id, "bob", {"action": "press", "id": "7"}, message_id="click-1"
    )
    assert StandIn.response_of(again) == response
    await app.sender.deliver_due()
    assert len([s for s in standin.sent if s.text == "pressed by bob"]) == 1


async def test_clicks_on_unknown_cards_or_verbs_and_forged_admin_clicks_are_refused(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot(routers=[probe.router])
    await standin.say("/probe card")
    [card_sent] = await standin.wait_sent(where=lambda s: s.route == "card")
    track = card_sent.out_track_id
    gone = StandIn.response_of(
        await standin.click("no-such-card", "bob", {"action": "press", "id": "7"})
    )
    assert gone["userPrivateData"]["cardParamMap"]["message"] == "这张卡片已失效。"
    junk = StandIn.response_of(await standin.click(track, "bob", {"action": ["x"], "id": {"a": 1}}))
    assert "已失效" in junk["userPrivateData"]["cardParamMap"]["message"]
    forged = StandIn.response_of(
        await standin.click(track, "mallory", {"action": "guarded", "id": "7"})
    )
    assert "管理员" in forged["userPrivateData"]["cardParamMap"]["message"]
    assert "cardData" not in forged
    allowed = StandIn.response_of(
        await standin.click(track, "admin1", {"action": "guarded", "id": "7"})
    )
    assert allowed["cardData"]["cardParamMap"] == {"guarded": "yes"}


async def test_clicks_arriving_together_are_handled_as_a_run_and_a_failure_spoils_nothing(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot(routers=[probe.router])
    probe.RUNS.clear()
    await standin.say("/probe card")
    [card_sent] = await standin.wait_sent(where=lambda s: s.route == "card")
    track = card_sent.out_track_id
    members = [f"m{i:02d}" for i in range(30)]
    members[7], members[20] = "boom", "nope"
    clicks = [
        standin.click(track, member, {"action": "tally", "id": "7"}, message_id=f"tally-{member}")
        for member in members
    ]
    pushes = await asyncio.gather(*clicks)
    pushes.append(  # a redelivered frame: the answer it got the first time
        await standin.click(track, "m05", {"action": "tally", "id": "7"}, message_id="tally-m05")
    )
    answers = [StandIn.response_of(p)["userPrivateData"]["cardParamMap"] for p in pushes]
    by_member = dict(zip(members, answers, strict=False))
    assert by_member["boom"]["message"] == "操作失败，请稍后再试。"
    assert by_member["nope"]["message"] == "不许点"
    assert answers[-1] == by_member["m05"]
    ok = [m for m in members if m not in ("boom", "nope")]
    assert all(by_member[m]["message"].startswith("run of ") for m in ok)
    # Clicks were handled together; the run with "boom" failed and was retried one by one.
    assert max(len(run) for run in probe.RUNS) > 1
    assert ["boom"] in probe.RUNS
    seen = [m for run in probe.RUNS for m in run if m not in ("boom", "nope")]
    assert sorted(set(seen)) == sorted(ok)
    # Each handled click wrote its reply once (the group's pace delivers them over minutes).
    async with app.db.transaction() as session:
        replies = (await session.execute(select(OutboxMessage.reply))).scalars().all()
    tallied = [json.loads(r)["content"] for r in replies if "tallied" in r]
    assert sorted(tallied) == sorted(f"tallied {m}" for m in ok)


async def test_the_same_click_twice_in_one_batch_is_handled_once(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot(routers=[probe.router])
    await standin.say("/probe card")
    [card_sent] = await standin.wait_sent(where=lambda s: s.route == "card")
    data = {
        "outTrackId": card_sent.out_track_id,
        "userId": "bob",
        "content": json.dumps({"cardPrivateData": {"params": {"action": "tally", "id": "7"}}}),
    }
    probe.RUNS.clear()
    first, second = await asyncio.gather(
        app.clicks.click(data, "twice"), app.clicks.click(data, "twice")
    )
    assert first == second and first["userPrivateData"]["cardParamMap"]["message"] == "run of 1"
    assert probe.RUNS == [["bob"]]


async def test_admin_commands_are_refused_to_members(
    standin: StandIn, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    await start_bot(routers=[probe.router])
    with caplog.at_level(logging.WARNING):
        await standin.say("/secret", sender="mallory", is_admin=True)  # flag not trusted
        await standin.say("/secret", sender="admin1")
        sent = await standin.wait_sent(2)
    assert "admins only" in sent[0].text
    assert sent[1].text == "admin ok"
    assert any(
        "refused" in r.getMessage() and getattr(r, "member", "") == "mallory"
        for r in caplog.records
    )


async def test_the_refusal_log_line_names_the_command_the_member_used(
    standin: StandIn, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    await start_bot(routers=[probe.router])
    with caplog.at_level(logging.WARNING):
        await standin.say("/secret", sender="mallory")
        await standin.wait_sent(1)
    [line] = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert "{command}" not in line and "/secret" in line.split("refused:", 1)[1]


async def test_trusted_dingtalk_admin_flag(standin: StandIn, start_bot: BotFactory) -> None:
    await start_bot(routers=[probe.router], admins={"trust_dingtalk_admin": True})
    await standin.say("/secret", sender="dora", is_admin=True)
    [sent] = await standin.wait_sent(1)
    assert sent.text == "admin ok"


async def test_unexpected_error_apologises_and_logs_the_traceback(
    standin: StandIn, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = await start_bot(routers=[probe.router])
    with caplog.at_level(logging.ERROR):
        push = await standin.say("/probe boom")
        [sent] = await standin.wait_sent(1)
    assert "出了点问题" not in sent.text and "went wrong" in sent.text
    assert "Traceback" not in sent.text and "exploded" not in sent.text
    record = next(r for r in caplog.records if r.exc_info)
    assert "exploded" in str(record.exc_info[1])
    assert push.data["msgId"] in record.getMessage() and record.member == "alice"
    async with app.db.transaction() as session:
        row = await session.scalar(
            select(InboxEvent).where(InboxEvent.key == "msg:" + push.data["msgId"])
        )
    assert row is not None and row.status == "failed"


async def test_user_error_rolls_back_what_the_handler_wrote(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot(routers=[probe.router])
    await standin.say("/probe fail")
    [sent] = await standin.wait_sent(1)
    assert sent.text == "probe failed on purpose"
    await standin.say("/probe wrong")
    sent2 = (await standin.wait_sent(2))[-1]
    assert "card / boom / fail" in sent2.text and "/probe" in sent2.text
    async with app.db.transaction() as session:
        half = await session.get(CardInstance, "half-written")
    assert half is None
    assert not replies_to(standin, "rolled back")


async def test_recorded_but_unprocessed_pushes_are_handled_on_start_up(
    standin: StandIn, start_bot: BotFactory
) -> None:
    # A push recorded and acked by a process that died before handling it.
    app = await start_bot()
    await app.stop()
    data = standin.message("/nosuch-orphan")
    db = Database(app.settings.storage.url)
    async with db.transaction() as session:
        await InboxRepo(session).record_many(
            [
                {
                    "key": "msg:" + data["msgId"],
                    "topic": BOT_TOPIC,
                    "conversation_id": "cid-group-1",
                    "staff_id": "alice",
                    "payload": data,
                }
            ],
            app.clock.now(),
        )
    await db.dispose()
    await start_bot()
    await standin.wait_sent(where=lambda s: "/nosuch-orphan" in s.text)


async def test_long_member_text_and_mention_smuggling_are_neutralised(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot()
    await standin.say("/@all[x](http://evil.example) now")
    await standin.say("x" * 20_000)
    sent = await standin.wait_sent(2)
    assert "@all" not in sent[0].text and "http://" not in sent[0].text
    assert "10000" in sent[1].text and len(sent[1].text) < 200


async def test_ack_waits_for_the_durable_record(standin: StandIn, start_bot: BotFactory) -> None:
    app = await start_bot()
    push = await standin.say("/nosuch-durable", wait_ack=True)
    assert push.ack is not None
    async with app.db.transaction() as session:
        row = await session.scalar(
            select(InboxEvent).where(InboxEvent.key == "msg:" + push.data["msgId"])
        )
    assert row is not None and json.loads(row.payload)["msgId"] == push.data["msgId"]
    await asyncio.wait_for(app.drain(), 5)
