"""Nothing lost, nothing doubled: poison pushes, dead letters, garbage frames, late redeliveries."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy import text as sql_text

from bot import dispatch
from bot.clock import ManualClock, utcnow
from bot.context import MessageContext
from bot.i18n import Text
from bot.replies import TextReply
from bot.router import Router
from bot.sandbox.standin import BOT_TOPIC, CARD_TOPIC, Sent, StandIn
from bot.sender import Sender
from storage.admin import PrivacyRepo
from storage.models import Base, InboxEvent, LedgerEntry, OutboxMessage, Signup, Story
from storage.repositories import OutboxRepo
from tests.conftest import BotFactory, eventually
from tests.processes import start_process, write_config
from tests.scenario.test_skills import first_id, propose
from tests.scenario.test_stories import reply_texts, say
from tests.scenario.test_volunteers import NOW as VOLUNTEER_NOW
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
        await eventually(lambda: app.inbox.dead_letters == 1)
    finally:
        app.dispatcher.run_command = real  # type: ignore[method-assign]
    async with app.db.transaction() as session:
        row = (
            await session.execute(select(InboxEvent).where(InboxEvent.key == "msg:doomed"))
        ).scalar_one()
    assert row.status == "dead" and "exploded" in row.error and "no apology" in row.error
    assert await app.jobs.run_job("inbox-sweep")
    assert app.inbox.idle


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
    assert app.inbox.dead_letters == 0


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


_LEDGER_BOTS: dict[int, Any] = {}
MEMBERS = ["ann", "ben", "cat", "dan"]
_step = st.one_of(
    st.tuples(
        st.just("swap"),
        st.integers(0, 3),
        st.integers(0, 3),
        st.sampled_from([0.5, 1.0, 2.5]),
        st.booleans(),
    ),
    st.tuples(st.just("forget"), st.integers(0, 3)),
    st.tuples(st.just("reuse"), st.integers(0, 3), st.integers(0, 3)),
)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_step, min_size=1, max_size=5))
@example([("reuse", 0, 1), ("forget", 1), ("swap", 1, 2, 1.0, True), ("reuse", 2, 0)])
async def test_the_ledger_sums_to_zero_after_swaps_erasures_races_and_number_reuse(
    standin: StandIn, start_bot: BotFactory, steps: list[tuple[Any, ...]]
) -> None:
    # One bot per stand-in (so per test run): the examples pile up in one ledger.
    app = _LEDGER_BOTS.get(id(standin))
    if app is None:
        app = _LEDGER_BOTS[id(standin)] = await start_bot(cards={})
    for step in steps:
        if step[0] == "forget":
            await say(standin, "/删除我的数据", sender=MEMBERS[step[1]])
            await say(standin, "/删除我的数据 确认", sender=MEMBERS[step[1]])
            continue
        teacher_i, learner_i = step[1], step[2]
        if teacher_i == learner_i:
            continue
        teacher, learner = MEMBERS[teacher_i], MEMBERS[learner_i]
        posted = await say(standin, f"/我会 技能{teacher_i}{learner_i}", sender=teacher)
        swap_id = await propose(standin, first_id(posted.text), learner)
        await say(standin, f"/交换 接受 {swap_id}", sender=teacher)
        await say(standin, f"/交换完成 {swap_id} 2", sender=learner)
        if step[0] == "reuse":
            # A leftover of an erased swap that had this number (what an id handed out
            # twice leaves behind): balanced on its own, sharing the teacher's account.
            async with app.db.transaction() as session:
                for account, amount in ((teacher, 4.0), ("erased:someone", -4.0)):
                    session.add(
                        LedgerEntry(
                            conversation_id="cid-group-1",
                            swap_id=swap_id,
                            account=account,
                            amount=amount,
                            at=app.clock.now(),
                        )
                    )
            sent = await say(standin, f"/交换 确认 {swap_id}", sender=teacher)
            assert "没能记账" in sent.text and "+" not in sent.text, sent.text
            continue
        race = step[4]
        confirms = [say(standin, f"/交换 确认 {swap_id}", sender=teacher)]
        if race:  # pressed twice at once: booked once
            confirms.append(say(standin, f"/交换 确认 {swap_id}", sender=teacher))
        answers = await asyncio.gather(*confirms)
        assert sum("已确认" in a.text for a in answers) == 1, [a.text for a in answers]
    async with app.db.transaction() as session:
        total = await session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0.0)))
        per_swap = (
            await session.execute(
                select(LedgerEntry.swap_id, func.count(), func.sum(LedgerEntry.amount)).group_by(
                    LedgerEntry.swap_id
                )
            )
        ).all()
    assert abs(total) < 1e-9
    for swap, legs, amount in per_swap:
        assert legs in (2, 4) and abs(amount) < 1e-9, (swap, legs, amount)


async def test_after_forget_no_row_and_no_page_of_the_database_files_holds_the_member(
    standin: StandIn, start_bot: BotFactory, tmp_path: Path, backend: str
) -> None:
    who, nick, words = "stf8472zq", "Zyxwquill", "Quokkabananas"
    app = await start_bot(
        cards={"story_template": "tpl-story", "event_template": "tpl-event"},
        stories={"review_default": False},
        clock=ManualClock(VOLUNTEER_NOW),
    )
    story = await reply_texts(standin, f"/故事 {words}标题 | {words}正文", 2, sender=who, nick=nick)
    bob = await reply_texts(standin, "/故事 鲍勃 | 鲍勃的故事", 2, sender="bob")
    story_id = int(story[0].text.split("#")[1].split(" ")[0])
    await say(standin, f"/赞 {int(bob[0].text.split('#')[1].split(' ')[0])}", sender=who, nick=nick)
    await standin.click(story[1].out_track_id, "bob", {"action": "like", "id": str(story_id)})
    # A swap with credits, so the ledger keeps a (pseudonymous) leg.
    await say(standin, f"/我会 {words}技能 | 周末", sender=who, nick=nick)
    posts = await say(standin, "/技能", sender="bob")
    swap_id = await propose(standin, first_id(posts.text), "bob")
    await say(standin, f"/交换 接受 {swap_id}", sender=who, nick=nick)
    await say(standin, f"/交换完成 {swap_id} 2", sender="bob")
    await say(standin, f"/交换 确认 {swap_id}", sender=who, nick=nick)
    # A sign-up by card, an admin action about the member, and their /mydata dump.
    event_id, track = await publish(standin, seats=3)
    await standin.click(track, who, {"action": "join", "id": str(event_id)})
    await say(standin, f"/封禁 {who}", sender="admin1")
    await say(standin, f"/解封 {who}", sender="admin1")
    report = await say(standin, "/我的数据", sender=who, nick=nick)
    # The dump goes one to one through batchSend, paced by the API's rate: it may come
    # after the group's answer.
    [dump_sent, *_] = await standin.wait_sent(
        where=lambda s: s.route == "o2o" and who in s.user_ids and "存储" in s.text
    )
    dump = dump_sent.text
    assert "发给你或提到你的消息副本" in dump and "审计记录" in dump, dump
    assert "已私信" in report.text

    await say(standin, "/删除我的数据", sender=who, nick=nick)
    sent = await say(standin, "/删除我的数据 确认", sender=who, nick=nick)
    assert "已删除你在本群的数据" in sent.text and "审计记录 2 条" in sent.text, sent.text

    async def unsent() -> int:
        async with app.db.transaction() as session:
            return int(
                await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status != "sent")
                )
                or 0
            )

    for _ in range(500):
        if await unsent() == 0:
            break
        await asyncio.sleep(0.02)  # polling the database for the sender to finish
    await app.sender.stop()  # every mark committed
    assert await unsent() == 0
    async with app.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                for needle in (who, nick, words):
                    assert needle not in str(row), (table.name, row)
        legs = (await session.execute(select(LedgerEntry.account))).scalars().all()
        assert (
            sorted(legs)[0] == "bob"
            and legs
            and all(a == "bob" or a.startswith("erased:") for a in legs)
        )
    # Not just the rows: no page of the database files (WAL included) keeps them either,
    # read while the bot runs (closing the last connection would checkpoint the WAL anyway).
    if not app.db.is_sqlite:
        return  # PostgreSQL's files are the server's, not this test's to read
    if backend != "sqlite":
        return  # PostgreSQL: rows are checked above; vacuum reclaims the space (README)
    files = _database_files(tmp_path)
    assert set(files) >= {"bot.sqlite3"}
    for name, data in files.items():
        for needle in (who, nick, words):
            at = data.find(needle.encode())
            assert at < 0, (name, needle, data[max(0, at - 300) : at + 100])


def _database_files(folder: Path) -> dict[str, bytes]:
    """The bytes of the SQLite database file and its -wal / -shm companions."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name.startswith("bot.sqlite3")}


