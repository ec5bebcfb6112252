"""Stream benchmark: the bot against the SDK's own sample echo bot, same stand-in, same run.

Both bots connect through the real ``dingtalk-stream`` client to the local stand-in (which
runs on its own thread and event loop, as the platform would be elsewhere). Two phases each:

* throughput: N messages pushed as fast as the stand-in can; messages per second from the
  first push to the N-th reply the platform accepted;
* ack latency: messages pushed at a fixed rate (default 200/s); p50 / p99 from frame sent
  to ack received.

Usage: ``python -m bench.stream_bench [--messages 2000] [--rate 200] [--rate-messages 2000]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PORT = _free_port()
# The SDK reads its endpoint once, at import: set it before anything imports dingtalk_stream.
os.environ["DINGTALK_OPENAPI_ENDPOINT"] = f"http://127.0.0.1:{PORT}"

import dingtalk_stream  # noqa: E402

from bot.app import Application  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.sandbox.standin import BOT_TOPIC, StandIn  # noqa: E402


class PlatformThread:
    """The stand-in on its own thread and loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.standin = StandIn(port=PORT)
        self.call(self.standin.start())

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    async def acall(self, coro: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def reset(self) -> None:
        self.standin.sent.clear()
        self.standin.rejected.clear()

    def stop(self) -> None:
        self.call(self.standin.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


async def throughput(platform: PlatformThread, n: int, tag: str) -> float:
    standin = platform.standin

    async def drive() -> float:
        started = time.perf_counter()
        for i in range(n):
            await standin.push(BOT_TOPIC, standin.message("/help"), wait_ack=False)
        await standin.wait_sent(n, timeout=300)
        return time.perf_counter() - started

    elapsed = await platform.acall(drive())
    return n / elapsed


async def ack_latency(platform: PlatformThread, n: int, rate: float, tag: str) -> list[float]:
    standin = platform.standin

    async def drive() -> list[float]:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        tasks = []
        for i in range(n):
            delay = t0 + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(
                asyncio.create_task(standin.push(BOT_TOPIC, standin.message("/help"), timeout=60))
            )
        pushes = await asyncio.gather(*tasks)
        await standin.wait_sent(n, timeout=300)
        return [p.latency for p in pushes if p.latency is not None]

    return await platform.acall(drive())


class EchoBot(dingtalk_stream.ChatbotHandler):  # type: ignore[misc]
    """The SDK's sample echo bot (examples/chatbot): reply_text with the incoming text."""

    async def process(self, callback: Any) -> tuple[int, str]:
        incoming = dingtalk_stream.ChatbotMessage.from_dict(callback.data)
        self.reply_text(incoming.text.content.strip(), incoming)
        return dingtalk_stream.AckMessage.STATUS_OK, "OK"


async def run_baseline(platform: PlatformThread, args: argparse.Namespace) -> dict[str, Any]:
    standin = platform.standin
    client = dingtalk_stream.DingTalkStreamClient(
        dingtalk_stream.Credential(standin.client_id, standin.client_secret)
    )
    client.get_host_ip = lambda: "127.0.0.1"  # the SDK probes a public address for this
    client.register_callback_handler(dingtalk_stream.ChatbotMessage.TOPIC, EchoBot())
    task = asyncio.create_task(client.start())
    try:
        await platform.acall(standin.wait_connected(timeout=20))
        return await measure(platform, args, "sdk")
    finally:
        # The SDK's loop catches CancelledError and reconnects; cancel until it really ends.
        while not task.done():
            task.cancel()
            await asyncio.sleep(0.01)
        if client.websocket is not None:
            await client.websocket.close()


async def run_bot(
    platform: PlatformThread, args: argparse.Namespace, folder: Path
) -> dict[str, Any]:
    standin = platform.standin
    settings = load_settings(
        None,
        dingtalk={"client_id": standin.client_id, "client_secret": standin.client_secret},
        storage={"url": f"sqlite:///{folder / 'bench.sqlite3'}"},
    )
    app = Application(settings)
    await app.start()
    try:
        await platform.acall(standin.wait_connected(timeout=20))
        return await measure(platform, args, "bot")
    finally:
        await app.stop()


async def measure(platform: PlatformThread, args: argparse.Namespace, tag: str) -> dict[str, Any]:
    await throughput(platform, 50, f"{tag}-warm")
    platform.reset()
    rate = await throughput(platform, args.messages, tag)
    platform.reset()
    latencies = await ack_latency(platform, args.rate_messages, args.rate, tag)
    platform.reset()
    latencies.sort()
    return {
        "msgs_per_s": round(rate, 1),
        "ack_p50_ms": round(statistics.median(latencies) * 1000, 2),
        "ack_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "acks": len(latencies),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    platform = PlatformThread()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            baseline = await run_baseline(platform, args)
            await platform.acall(asyncio.sleep(0.5))
            bot = await run_bot(platform, args, Path(tmp))
    finally:
        platform.stop()
    return {
        "messages": args.messages,
        "rate": args.rate,
        "baseline_sdk_echo": baseline,
        "community_bot": bot,
        "throughput_ratio": round(bot["msgs_per_s"] / baseline["msgs_per_s"], 2),
        "targets": {"throughput_ratio": ">= 1.0", "ack_p99_ms_at_rate": "<= 20"},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--rate-messages", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    for name in ("dingtalk_stream.client", "dingtalk_stream.handler"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    result = asyncio.run(main_async(args))
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
