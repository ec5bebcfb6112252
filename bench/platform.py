"""The stand-in platform and load driver in a process of its own, driven over stdin/stdout.

Commands (one JSON object per line): ``{"cmd": "connected"}``,
``{"cmd": "throughput", "n": N, "text": T, "groups": G}``, ``{"cmd": "latency", "n": N,
"rate": R, "text": T, "groups": G}``, ``{"cmd": "storm", "n": N, "sender": S, "text": T}``,
``{"cmd": "quit"}``. Each answers one JSON line.
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


async def storm(standin: StandIn, n: int, sender: str, text: str) -> dict[str, Any]:
    """Publish an activity as ``sender``, then fire ``n`` join clicks from distinct members
    at once; every click's answer latency and the state it reported, in sending order."""
    before = len(standin.sent)
    await standin.say(text, sender=sender)
    [card] = await standin.wait_sent(
        where=lambda s: s.route == "card" and standin.sent.index(s) >= before, timeout=30
    )
    event_id = standin.cards[card.out_track_id].data["id"]
    clicks = [
        standin.click(
            card.out_track_id, f"m{i:05d}", {"action": "join", "id": event_id}, timeout=120
        )
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


async def main(port: int) -> None:
    standin = StandIn(port=port)
    await standin.start()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(json.dumps({"ready": standin.url}), flush=True)
    while line := await reader.readline():
        request = json.loads(line)
        cmd = request["cmd"]
        if cmd == "quit":
            break
        if cmd == "connected":
            await standin.wait_connected(timeout=30)
            answer: dict[str, Any] = {"connections": len(standin.live())}
        elif cmd == "throughput":
            answer = await throughput(standin, request["n"], request["text"], request["groups"])
        elif cmd == "latency":
            answer = await latency(
                standin, request["n"], request["rate"], request["text"], request["groups"]
            )
        elif cmd == "storm":
            answer = await storm(standin, request["n"], request["sender"], request["text"])
        else:
            answer = {"error": f"unknown command {cmd}"}
        print(json.dumps(answer), flush=True)
    await standin.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