# -- the smaller defects ---------------------------------------------------------------------


async def test_numbers_get_the_right_complaint(standin: StandIn, start_bot: BotFactory) -> None:
    await start_bot()
    sent = await say(standin, "/赞 0")
    assert "应不小于 1" in sent.text and "None" not in sent.text, sent.text
    sent = await say(standin, "/赞 1234567890123")  # 13 digits: a number, just no such story
    assert "没有编号为 1234567890123 的故事" in sent.text, sent.text
    sent = await say(standin, "/赞 99999999999999999999")
    assert "9223372036854775807" in sent.text and "整数" not in sent.text, sent.text


async def test_a_superscript_click_id_is_refused_not_a_failure(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot(cards={"story_template": "tpl-story"}, stories={"review_default": False})
    story = await reply_texts(standin, "/故事 上标 | 上标的故事", 2, sender="alice")
    track = story[1].out_track_id
    push = await standin.click(track, "bob", {"action": "like", "id": "²"})
    message = StandIn.response_of(push)["userPrivateData"]["cardParamMap"]["message"]
    assert "操作失败" not in message and message, message


async def test_a_click_is_checked_against_the_card_it_came_from(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot(
        cards={"event_template": "tpl-event", "review_template": "tpl-review"},
        clock=ManualClock(VOLUNTEER_NOW),
    )
    submitted = await say(standin, "/故事 待审 | 等待审核的故事", sender="alice")
    story_id = submitted.text.split("#")[1].split(" ")[0].split("「")[0]
    event_id, track = await publish(standin, seats=3)
    # An admin's client sends "approve" for the story on the event card: not that card's.
    push = await standin.click(track, "admin1", {"action": "approve", "id": story_id})
    message = StandIn.response_of(push)["userPrivateData"]["cardParamMap"]["message"]
    assert "失效" in message, message
    # The card's own verb with another entity's id is refused as well.
    push = await standin.click(track, "bob", {"action": "join", "id": str(event_id + 1)})
    assert "失效" in StandIn.response_of(push)["userPrivateData"]["cardParamMap"]["message"]
    async with app.db.transaction() as session:
        status = await session.scalar(select(Story.status).where(Story.id == int(story_id)))
    assert status == "pending"
    push = await standin.click(track, "bob", {"action": "join", "id": str(event_id)})
    assert StandIn.response_of(push)["userPrivateData"]["cardParamMap"]["state"] == "已报名"


async def test_invisible_characters_and_app_links_in_member_text(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot(stories={"review_default": False})
    sent = await say(standin, "\u200b\u2060/帮助")
    assert "我能做这些" in sent.text, sent.text
    sent = await say(
        standin,
        "/故事 标\u200b题\ufeff | dtmd://dingtalkclient/sendMessage?content=hi",
        sender="al",
    )
    assert "已发布" in sent.text
    async with app.db.transaction() as session:
        title = await session.scalar(select(Story.title))
    assert title == "标题"
    shown = [s.text for s in await standin.wait_sent(where=lambda s: "sendMessage" in s.text)]
    assert shown and all("dtmd://" not in t for t in shown), shown


async def test_banned_members_cannot_record_or_confirm_swaps(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot()
    await say(standin, "/我会 吉他", sender="alice")
    swap_id = await propose(standin, 1, "bob")
    await say(standin, f"/交换 接受 {swap_id}", sender="alice")
    await say(standin, "/封禁 bob", sender="admin1")
    sent = await say(standin, f"/交换完成 {swap_id} 2", sender="bob")
    assert "暂时不能" in sent.text, sent.text
    await say(standin, f"/交换完成 {swap_id} 2", sender="alice")
    sent = await say(standin, f"/交换 确认 {swap_id}", sender="bob")
    assert "暂时不能" in sent.text, sent.text


async def test_a_corrupted_database_stops_start_up_with_one_clear_line(
    standin: StandIn, tmp_path: Path
) -> None:
    config = write_config(standin, tmp_path)
    _write(tmp_path / "bot.sqlite3", b"this is not a database" * 200)
    proc = await start_process(config, tmp_path)
    assert await asyncio.wait_for(proc.wait(), 60) == 3
    log = _read(tmp_path / "bot.log")
    assert "Traceback" not in log
    [line] = [ln for ln in log.splitlines() if ln.startswith("community-bot:")]
    assert "database error" in line and "bot.sqlite3" in line and "not a database" in line


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


# -- kill -9 between a send and its mark -----------------------------------------------------


@pytest.mark.backends("sqlite")  # reads the database file as another process would
async def test_a_reply_is_marked_sent_before_the_members_next_one_goes(
    standin: StandIn, start_bot: BotFactory, tmp_path: Path
) -> None:
    await start_bot()
    seen: list[str] = []

    def on_sent(sent: Sent) -> None:
        if "/nosuch-second" in sent.text:
            # What a kill -9 at this moment would leave: is the first reply marked?
            seen.append(_status_of(tmp_path / "bot.sqlite3", "/nosuch-first"))

    standin.listeners.append(on_sent)
    await asyncio.gather(
        standin.push(BOT_TOPIC, standin.message("/nosuch-first")),
        standin.push(BOT_TOPIC, standin.message("/nosuch-second")),
    )
    await standin.wait_sent(where=lambda s: "/nosuch-second" in s.text)
    assert seen == ["sent"]


def _status_of(path: Path, needle: str) -> str:
    """A row's status as another process would read it (a plain sqlite3 connection)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        row = conn.execute(
            "SELECT status FROM outbox WHERE reply LIKE ?", (f"%{needle}%",)
        ).fetchone()
    return str(row[0]) if row else "missing"


# -- replies never silently lost ---------------------------------------------------------------


async def _outbox_attempts(app: Any, needle: str) -> int:
    async with app.db.transaction() as session:
        rows = (
            (
                await session.execute(
                    select(OutboxMessage.attempts).where(OutboxMessage.reply.contains(needle))
                )
            )
            .scalars()
            .all()
        )
    return max(rows, default=0)


async def test_throttling_is_waited_out_while_the_reply_is_useful(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock()
    app = await start_bot(clock=clock, sender={"max_attempts": 2})
    standin.faults.throttle_every = 1  # every send: QpsLimit / 130101
    await standin.push(BOT_TOPIC, standin.message("/nosuch-patience"))
    for _ in range(500):
        if await _outbox_attempts(app, "/nosuch-patience") >= 4:
            break
        await asyncio.sleep(0.02)  # polling the database for the sender's retries
    assert await _outbox_attempts(app, "/nosuch-patience") >= 4  # past max_attempts
    clock.advance(timedelta(minutes=30))  # half an hour of throttling: still useful
    standin.faults.throttle_every = 0
    await standin.wait_sent(where=lambda s: "/nosuch-patience" in s.text, timeout=15)


async def test_a_reply_given_up_in_the_group_reaches_its_member_one_to_one(
    standin: StandIn, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock()
    app = await start_bot(clock=clock)
    # The webhook and the group API stay throttled; one to one still works.
    standin.faults.throttle_paths = frozenset(
        {"/robot/sendBySession", "/v1.0/robot/groupMessages/send"}
    )
    await standin.push(BOT_TOPIC, standin.message("/nosuch-rerouted", sender="ann"))
    for _ in range(500):
        if await _outbox_attempts(app, "/nosuch-rerouted") >= 2:
            break
        await asyncio.sleep(0.02)  # polling the database for the sender's retries
    clock.advance(timedelta(hours=7))  # past the horizon: give up, but not silently
    [sent] = await standin.wait_sent(
        where=lambda s: "/nosuch-rerouted" in s.text and s.route == "o2o", timeout=15
    )
    assert sent.user_ids == ["ann"]
    assert any("given up in the group" in r.getMessage() for r in caplog.records)


async def test_an_unreachable_webhook_falls_back_to_the_openapi_at_once(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot()
    data = standin.message("/nosuch-unreachable")
    data["sessionWebhook"] = "http://127.0.0.1:9/robot/sendBySession?session=gone"  # refused
    await standin.push(BOT_TOPIC, data)
    [sent] = await standin.wait_sent(where=lambda s: "/nosuch-unreachable" in s.text)
    assert sent.route == "group"
    assert await _outbox_attempts(app, "/nosuch-unreachable") == 0  # no retry on the way


# -- erasure while a reply is on the wire -------------------------------------------------------


async def _lock_waiters(app: Any) -> int:
    """PostgreSQL sessions of this test's database whose outbox UPDATE waits for a row lock."""
    async with app.db.transaction() as session:
        waiting = await session.scalar(
            sql_text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND query ILIKE 'UPDATE outbox%'"
            )
        )
    return int(waiting or 0)


async def test_a_reply_on_the_wire_while_its_member_is_erased_is_deleted_when_marked(
    standin: StandIn, start_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interleaving CI hit under load, forced step by step: a reply to the member has
    reached DingTalk and its sent-mark is not yet written when ``/删除我的数据 确认`` flags
    the member's waiting rows; the mark then runs while the erasure's unit of work is still
    open (on PostgreSQL it waits for the erasure's row lock and is applied to the row as the
    erasure left it; on SQLite it queues for the one writer). After the mark nothing of the
    member may remain in the outbox.

    The hold is taken before the mark's transaction, never inside it: holding a mark inside
    its transaction holds SQLite's writer lock, so the erasure (and the member's messages
    that lead to it) could never be recorded, which is what hung the first version.
    """
    who, nick, words = "stf5521qx", "Plumquark", "Zebrafennel"
    async with asyncio.timeout(60):  # a guard: every wait below is bounded anyway
        app = await start_bot(sender={"lease_seconds": 1.0})
        await say(standin, "/帮助", sender=who, nick=nick)  # the member is known by their nick

        target: list[int] = []
        on_wire, go_mark, mark_begun, marked = (asyncio.Event() for _ in range(4))
        erasing, go_erase = asyncio.Event(), asyncio.Event()
        real_flush = Sender._flush_marks
        real_copies = PrivacyRepo.erase_message_copies

        async def held_flush(self: Sender) -> bool:
            async with app.db.transaction() as session:
                ids = (
                    await session.scalars(
                        select(OutboxMessage.id).where(OutboxMessage.reply.contains(words))
                    )
                ).all()
            holding = not go_mark.is_set() and any(oid in ids for oid, _ in self._to_mark)
            if holding:
                target.extend(ids)
                on_wire.set()  # sent, its mark not begun: what a kill -9 would find
                await go_mark.wait()
                mark_begun.set()  # the real flush runs from here without a pause first
            done = await real_flush(self)
            if holding:
                marked.set()
            return done

        async def paused_copies(
            self: PrivacyRepo, cid: str, staff_id: str, nicks: list[str]
        ) -> int:
            erased = await real_copies(self, cid, staff_id, nicks)
            erasing.set()
            await go_erase.wait()  # the erasure's unit of work stays open, its locks held
            return erased

        monkeypatch.setattr(Sender, "_flush_marks", held_flush)
        monkeypatch.setattr(PrivacyRepo, "erase_message_copies", paused_copies)
        await standin.say(f"/nosuch-{words}", sender=who, nick=nick)
        await standin.wait_sent(where=lambda s: words in s.text)
        await asyncio.wait_for(on_wire.wait(), 10)

        await say(standin, "/删除我的数据", sender=who, nick=nick)
        confirm = asyncio.create_task(say(standin, "/删除我的数据 确认", sender=who, nick=nick))
        await asyncio.wait_for(erasing.wait(), 10)  # the row is flagged, not yet committed
        go_mark.set()
        await asyncio.wait_for(mark_begun.wait(), 10)
        # On SQLite the mark queued for the writer lock the erasure holds as soon as it
        # began (storage.db: one FIFO writer), before this line ran: nothing to wait for.
        if not app.db.is_sqlite:
            for _ in range(500):  # bounded: 10 s; no event tells when a server waits
                if await _lock_waiters(app):
                    break
                await asyncio.sleep(0.02)
            else:
                raise AssertionError("the mark never waited for the erasure's row lock")
        assert not marked.is_set()
        go_erase.set()
        done = await asyncio.wait_for(confirm, 20)
        assert "已删除你在本群的数据" in done.text, done.text
        await asyncio.wait_for(marked.wait(), 10)
        await app.sender.finish()  # the confirmation's own mark too (it names the member)

        async with app.db.transaction() as session:
            rows = (await session.execute(select(OutboxMessage))).scalars().all()
        assert target and not [r for r in rows if r.id in target]
        for row in rows:
            for needle in (who, nick, words):
                assert needle not in f"{row.reply} {row.reply_staff_id} {row.idem_key}", (
                    row.id,
                    row.status,
                    row.route,
                    row.reply,
                )


# -- a row another sender took is theirs ---------------------------------------------------------

_parts = Router("parts")


@_parts.command("twice", help=Text("两段回复", "a reply in two parts"), hidden=True)
async def _twice(ctx: MessageContext) -> list[TextReply]:
    return [TextReply(content="第一段 /twice-one"), TextReply(content="第二段 /twice-two")]


async def test_a_row_another_sender_took_and_sent_is_never_set_back_to_pending(
    standin: StandIn, start_bot: BotFactory
) -> None:
    """What the fault run found with three processes on PostgreSQL (108 of 600 replies
    doubled with no kill at all): a sender held a row behind a throttled one, the row's
    lease lapsed, another process took it, sent it and marked it; the first sender then
    "rescheduled" it, setting it back to pending with its webhook blanked, and it went out
    again through the group API. Here the other process's send and mark are what the test
    writes while the first part is on the wire."""
    async with asyncio.timeout(60):
        app = await start_bot(routers=[_parts])
        hold = asyncio.Event()
        standin.faults.hold_sends = hold
        standin.faults.throttle_paths = frozenset({"/robot/sendBySession"})  # 130101
        await standin.say("/twice", sender="ann")
        await eventually(lambda: standin.holding == 1, timeout=10)  # part one on the wire
        async with app.db.transaction() as session:
            [second] = (
                await session.scalars(
                    select(OutboxMessage.id).where(OutboxMessage.reply.contains("twice-two"))
                )
            ).all()
            # Another process took part two (its lease lapsed), sent it and marked it.
            await OutboxRepo(session).mark_sent([(second, "webhook")], utcnow())
        hold.set()  # part one is throttled: part two, behind it, is held back too
        for _ in range(500):  # bounded: polling the database for the failed attempt
            if await _outbox_attempts(app, "twice-one") >= 1:
                break
            await asyncio.sleep(0.02)
        standin.faults.throttle_paths = frozenset()
        await standin.wait_sent(where=lambda s: "twice-one" in s.text)
        # The member's next reply comes after anything still due for them (same order key).
        await say(standin, "/nosuch-after-twice", sender="ann")
        assert not [s for s in standin.sent if "twice-two" in s.text]
        async with app.db.transaction() as session:
            status = await session.scalar(
                select(OutboxMessage.status).where(OutboxMessage.id == second)
            )
        assert status == "sent"
