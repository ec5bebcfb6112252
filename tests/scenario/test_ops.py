"""Operating the bot: health and metrics endpoints scraped while the stand-in injects faults."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.app import Application
from bot.sandbox.standin import StandIn
from tests.conftest import BotFactory, eventually

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def get(app: Application, path: str) -> httpx.Response:
    assert app.ops.port, "the ops endpoints are not listening"
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        return await client.get(f"http://127.0.0.1:{app.ops.port}{path}")


async def scrape(app: Application) -> Samples:
    response = await get(app, "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


async def scrape_until(
    app: Application, predicate: Callable[[Samples], bool], timeout: float = 10.0
) -> Samples:
    """Scrape until ``predicate`` holds (the figures move as the bot works)."""
    deadline = time.monotonic() + timeout
    while True:
        samples = await scrape(app)
        if predicate(samples):
            return samples
        if time.monotonic() > deadline:
            raise AssertionError("the metrics did not move in time")
        await asyncio.sleep(0.05)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name`` over every sample whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, lab), v in samples.items() if n == name and want <= lab)


async def test_livez_and_readyz_follow_the_gateway(standin: StandIn, start_bot: BotFactory) -> None:
    app = await start_bot()
    assert (await get(app, "/livez")).status_code == 200
    ready = await get(app, "/readyz")
    assert ready.status_code == 200, ready.text

    # The gateway goes down: the socket drops and every new connection is refused.
    standin.faults.refuse_opens = 1_000_000
    await standin.drop()
    await eventually(lambda: not app.edge.connected.is_set())
    down = await get(app, "/readyz")
    assert down.status_code == 503
    assert "stream not connected" in down.text
    assert (await get(app, "/livez")).status_code == 200  # alive, just not ready

    standin.faults.refuse_opens = 0
    await standin.wait_connected()
    await eventually(lambda: app.edge.connected.is_set())
    assert (await get(app, "/readyz")).status_code == 200


async def test_readyz_fails_on_a_half_open_socket(standin: StandIn, start_bot: BotFactory) -> None:
    app = await start_bot(
        stream={"ping_interval": 30.0, "ping_timeout": 30.0}, ops={"ready_timeout": 0.3}
    )
    standin.freeze()  # the socket looks open but carries nothing, not even pongs
    response = await get(app, "/readyz")
    assert response.status_code == 503
    assert "no pong" in response.text


async def test_metrics_count_frames_replies_throttling_and_give_ups(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot(
        sender={"group_burst": 50, "group_messages_per_minute": 600, "max_attempts": 4}
    )
    before = await scrape(app)

    standin.faults.duplicate_pushes = True
    await standin.say("/nosuch-m1")
    standin.faults.duplicate_pushes = False
    await standin.wait_sent(where=lambda s: "/nosuch-m1" in s.text)

    # Throttling on the OpenAPI path (403 QpsLimit): retried, then delivered.
    standin.faults.expire_sessions = True
    standin.faults.throttle_every = 3
    for i in range(4):
        await standin.say(f"/nosuch-t{i}")
    await standin.wait_sent(where=lambda s: "/nosuch-t" in s.text, count=4, timeout=15)
    standin.faults.throttle_every = 0

    # Every send fails with 5xx: after max_attempts the reply is given up.
    standin.faults.server_error_every = 1
    await standin.say("/nosuch-doomed")

    gave_up_before = total(before, "community_bot_replies_total", outcome="given_up")
    after = await scrape_until(
        app, lambda s: total(s, "community_bot_replies_total", outcome="given_up") > gave_up_before
    )

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("community_bot_frames_received_total", type="CALLBACK") >= 6
    assert moved("community_bot_duplicates_dropped_total") >= 1
    assert moved("community_bot_acks_total", topic="/v1.0/im/bot/messages/get") >= 6
    assert moved("community_bot_replies_total", route="webhook", outcome="sent") >= 1
    assert moved("community_bot_replies_total", route="group", outcome="sent") >= 4
    assert moved("community_bot_replies_total", route="group", outcome="throttled") >= 1
    assert moved("community_bot_replies_total", outcome="given_up") >= 1
    assert (
        moved(
            "community_bot_dingtalk_errors_total",
            code="Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
        )
        >= 1
    )
    assert moved("community_bot_dingtalk_errors_total", code="system.busy") >= 2
    assert moved("community_bot_dingtalk_errors_total", code="300001") >= 1
    assert moved("community_bot_ack_latency_seconds_count") >= 6
    assert moved("community_bot_send_latency_seconds_count") >= 6
    assert total(after, "community_bot_stream_connected") == 1
    assert ("community_bot_event_loop_lag_seconds", frozenset()) in after
    assert ("community_bot_outbox_oldest_pending_seconds", frozenset()) in after
    assert total(after, "community_bot_inbox_backlog") == 0
    assert total(after, "community_bot_stream_connections_total") >= 1


async def test_backlog_gauges_show_waiting_replies(standin: StandIn, start_bot: BotFactory) -> None:
    app = await start_bot()
    hold = standin.faults.hold_sends = asyncio.Event()
    await standin.say("/nosuch-held-1")
    await standin.say("/nosuch-held-2", sender="bob")
    await eventually(lambda: standin.holding >= 1)
    samples = await scrape_until(app, lambda s: total(s, "community_bot_outbox_pending") == 2)
    assert total(samples, "community_bot_outbox_oldest_pending_seconds") >= 0
    hold.set()
    await standin.wait_sent(2)
    await scrape_until(app, lambda s: total(s, "community_bot_outbox_pending") == 0)


async def test_job_and_click_latency_are_observed(standin: StandIn, start_bot: BotFactory) -> None:
    app = await start_bot()
    before = await scrape(app)
    assert await app.jobs.run_job("inbox-sweep")
    after = await scrape(app)
    assert total(after, "community_bot_job_latency_seconds_count", job="inbox-sweep") > total(
        before, "community_bot_job_latency_seconds_count", job="inbox-sweep"
    )
    await standin.click("no-such-card", "bob", {"action": "press", "id": "1"})
    after = await scrape(app)
    assert total(after, "community_bot_card_click_latency_seconds_count") > total(
        before, "community_bot_card_click_latency_seconds_count"
    )


async def test_empty_listen_turns_the_endpoints_off(
    standin: StandIn, start_bot: BotFactory
) -> None:
    app = await start_bot(ops={"listen": ""})
    assert app.ops.port is None
