"""Stream benchmark: the bot against the SDK's own sample echo bot, same platform, same run.

Both bots connect through the real ``dingtalk-stream`` client to the local stand-in, which
runs with its load driver in a process of its own (``bench.platform``), as DingTalk would be
on another machine. Two phases for each bot:

* throughput: N messages pushed as fast as the platform can, all in one group and then
  spread over several groups; messages per second from the first push to the N-th reply
  the platform accepted;
* ack latency: messages pushed at a fixed rate (default 200/s); p50 / p99 from frame sent
  to ack received.

CPU per message (``time.process_time`` of the bot's process, or the sum over its processes)
is taken over the throughput phases, for the bot and the echo bot alike.

Usage: ``python -m bench.stream_bench [--messages 2000] [--rate 200] [--rate-messages 2000]
[--backend sqlite|postgresql] [--processes N]``. With ``--processes`` (PostgreSQL) the bot
runs as N ``python -m bot run`` processes against one database, as a deployment would; the
figures are then the aggregate.
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
import time
from pathlib import Path
from typing import Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PORT = _free_port()
# The SDK reads its endpoint once, at import: set it before anything imports dingtalk_stream.
os.environ["DINGTALK_OPENAPI_ENDPOINT"] = f"http://127.0.0.1:{PORT}"

import dingtalk_stream  # noqa: E402

from bench.backends import BACKENDS, database  # noqa: E402
from bench.report import report  # noqa: E402
from bot.app import Application  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.sandbox.standin import StandIn  # noqa: E402
from storage.db import Database  # noqa: E402

CLIENT_ID, CLIENT_SECRET = StandIn().client_id, StandIn().client_secret


class Platform:
    """The stand-in and load driver in their own process (``bench.platform``)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls) -> Platform:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.platform",
            "--port",
            str(PORT),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=64 * 1024 * 1024,  # the latency answer is one long JSON line
        )
        platform = cls(proc)
        await platform._read()  # {"ready": url}
        return platform

    async def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the platform process died")
        return dict(json.loads(line))

    async def ask(self, **request: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(request) + "\n").encode())
        await self.proc.stdin.drain()
        return await self._read()

    async def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b'{"cmd": "quit"}\n')
        await self.proc.stdin.drain()
        await self.proc.wait()


class EchoBot(dingtalk_stream.ChatbotHandler):  # type: ignore[misc]
    """The SDK's sample echo bot (examples/chatbot): reply_text with the incoming text."""

    async def process(self, callback: Any) -> tuple[int, str]:
        incoming = dingtalk_stream.ChatbotMessage.from_dict(callback.data)
        self.reply_text(incoming.text.content.strip(), incoming)
        return dingtalk_stream.AckMessage.STATUS_OK, "OK"


