"""Sending as the robot APIs enforce it, through the real SDK and the stricter stand-in.

Sources of the rules (each also next to the code that follows it):
- No ``at`` in groupMessages/send or oToMessages/batchSend: dingtalk-stream-sdk-go #19,
  openclaw-connector #402, alibabacloud-dingtalk robot_1_0 request models; the session
  webhook mentions through ``at.atUserIds`` with "@id" in the text.
- msgParam ≤ 15,000 bytes (help.dingtalk.io group send).
- batchSend's HTTP 200 lists (robot_1_0 BatchSendOTOResponseBody).
- ``Forbidden.AccessDenied.ApiCountLimitForOrg`` and the HTML per-IP ban page (throttling doc).
"""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from bot.app import Application
from bot.replies import ToMembers
from bot.sandbox.standin import MSG_PARAM_MAX, StandIn
from storage.models import OutboxMessage
from tests.conftest import BotFactory, eventually
from tests.scenario import probe


async def _rows(app: Application) -> list[OutboxMessage]:
    """The outbox rows of the conversation, without the operators' alerts (bot.alerts)."""
    async with app.db.transaction() as session:
        rows = list((await session.execute(select(OutboxMessage))).scalars())
    return [r for r in rows if not r.idem_key.startswith(("alert:", "job:ops-alerts:"))]


async def test_mentions_only_through_the_session_webhook_never_as_text_in_group_posts(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot(routers=[probe.router])
    await standin.say("/probe mention")
    [reply] = await standin.wait_sent(where=lambda s: s.route == "webhook")
    [post] = await standin.wait_sent(where=lambda s: s.route == "group")
    assert reply.at_ids == ["bob"] and "@bob" in reply.text
    assert post.text == "轮到你了"
    assert not standin.violations


async def test_long_group_posts_are_split_under_the_msg_param_limit(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot(routers=[probe.router])
    await standin.say("/probe long")
    await standin.wait_sent(where=lambda s: s.route == "group" and "1200 号" in s.text)
    parts = [s for s in standin.sent if s.route == "group"]
    assert len(parts) > 1 and not standin.rejected
    bodies = [b for p, b in standin.requests if p.endswith("groupMessages/send")]
    assert all(len(b["msgParam"].encode()) <= MSG_PARAM_MAX for b in bodies)
    lines = "\n".join(p.text for p in parts).splitlines()
    assert [int(line[:4]) for line in lines] == list(range(1, 1201))


async def test_batch_send_partial_answers_retry_the_throttled_and_fail_the_invalid(
    standin: StandIn, start_bot: BotFactory
) -> None:
    standin.faults.invalid_users = {"u2"}
    standin.faults.filtered_users = {"u4"}
    standin.faults.flow_control_once = {"u3"}
    app = await start_bot(routers=[probe.router])
    await standin.say("/probe members")
    await standin.wait_sent(where=lambda s: s.route == "o2o" and s.user_ids == ["u3"])
    got = [u for s in standin.sent if s.route == "o2o" for u in s.user_ids]
    assert sorted(got) == ["u1", "u3"]

    async def settled() -> dict[str, tuple[str, str]]:
        out: dict[str, tuple[str, str]] = {}
        for row in await _rows(app):
            to = json.loads(row.reply)["to"]
            if to.get("kind") == "members":
                for user in ToMembers.model_validate(to).staff_ids:
                    out[user] = (row.status, row.last_error)
        return out

    states: dict[str, tuple[str, str]] = {}

    async def check() -> bool:
        states.update(await settled())
        return all(
            states.get(u, ("", ""))[0] in ("sent", "failed") for u in ("u1", "u2", "u3", "u4")
        )

    for _ in range(200):
        if await check():
            break
        await app.sender.deliver_due()
    assert states["u1"][0] == "sent" and states["u3"][0] == "sent"
    assert states["u2"] == ("failed", "invalidStaffIdList")
    assert states["u4"] == ("failed", "filteredStaffIdList")


async def test_the_monthly_quota_is_its_own_error_told_to_admins_once(
    standin: StandIn, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = await start_bot(routers=[probe.router])
    await standin.say("/帮助", sender="admin1")  # the admin's session is open
    await standin.wait_sent(1)
    standin.faults.quota_exhausted = True
    with caplog.at_level(logging.ERROR, logger="bot.sender"):
        await standin.say("/probe group")
        await standin.say("/probe group", msg_id="second-post")
        notice = await standin.wait_sent(where=lambda s: "调用额度已用完" in s.text)
        await eventually(
            lambda: len([r for _, r in standin.rejected if r.endswith("ApiCountLimitForOrg")]) >= 3
        )
    assert len(notice) == 1 and notice[0].route == "webhook"
    meaning = [
        r.getMessage()
        for r in caplog.records
        if r.name == "bot.sender" and "ApiCountLimitForOrg" in r.getMessage()
    ]
    assert len(meaning) == 1 and "monthly" in meaning[0]
    standin.faults.quota_exhausted = False
    app.sender.wake()
    await standin.wait_sent(2, where=lambda s: s.route == "group" and s.text == "群公告")
    assert len([s for s in standin.sent if "调用额度已用完" in s.text]) == 1


@pytest.mark.parametrize("route", ["group", "webhook"])
async def test_an_html_ban_page_is_a_failure_to_retry_never_a_success(
    standin: StandIn, start_bot: BotFactory, route: str
) -> None:
    await start_bot(routers=[probe.router])
    standin.faults.html_ban = 1
    await standin.say("/probe group" if route == "group" else "/帮助")
    await standin.wait_sent(where=lambda s: s.route == route)
    assert "html-ban" in {code for _, code in standin.rejected}


async def test_a_one_to_one_reply_to_an_invalid_user_is_failed_with_the_reason(
    standin: StandIn, start_bot: BotFactory
) -> None:
    standin.faults.invalid_users = {"ghost"}
    standin.faults.expire_sessions = True  # so the reply goes through batchSend
    app = await start_bot()
    await standin.say("/帮助", sender="ghost", conversation="cid-o2o-ghost", conversation_type="1")

    async def failed() -> list[OutboxMessage]:
        return [r for r in await _rows(app) if r.status == "failed"]

    rows: list[OutboxMessage] = []
    for _ in range(200):
        rows = await failed()
        if rows:
            break
        await app.sender.deliver_due()
    assert [(r.last_error, r.attempts) for r in rows] == [("invalidStaffIdList", 1)]
    # Only the reply's own rows: the operators' alert about it (bot.alerts) is a row of its own,
    # written when the failure is reported, so whether it exists yet depends on timing.
    mine = [r for r in await _rows(app) if r.conversation_id == "cid-o2o-ghost"]
    assert [r.status for r in mine] == ["failed"]
    assert not [s for s in standin.sent if s.route == "o2o" and "ghost" in s.user_ids]
