"""The stand-in platform and load driver in a process of its own, driven over stdin/stdout.

Commands (one JSON object per line): ``{"cmd": "connected"}``,
``{"cmd": "throughput", "n": N, "text": T, "groups": G}``, ``{"cmd": "latency", "n": N,
"rate": R, "text": T, "groups": G}``, ``{"cmd": "storm", "n": N, "sender": S, "text": T}``,
``{"cmd": "say", "text": T, "sender": S, "conversation": C}``, ``{"cmd": "quiet"}``,
``{"cmd": "mix", "messages": [[T, S, C], ...], "rate": R}``, ``{"cmd": "quit"}``. Each
answers one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from bot.sandbox.standin import BOT_TOPIC, StandIn


def _message(standin: StandIn, text: str, i: int, groups: int) -> dict[str, Any]:
    return standin.message(text, conversation=f"cid-bench-{i % groups}", sender=f"user{i % 97}")


async def throughput(standin: StandIn, n: int, text: str, groups: int) -> dict[str, Any]:
    standin.sent.clear()
    started = time.perf_counter()
    for i in range(n):
        await standin.push(BOT_TOPIC, _message(standin, text, i, groups), wait_ack=False)
    await standin.wait_sent(n, timeout=600)
    elapsed = time.perf_counter() - started
    return {"elapsed": elapsed, "sent": len(standin.sent)}


async def latency(standin: StandIn, n: int, rate: float, text: str, groups: int) -> dict[str, Any]:
    standin.sent.clear()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    tasks = []
    for i in range(n):
        delay = t0 + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        data = _message(standin, text, i, groups)
        tasks.append(asyncio.create_task(standin.push(BOT_TOPIC, data, timeout=60)))
    pushes = await asyncio.gather(*tasks)
    await standin.wait_sent(n, timeout=600)
    return {"latencies": [p.latency for p in pushes if p.latency is not None]}


async def storm(standin: StandIn, n: int, sender: str, text: str | None) -> dict[str, Any]:
    """Publish an activity as ``sender``, then fire ``n`` join clicks from distinct members
    at once; every click's answer latency and the state it reported, in sending order.
    With no ``text`` the clicks go to a card nobody sent (for a bot that answers any click)."""
    if text is None:
        track, event_id = "storm-floor", "1"
    else:
        before = len(standin.sent)
        await standin.say(text, sender=sender)
        [card] = await standin.wait_sent(
            where=lambda s: s.route == "card" and standin.sent.index(s) >= before, timeout=30
        )
        track, event_id = card.out_track_id, standin.cards[card.out_track_id].data["id"]
    clicks = [
        standin.click(track, f"m{i:05d}", {"action": "join", "id": event_id}, timeout=120)
        for i in range(n)
    ]
    pushes = await asyncio.gather(*clicks)
    return {
        "latencies": [p.latency for p in pushes],
        "states": [
            StandIn.response_of(p).get("userPrivateData", {}).get("cardParamMap", {}).get("state")
            for p in pushes
        ],
        "event_id": event_id,
    }


async def quiet(standin: StandIn, started: float, quiet_for: float = 0.5) -> float:
    """Wait until nothing more is sent for ``quiet_for`` s; seconds until the last send."""
    seen, last = -1, time.perf_counter()
    while True:
        if len(standin.sent) != seen:
            seen, last = len(standin.sent), time.perf_counter()
        elif time.perf_counter() - last >= quiet_for:
            return last - started
        await asyncio.sleep(0.02)


async def mix(standin: StandIn, messages: list[list[str]], rate: float) -> dict[str, Any]:
    """Push ``[text, sender, conversation]`` messages (as fast as possible, or at ``rate``/s)
    and wait until the bot has gone quiet; its sends, and per push the ack latency."""
    standin.sent.clear()
    loop = asyncio.get_running_loop()
    started, t0 = time.perf_counter(), loop.time()
    tasks = []
    for i, (text, sender, conversation) in enumerate(messages):
        data = standin.message(text, sender=sender, conversation=conversation)
        if rate:
            delay = t0 + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(standin.push(BOT_TOPIC, data, timeout=60)))
        else:
            await standin.push(BOT_TOPIC, data, wait_ack=False)
    pushes = await asyncio.gather(*tasks)
    await standin.wait_sent(len(messages), timeout=600)  # each message gets a reply at least
    elapsed = await quiet(standin, started)
    return {
        "elapsed": elapsed,
        "sent": len(standin.sent),
        "latencies": [p.latency for p in pushes if p.latency is not None],
    }


async def main(port: int) -> None:
    standin = StandIn(port=port)
    await standin.start()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=64 * 1024 * 1024)  # a mix is one long JSON line
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(json.dumps({"ready": standin.url}), flush=True)
    while line := await reader.readline():
        request = json.loads(line)
        cmd = request["cmd"]
        if cmd == "quit":
            break
        if cmd == "connected":
            await standin.wait_connected(request.get("count", 1), timeout=60)
            answer: dict[str, Any] = {"connections": len(standin.live())}
        elif cmd == "throughput":
            answer = await throughput(standin, request["n"], request["text"], request["groups"])
        elif cmd == "latency":
            answer = await latency(
                standin, request["n"], request["rate"], request["text"], request["groups"]
            )
        elif cmd == "say":
            await standin.say(
                request["text"], sender=request["sender"], conversation=request["conversation"]
            )
            answer = {"ok": True}
        elif cmd == "quiet":
            answer = {"elapsed": await quiet(standin, time.perf_counter())}
        elif cmd == "mix":
            answer = await mix(standin, request["messages"], request.get("rate", 0.0))
        elif cmd == "storm":
            answer = await storm(standin, request["n"], request["sender"], request.get("text"))
        else:
            answer = {"error": f"unknown command {cmd}"}
        print(json.dumps(answer), flush=True)
    await standin.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
