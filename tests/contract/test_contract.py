"""Official payload samples through the real path (SDK → edge → router), and what the bot sends
checked against the documented request bodies.

The fixtures in ``fixtures/`` are copied field for field from their sources (each file names
it). Only what must point at this test's world is replaced, and the test says so: the session
webhook URL and times, a card's outTrackId, a member's userId.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from bot.answers import BatchResult
from bot.config import load_settings
from bot.openapi import OpenAPI
from bot.sandbox.standin import BOT_TOPIC, CARD_TOPIC, StandIn
from tests.conftest import BotFactory
from tests.contract import documented
from tests.scenario import probe
from tests.scenario.test_stories import CARDS, submit_and_approve

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    assert loaded["_source"], "every fixture names its source"
    return loaded


def bodies(standin: StandIn, suffix: str) -> list[Any]:
    return [body for path, body in standin.requests if path.endswith(suffix)]


async def test_the_documented_text_message_is_answered_through_its_session_webhook(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot()
    data = fixture("robot_text_o2o.json")["data"]
    # Replaced: the session webhook (the stand-in's, for this sender and chat) and the times.
    session = standin.message(
        None,
        sender=data["senderStaffId"],
        conversation=data["conversationId"],
        conversation_type="1",
    )
    now_ms = int(time.time() * 1000)
    data |= {
        "sessionWebhook": session["sessionWebhook"],
        "sessionWebhookExpiredTime": now_ms + 5_400_000,
        "createAt": now_ms,
    }
    push = await standin.push(BOT_TOPIC, data)
    assert push.ack is not None and push.ack["code"] == 200
    [reply] = await standin.wait_sent(where=lambda s: s.route == "webhook")
    assert "/help" in reply.text  # "hello DingTalk!" is English: the answer is too
    [body] = bodies(standin, "/robot/sendBySession")
    assert documented.check(body, documented.WEBHOOK) == []


async def test_the_documented_group_message_without_a_session_is_answered_in_the_group(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot()
    data = fixture("robot_text_group.json")["data"] | {"createAt": int(time.time() * 1000)}
    push = await standin.push(BOT_TOPIC, data)
    assert push.ack is not None and push.ack["code"] == 200
    [reply] = await standin.wait_sent(where=lambda s: s.route == "group")
    assert reply.conversation_id == "XXXX" and "/帮助" in reply.text
    [body] = bodies(standin, "/robot/groupMessages/send")
    assert documented.check(body, documented.GROUP_SEND) == []


async def test_the_documented_card_click_is_routed_by_its_params_and_answered(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot(cards=CARDS)
    story_id, track = await submit_and_approve(standin)
    frame = fixture("card_callback_like.json")["frame"]
    assert frame["headers"]["topic"] == CARD_TOPIC
    data = json.loads(frame["data"])
    # Replaced: the card (a real one of this bot) and the member who clicks. The button sends
    # only {"action": "like"}, as the tutorial's builder sets it: the story is the card's own.
    data |= {"outTrackId": track, "userId": "bob"}
    push = await standin.push(CARD_TOPIC, data)
    response = StandIn.response_of(push)
    assert set(response) <= {"cardData", "userPrivateData", "cardUpdateOptions"}
    assert all(isinstance(v, bool) for v in response["cardUpdateOptions"].values())
    for part in ("cardData", "userPrivateData"):
        param_map = response[part]["cardParamMap"]
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in param_map.items())
    assert response["cardData"]["cardParamMap"]["likes"] == "1", story_id


async def test_what_the_bot_sends_matches_the_documented_request_bodies(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot(routers=[probe.router])
    await standin.say("/probe card")
    [card] = await standin.wait_sent(where=lambda s: s.route == "card")
    await standin.click(card.out_track_id, "bob", {"action": "press", "id": "7"})
    await standin.say(
        "/probe card", sender="carol", conversation="cid-o2o-carol", conversation_type="1"
    )
    await standin.say("/probe mention")
    await standin.say("/probe members")
    await standin.wait_sent(2, where=lambda s: s.route == "card")
    await standin.wait_sent(where=lambda s: s.route == "card_update")
    await standin.wait_sent(where=lambda s: s.route == "o2o")
    await standin.wait_sent(where=lambda s: s.route == "group")
    checks = {
        "/v1.0/card/instances/createAndDeliver": documented.CREATE_AND_DELIVER,
        "/v1.0/card/instances": documented.UPDATE_CARD,
        "/v1.0/robot/groupMessages/send": documented.GROUP_SEND,
        "/v1.0/robot/oToMessages/batchSend": documented.BATCH_SEND,
        "/robot/sendBySession": documented.WEBHOOK,
    }
    seen = set()
    for path, body in standin.requests:
        assert path in checks, path
        seen.add(path)
        assert documented.check(body, checks[path]) == [], (path, body)
    assert seen == set(checks)


def _api(answer: dict[str, Any]) -> OpenAPI:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1.0/oauth2/accessToken":
            return httpx.Response(200, json={"accessToken": "t", "expireIn": 7200})
        return httpx.Response(200, json=answer)

    settings = load_settings(
        None,
        dingtalk={"client_id": "ding-app", "client_secret": "s", "openapi_endpoint": "http://dt"},
    )
    return OpenAPI(settings, client=httpx.AsyncClient(transport=httpx.MockTransport(handler)))


async def test_the_documented_answers_are_read_as_documented() -> None:
    delivered = fixture("create_and_deliver_response.json")["body"]
    api = _api(delivered)
    await api.card_deliver({"outTrackId": "example_out_track_id"})  # success: no error
    await api.aclose()

    batch = fixture("batch_send_response.json")["body"]
    api = _api(batch)
    result = await api.members_send(
        ["invalid", "limited", "filtered", "ok"], "sampleText", {"content": "x"}
    )
    await api.aclose()
    assert result == BatchResult("oto-job", ("invalid",), ("limited",), ("filtered",))