def _cpu_of(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by this process, or by ``pids``."""
    if not pids:
        return time.process_time()
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime (proc(5))
    return total


async def measure(
    platform: Platform, args: argparse.Namespace, pids: list[int] | None = None
) -> dict[str, Any]:
    text = args.text
    await platform.ask(cmd="throughput", n=100, text=text, groups=1)  # warm up
    result: dict[str, Any] = {}
    for groups in args.groups:
        cpu = _cpu_of(pids or [])
        run = await platform.ask(cmd="throughput", n=args.messages, text=text, groups=groups)
        spent = _cpu_of(pids or []) - cpu
        result[f"msgs_per_s_{groups}_groups"] = round(args.messages / run["elapsed"], 1)
        result[f"cpu_ms_per_msg_{groups}_groups"] = round(spent / args.messages * 1000, 3)
    lat = await platform.ask(
        cmd="latency", n=args.rate_messages, rate=args.rate, text=text, groups=args.groups[-1]
    )
    latencies = sorted(lat["latencies"])
    result.update(
        ack_p50_ms=round(statistics.median(latencies) * 1000, 2),
        ack_p99_ms=round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        acks=len(latencies),
    )
    return result


async def run_baseline(platform: Platform, args: argparse.Namespace) -> dict[str, Any]:
    client = dingtalk_stream.DingTalkStreamClient(
        dingtalk_stream.Credential(CLIENT_ID, CLIENT_SECRET)
    )
    client.get_host_ip = lambda: "127.0.0.1"  # the SDK probes a public address for this
    client.register_callback_handler(dingtalk_stream.ChatbotMessage.TOPIC, EchoBot())
    task = asyncio.create_task(client.start())
    try:
        await platform.ask(cmd="connected")
        return await measure(platform, args)
    finally:
        # The SDK's loop catches CancelledError and reconnects; cancel until it really ends.
        while not task.done():
            task.cancel()
            await asyncio.sleep(0.01)
        if client.websocket is not None:
            await client.websocket.close()


async def run_processes(
    platform: Platform, args: argparse.Namespace, folder: Path, url: str
) -> dict[str, Any]:
    """The bot as ``args.processes`` OS processes (``python -m bot run``) on one database."""
    config = folder / "bench.toml"
    config.write_text(
        f"""
[dingtalk]
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
openapi_endpoint = "http://127.0.0.1:{PORT}"

[storage]
url = "{url}"

[ops]
listen = ""
""",
        encoding="utf-8",
    )
    db = Database(url)
    await db.migrate()  # once, before they start
    await db.dispose()
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--config",
            str(config),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=(folder / f"bot{n}.log").open("wb"),
        )
        for n in range(args.processes)
    ]
    try:
        await platform.ask(cmd="connected", count=args.processes)
        return await measure(platform, args, [p.pid for p in procs])
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def run_bot(
    platform: Platform, args: argparse.Namespace, folder: Path, url: str
) -> dict[str, Any]:
    if args.processes > 1:
        return await run_processes(platform, args, folder, url)
    settings = load_settings(
        None,
        dingtalk={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        storage={"url": url},
    )
    app = Application(settings)
    await app.start()
    try:
        await platform.ask(cmd="connected")
        return await measure(platform, args)
    finally:
        await app.stop()


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    platform = await Platform.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            baseline = await run_baseline(platform, args)
            await asyncio.sleep(0.5)
            async with database(args.backend, Path(tmp), "stream", args.postgres) as url:
                bot = await run_bot(platform, args, Path(tmp), url)
    finally:
        await platform.stop()
    ratios = {
        f"throughput_ratio_{g}_groups": round(
            bot[f"msgs_per_s_{g}_groups"] / baseline[f"msgs_per_s_{g}_groups"], 2
        )
        for g in args.groups
    }
    ratios.update(
        {
            f"cpu_ratio_{g}_groups": round(
                baseline[f"cpu_ms_per_msg_{g}_groups"] / bot[f"cpu_ms_per_msg_{g}_groups"], 2
            )
            for g in args.groups
        }
    )
    return {
        "backend": args.backend,
        "processes": args.processes,
        "text": args.text,
        "messages": args.messages,
        "rate": args.rate,
        "latency_groups": args.groups[-1],
        "baseline_sdk_echo": baseline,
        "community_bot": bot,
        **ratios,
        "targets": {"throughput_ratio": ">= 1.0", "ack_p99_ms_at_rate": "<= 20"},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--rate-messages", type=int, default=2000)
    # A command whose reply is about as short as the echo's, so the comparison is about the
    # path (record, de-duplicate, route, handle, outbox, send), not the size of the reply.
    parser.add_argument("--text", default="/help help", help="what each pushed message says")
    parser.add_argument(
        "--groups", type=int, nargs="+", default=[1, 20], help="spread messages over G groups"
    )
    parser.add_argument("--backend", choices=BACKENDS, default="sqlite")
    parser.add_argument(
        "--postgres", default=None, help="server URL (else $COMMUNITY_BOT_TEST_POSTGRES)"
    )
    parser.add_argument("--processes", type=int, default=1, help="bot processes (PostgreSQL)")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    if args.processes > 1 and args.backend == "sqlite":
        parser.error("several processes need --backend postgresql (one SQLite file, one process)")
    logging.basicConfig(level=logging.ERROR)
    for name in ("dingtalk_stream.client", "dingtalk_stream.handler"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    result = asyncio.run(main_async(args))
    return report(result, args.out)


if __name__ == "__main__":
    sys.exit(main())
