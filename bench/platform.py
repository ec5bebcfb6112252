"""The stand-in platform and load driver in a process of its own, driven over stdin/stdout.

Commands (one JSON object per line): ``{"cmd": "connected"}``,
``{"cmd": "throughput", "n": N, "text": T, "groups": G}``, ``{"cmd": "latency", "n": N,
"rate": R, "text": T, "groups": G}``, ``{"cmd": "quit"}``. Each answers one JSON line.
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
        else:
            answer = {"error": f"unknown command {cmd}"}
        print(json.dumps(answer), flush=True)
    await standin.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
