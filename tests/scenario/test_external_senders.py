"""Senders without ``senderStaffId`` (external contacts; an app not yet published).

Sources: ``senderStaffId`` is absent for them (help.dingtalk.io receive-message field table;
eryajf/chatgpt-dingtalk #63); the encrypted ``senderId`` is not a userId, batchSend answers
``staffId.notExisted`` for it (DingTalk-Real-AI/dingtalk-openclaw-connector #431) or lists it in
``invalidStaffIdList`` (robot_1_0 BatchSendOTOResponseBody). Card clicks carry ``userId``.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.errors import DeliveryFailed
from bot.outbox import NO_PRIVATE_CHAT
from bot.sandbox.standin import StandIn
from storage.models import OutboxMessage
from tests.conftest import BotFactory
from tests.scenario import probe


def _no_openapi_call_named_an_encrypted_id(standin: StandIn) -> bool:
    return all(
        not uid.startswith("$:")
        for sent in standin.sent
        for uid in sent.user_ids
        if sent.route == "o2o"
    ) and not any(code == "staffId.notExisted" for _, code in standin.rejected)


async def test_a_private_reply_in_a_group_says_it_cannot_be_sent(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot()
    await standin.say("/我的数据", sender="guest", nick="访客", staff=False)
    [reply] = await standin.wait_sent(1)
    # Said in the group, in Chinese; the personal data itself is not posted there.
    assert reply.route == "webhook" and reply.conversation_id == "cid-group-1"
    assert reply.text == NO_PRIVATE_CHAT
    assert "已私信" not in reply.text and "访客" not in reply.text
    await standin.say("/help", sender="guest", staff=False)
    await standin.wait_sent(2)
    assert len(standin.sent) == 2 and _no_openapi_call_named_an_encrypted_id(standin)


async def test_one_to_one_the_session_webhook_reaches_them_and_nothing_else_is_tried(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot()
    dm = {"conversation": "cid-dm-guest", "conversation_type": "1", "staff": False}
    await standin.say("/我的数据", sender="guest", nick="访客", **dm)
    [reply] = await standin.wait_sent(1)
    assert reply.route == "webhook" and reply.conversation_id == "cid-dm-guest"
    assert "访客" in reply.text  # their own data, privately

    # The session has expired: batchSend cannot name them, so the reply fails, with the reason.
    await standin.say("/nosuch-late", sender="guest", session_ttl=-1, **dm)

    rows: list[OutboxMessage] = []
    deadline = asyncio.get_running_loop().time() + 10
    while not rows and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
        async with app.db.transaction() as session:
            result = await session.execute(
                select(OutboxMessage).where(OutboxMessage.status == "failed")
            )
            rows = list(result.scalars())
    assert rows and "staff id" in rows[0].last_error
    assert _no_openapi_call_named_an_encrypted_id(standin)


async def test_the_stand_in_refuses_an_encrypted_id_as_batch_send_does(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot()
    with pytest.raises(DeliveryFailed) as refused:
        await app.api.members_send(["$:LWCP_v1:$guest"], "sampleText", {"content": "hi"})
    assert refused.value.code == "staffId.notExisted"
    # Mixed with a staff id: sent to the staff id, the other listed as invalid.
    await app.api.members_send(["alice", "$:LWCP_v1:$guest"], "sampleText", {"content": "hi"})
    [sent] = await standin.wait_sent(1)
    assert sent.user_ids == ["alice"]


async def test_typing_and_clicking_are_one_identity(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot(routers=[probe.router])
    await standin.say("/probe card", sender="dora")
    [card] = await standin.wait_sent(where=lambda s: s.route == "card")
    # The click's userId is the staff id the message carried as senderStaffId.
    await standin.click(card.out_track_id, "dora", {"action": "press", "id": "7"})
    [pressed] = await standin.wait_sent(where=lambda s: "pressed by" in s.text)
    assert pressed.text == "pressed by dora"
