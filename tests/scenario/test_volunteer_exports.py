"""Organisers' spreadsheets (issue 17) through the real SDK and the stand-in: the .xlsx is
uploaded as media of type file and sent one to one as the robot's file message; the test
opens it with openpyxl and checks rows and totals against the database."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.errors import DeliveryFailed
from bot.sandbox.standin import StandIn
from storage.models import LedgerEntry, VolunteerHours
from storage.swaps import LedgerRepo
from tests.conftest import BotFactory
from tests.scenario.test_stories import say
from tests.scenario.test_volunteers import NOW, START, publish, start


async def exported(standin: StandIn, command: str, sender: str = "admin1") -> Any:
    """Send an export command; the reply, and the workbook the admin received."""
    before = len(standin.sent)
    sent = await say(standin, command, sender=sender)
    assert "已私信发给你" in sent.text or "sent to you privately" in sent.text, sent.text
    [file] = await standin.wait_sent(
        where=lambda s: s.msg_key == "sampleFile" and standin.sent.index(s) >= before
    )
    assert file.route == "o2o" and file.user_ids == [sender]
    assert file.param["fileType"] == "xlsx" and file.param["fileName"].endswith(".xlsx")
    data, _, name = standin.media[file.param["mediaId"]]
    assert name == file.param["fileName"]
    return sent, openpyxl.load_workbook(io.BytesIO(data))


def rows(sheet: Any) -> list[list[Any]]:
    return [[c.value for c in row] for row in sheet.iter_rows()]


async def test_exports_are_workbooks_sent_one_to_one_whose_rows_match_the_database(
    standin: StandIn, start_bot: BotFactory
) -> None:
    clock = ManualClock(NOW)
    app = await start(start_bot, clock)
    first, _ = await publish(standin, seats=2)
    for member in ("alice", "bob", "carol"):  # carol waits
        await say(standin, f"/报名 {first}", sender=member)
    second, _ = await publish(standin, seats=5, title="清扫")
    await say(standin, f"/报名 {second}", sender="bob")
    clock.set(START + timedelta(hours=4))
    await say(standin, f"/活动 结束 {first}", sender="admin1")  # alice and bob, 3 h each
    await say(standin, f"/活动 结束 {second} +Carol", sender="admin1")  # bob and carol

    # Hours: one row per credited activity, names and local times, totals that add up.
    sent, book = await exported(standin, "/导出 时长")
    assert "（4 行）" in sent.text, sent.text
    assert book.sheetnames == ["明细", "按成员"]
    detail = rows(book["明细"])
    assert detail[0] == ["成员", "活动编号", "活动", "活动时间", "时长（小时）", "记录时间"]
    body, totals = detail[1:-1], detail[-1]
    async with app.db.transaction() as session:
        db = (await session.execute(select(VolunteerHours.staff_id, VolunteerHours.event_id))).all()
        db_total = await session.scalar(select(func.sum(VolunteerHours.hours)))
    names = {"alice": "Alice", "bob": "Bob", "carol": "Carol"}
    assert sorted((r[0], r[1]) for r in body) == sorted((names[s], e) for s, e in db)
    assert {r[3].strftime("%Y-%m-%d %H:%M") for r in body} == {"2026-03-12 09:00"}  # local
    assert totals[0] == "合计" and totals[4] == db_total == 12
    assert not any("alice" in str(c) or "admin1" in str(c) for r in detail for c in r)
    per_member = rows(book["按成员"])
    assert per_member[1] == ["Bob", 2, 6] and per_member[-1] == ["合计", 4, 12]

    # A range, by the activity's date: nothing before 3-12, and the English alias.
    _, book = await exported(standin, "/export hours 2026-03-13 2026-03-31")
    assert rows(book["明细"])[1:-1] == []
    _, book = await exported(standin, "/导出 时长 3月12日 3月12日")
    assert rows(book["明细"])[-1][4] == 12

    # The roster: confirmed, then the waitlist, with the hours credited; carol was added.
    _, book = await exported(standin, f"/导出 名单 {first}")
    roster = rows(book.active)
    assert roster[0] == ["序号", "成员", "状态", "报名时间", "签到时间", "获得时长（小时）"]
    assert [(r[1], r[2], r[5]) for r in roster[1:-1]] == [
        ("Alice", "已报名", 3),
        ("Bob", "已报名", 3),
        ("Carol", "候补第 1 位", None),
    ]
    assert roster[-1][0] == "合计" and roster[-1][5] == 6 and "候补 1" in roster[-1][2]
    _, book = await exported(standin, f"/导出 名单 {second}")
    assert [(r[1], r[2]) for r in rows(book.active)[1:-1]] == [("Bob", "已报名"), ("Carol", "补记")]

    # Time credits: every account's balance, summing to zero as the ledger does.
    async with app.db.transaction() as session:
        await LedgerRepo(session).transfer("cid-group-1", 1, "alice", "bob", 2.0, NOW)
        await LedgerRepo(session).transfer("cid-group-1", 2, "carol", "bob", 1.5, NOW)
        ledger = (await session.execute(select(LedgerEntry.account, LedgerEntry.amount))).all()
    _, book = await exported(standin, "/导出 时间币")
    credits = rows(book.active)
    assert credits[0] == ["成员", "获得（小时）", "支出（小时）", "余额（小时）", "交换次数"]
    balances = {r[0]: r[3] for r in credits[1:-1]}
    expected: dict[str, float] = {}
    for account, amount in ledger:
        expected[names[account]] = expected.get(names[account], 0) + amount
    assert balances == expected == {"Alice": 2.0, "Carol": 1.5, "Bob": -3.5}
    assert credits[-1] == ["合计", 3.5, 3.5, 0, None]


async def test_exports_refuse_members_and_bad_input_and_the_platform_refuses_bad_files(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start(start_bot)
    first, _ = await publish(standin)
    checks = [
        ("/导出 时长", "bob", "管理员"),
        ("/导出 时长 上个月", "admin1", "看不懂日期"),
        ("/导出 时长 2026-03-31 2026-03-01", "admin1", "晚于"),
        ("/导出 名单 99", "admin1", "没有编号为 99"),
        ("/导出 名单", "admin1", "缺少「活动编号」"),
    ]
    for text, sender, needle in checks:
        sent = await say(standin, text, sender=sender)
        assert needle in sent.text, (text, sent.text)
    assert not [s for s in standin.sent if s.msg_key == "sampleFile"]

    # The media upload takes only the file types DingTalk lists, up to 20 MB, and a file
    # message only a media id uploaded as a file (上传媒体文件; 机器人发送消息的类型).
    api = app.sender.api
    with pytest.raises(DeliveryFailed):
        await api.media_upload(b"MZ", "tool.exe", "", kind="file")
    with pytest.raises(DeliveryFailed):
        await api.media_upload(b"x" * (20 * 1024 * 1024 + 1), "big.xlsx", "", kind="file")
    picture = await api.media_upload(b"\x89PNG\r\n\x1a\n" + b"0" * 10, "a.png", "image/png")
    with pytest.raises(DeliveryFailed):
        param = {"mediaId": picture, "fileName": "a.xlsx", "fileType": "xlsx"}
        await api.members_send(["admin1"], "sampleFile", param)
    assert [code for _, code in standin.rejected][-3:] == ["40005", "40006", "param.invalid"]
    del first
