"""Realistic-mix benchmark: CPU per message of the bot against the SDK's echo bot, same run.

The stand-in and its load driver run in a process of their own (``bench.platform``). Each
bot connects through the real ``dingtalk-stream`` client and answers the same messages,
twice:

* in this process (first the SDK's sample echo bot, then the community bot on SQLite): CPU
  time of this process (``time.process_time``, all threads), and the loop-stall probe,
  which must run on the bot's own event loop;
* each in an OS process of its own, as deployed: the bot as ``python -m bot run --config``
  on a database migrated beforehand (the release step ``community-bot migrate``), the echo
  bot as ``python -m bench.echo_process``; CPU from ``/proc/<pid>/stat`` (utime + stime),
  peak resident memory from ``/proc/<pid>/status`` (``VmHWM``) at the end of the run.
  This process (the driver, with both bots, the benchmark's modules and the SDK's
  ``requests`` loaded) is larger than the bot's and is not what the target is about.

The group is set up first (review off; 3 activities with 5,000 seats; 20 stories; 200
skill posts from a 600-skill vocabulary). The mix, per 10 messages: 2 likes (``/赞 <id>``),
1 each of a new story (``/故事 标题 | 正文``), ``/故事榜``, ``/活动``, a sign-up
(``/报名 <id>``), a skill offer (``/我会``), a want (``/我想学``), ``/匹配`` and ``/帮助``,
from 200 members. Figures:

* CPU per message on the mix, bot and echo, and the ratio echo / bot (≥ 1.0: the bot spends
  no more CPU than an echo bot that persists nothing); messages per second too;
* the same per command (each command alone), so the slow ones are visible;
* ack p50 / p99 with the mix pushed at a fixed rate (default 200/s);
* the longest event-loop stall while the bot works (``bench.probe.LoopProbe`` every 2 ms: the
  loop thread's CPU between two wake-ups), how many exceeded 20 ms, and how late the timer
  fired at worst (wall clock, mostly the machine's load);
* peak resident memory of the bot's own process (``peak_rss_mb``), and the same figures
  for both bots in their own processes (``process``).

Usage: ``python -m bench.mix_bench [--messages 1000] [--per-command 200] [--rate 200]
[--no-process]`` (``--no-process``: in this process only, as before; ``peak_rss_mb`` is then
this process's).
Targets: ratio ≥ 1.0, ack p99 ≤ 20 ms, longest stall ≤ 20 ms, peak RSS ≤ 120 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.probe import LoopProbe
from bench.report import report
from bench.skills_bench import VOCABULARY

# First of the bot's imports: it points the SDK at the stand-in before the SDK loads.
from bench.stream_bench import (
    CLIENT_ID,
    CLIENT_SECRET,
    PORT,
    EchoBot,
    Platform,
    dingtalk_stream,
)
from bot.app import Application
from bot.checks import migrate
from bot.cli import settle_heap
from bot.config import load_settings

GROUP = "cid-mix"
MEMBERS = 200
STORIES = 20
EVENTS = 3
ADMIN = "admin1"


def _command(kind: str, i: int) -> str:
    skill = VOCABULARY[(i * 7) % len(VOCABULARY)]
    return {
        "like": f"/赞 {1 + i % STORIES}",
        "story": f"/故事 社区小事{i} | 今天帮邻居修好了自行车，第 {i} 次。",
        "board": "/故事榜",
        "events": "/活动",
        "join": f"/报名 {1 + i % EVENTS}",
        "offer": f"/我会 {skill}",
        "want": f"/我想学 {skill}",
        "match": "/匹配",
        "help": "/帮助",
    }[kind]


MIX = ["like", "story", "like", "board", "events", "join", "offer", "want", "match", "help"]
KINDS = ["help", "events", "board", "story", "like", "join", "offer", "want", "match"]


def messages(kinds: list[str], n: int, offset: int = 0) -> list[list[str]]:
    """``n`` messages cycling through ``kinds``, from members u000…u199."""
    out = []
    for i in range(offset, offset + n):
        kind = kinds[i % len(kinds)]
        out.append([_command(kind, i), f"u{(i * 31) % MEMBERS:03d}", GROUP])
    return out


def _stat_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) of process ``pid`` so far (proc(5))."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (``/proc/<pid>/task/<tid>/children``)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def descendants(pid: int, exclude: frozenset[int] = frozenset()) -> list[int]:
    """Every live process below ``pid`` (the re-scoring worker and multiprocessing's
    resource tracker), leaving out ``exclude`` and what is below it (the stand-in)."""
    found: list[int] = []
    todo = [c for c in _children(pid) if c not in exclude]
    while todo:
        child = todo.pop()
        found.append(child)
        with contextlib.suppress(OSError):
            todo += [c for c in _children(child) if c not in exclude]
    return found


class WithWorkers:
    """A bot's CPU seconds so far, its worker processes' included: the honest-likes
    re-scoring runs in a worker process (``domain.likes``), and a ``/故事榜`` after likes
    waits for it, so its CPU is the command's. A worker that started during a phase counts
    whole; one that ended during it (idle for minutes) cannot, and none does in a run."""

    def __init__(self, pid: int, own: Callable[[], float], exclude: frozenset[int]) -> None:
        self.pid, self.own, self.exclude = pid, own, exclude
        self.worker_cpu = 0.0  # the workers' share of the last reading
        self.worker_peak_mb = 0.0

    def __call__(self) -> float:
        workers = 0.0
        for child in descendants(self.pid, self.exclude):
            with contextlib.suppress(OSError, ValueError):
                workers += _stat_cpu(child)
                for line in Path(f"/proc/{child}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = int(line.split()[1]) / 1024
                        self.worker_peak_mb = max(self.worker_peak_mb, round(peak, 1))
        self.worker_cpu = workers
        return self.own() + workers


class Child:
    """A bot in an OS process of its own: its CPU time and resident memory, read from
    ``/proc`` (proc(5)) while it runs."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, *argv: str, log: Path) -> Child:
        with log.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, *argv, stdout=asyncio.subprocess.DEVNULL, stderr=err
            )
        return cls(proc)

    def cpu(self) -> float:
        """CPU seconds (user + system, all threads) used so far."""
        return _stat_cpu(self.proc.pid)

    def memory_mb(self, key: str) -> float:
        """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) in MB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return round(int(line.split()[1]) / 1024, 1)
        raise RuntimeError(f"no {key} for process {self.proc.pid}")

    async def stop(self) -> None:
        """SIGTERM (the bot stops gracefully), SIGKILL after 30 s."""
        if self.proc.returncode is None:
            self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def cpu_per_message(
    platform: Platform,
    batch: list[list[str]],
    rate: float = 0.0,
    cpu: Callable[[], float] = time.process_time,
) -> dict[str, Any]:
    """Push ``batch``; the bot's CPU per message (``cpu``: seconds so far, of this process
    by default) and the platform's answer."""
    started = cpu()
    answer = await platform.ask(cmd="mix", messages=batch, rate=rate)
    spent = cpu() - started
    return {
        "cpu_ms_per_msg": round(spent / len(batch) * 1000, 3),
        "msgs_per_s": round(len(batch) / answer["elapsed"], 1),
        "sent": answer["sent"],
        "latencies": answer["latencies"],
    }


async def phases(
    platform: Platform,
    args: argparse.Namespace,
    cpu: Callable[[], float] = time.process_time,
    stalls: bool = True,
) -> dict[str, Any]:
    """The mix, each command alone, and the mix at a fixed rate; ``stalls``: with the
    loop-stall probe (only when the bot runs in this process, on this loop)."""
    await platform.ask(cmd="mix", messages=messages(MIX, 100, offset=10_000))  # warm up
    result: dict[str, Any] = {}
    probe = LoopProbe(period=0.002)
    async with probe if stalls else contextlib.nullcontext(probe):
        mix = await cpu_per_message(platform, messages(MIX, args.messages), cpu=cpu)
        result["mix"] = {k: v for k, v in mix.items() if k != "latencies"}
        result["per_command"] = {}
        for n, kind in enumerate(KINDS):
            run = await cpu_per_message(
                platform, messages([kind], args.per_command, offset=20_000 + n * 1000), cpu=cpu
            )
            result["per_command"][kind] = run["cpu_ms_per_msg"]
        paced = await cpu_per_message(
            platform, messages(MIX, args.rate_messages, offset=50_000), rate=args.rate, cpu=cpu
        )
    latencies = sorted(paced["latencies"])
    result["ack_p50_ms"] = round(statistics.median(latencies) * 1000, 2)
    result["ack_p99_ms"] = round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2)
    if not stalls:
        return result
    # The loop thread's CPU between two wake-ups (the work that held the loop), and how late
    # the timer fired (wall clock: mostly the shared machine's load).
    result["longest_stall_ms"] = round(probe.longest_cpu * 1000, 1)
    result["stalls_over_20ms"] = probe.over_20ms
    result["longest_late_ms"] = round(probe.longest_late * 1000, 1)
    return result


async def run_echo(platform: Platform, args: argparse.Namespace) -> dict[str, Any]:
    client = dingtalk_stream.DingTalkStreamClient(
        dingtalk_stream.Credential(CLIENT_ID, CLIENT_SECRET)
    )
    client.get_host_ip = lambda: "127.0.0.1"  # the SDK probes a public address for this
    client.register_callback_handler(dingtalk_stream.ChatbotMessage.TOPIC, EchoBot())
    task = asyncio.create_task(client.start())
    try:
        await platform.ask(cmd="connected")
        return await phases(platform, args)
    finally:
        while not task.done():  # the SDK's loop catches CancelledError and reconnects
            task.cancel()
            await asyncio.sleep(0.01)
        if client.websocket is not None:
            await client.websocket.close()


async def set_up(platform: Platform) -> None:
    """Review off, activities, stories and skill posts, as members would make them."""

    async def say(text: str, sender: str = ADMIN) -> None:
        await platform.ask(cmd="say", text=text, sender=sender, conversation=GROUP)

    await say("/审核 关")
    for k in range(1, EVENTS + 1):
        await say(f"/活动 新建 志愿活动{k} | 2027-06-0{k} 09:00 | 2 | 社区中心 | 5000")
    for k in range(STORIES):
        await say(f"/故事 开场故事{k} | 第 {k} 个故事。", sender=f"u{k:03d}")
    for k in range(200):
        verb = "/我会" if k % 2 else "/我想学"
        await say(f"{verb} {VOCABULARY[(k * 13) % len(VOCABULARY)]}", sender=f"u{k:03d}")
    await platform.ask(cmd="quiet")


async def profile(platform: Platform, args: argparse.Namespace) -> None:
    """cProfile the bot on the mix; the 40 costliest functions (cumulative) to stderr."""
    import cProfile
    import pstats

    kinds = [args.only] if args.only else MIX
    if args.profile == "none":  # for an outside sampler such as py-spy
        await platform.ask(cmd="mix", messages=messages(kinds, args.messages, offset=90_000))
        return
    profiler = cProfile.Profile()
    profiler.enable()
    await platform.ask(cmd="mix", messages=messages(kinds, args.messages, offset=90_000))
    profiler.disable()
    pstats.Stats(profiler, stream=sys.stderr).sort_stats(args.profile).print_stats(60)


async def run_bot(platform: Platform, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    settings = load_settings(
        None,
        dingtalk={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        storage={"url": args.url or f"sqlite:///{folder / 'mix.sqlite3'}"},
        admins={"staff_ids": [ADMIN]},
        ops={"listen": ""},
        # The stand-in does not throttle; DingTalk's 20 group posts a minute would make the
        # benchmark measure the pace (a new story is posted to the group), not the CPU.
        sender={"group_messages_per_minute": 1_000_000, "group_burst": 1_000_000},
    )
    app = Application(settings)
    if not args.no_freeze:
        settle_heap()  # as ``community-bot run`` does
    await app.start()
    try:
        await platform.ask(cmd="connected")
        await set_up(platform)
        if args.profile:
            await profile(platform, args)
            return {}
        cpu = WithWorkers(os.getpid(), time.process_time, frozenset({platform.proc.pid}))
        result = await phases(platform, args, cpu=cpu)
        result["worker_peak_rss_mb"] = cpu.worker_peak_mb
        return result
    finally:
        await app.stop()


async def run_echo_process(
    platform: Platform, args: argparse.Namespace, folder: Path
) -> dict[str, Any]:
    """The echo bot in an OS process of its own: its CPU per message and peak RSS."""
    child = await Child.start(
        "-m", "bench.echo_process", CLIENT_ID, CLIENT_SECRET, log=folder / "echo.log"
    )
    try:
        await platform.ask(cmd="connected")
        result = await phases(platform, args, cpu=child.cpu, stalls=False)
        result["peak_rss_mb"] = child.memory_mb("VmHWM")
        return result
    finally:
        await child.stop()


CONFIG = """
[dingtalk]
client_id = "{client_id}"
client_secret = "{client_secret}"
openapi_endpoint = "http://127.0.0.1:{port}"

[storage]
url = "{url}"

[admins]
staff_ids = ["{admin}"]

[ops]
listen = ""

# The stand-in does not throttle; DingTalk's 20 group posts a minute would make the
# benchmark measure the pace (a new story is posted to the group), not the CPU.
[sender]
group_messages_per_minute = 1000000
group_burst = 1000000
"""


async def run_bot_process(
    platform: Platform, args: argparse.Namespace, folder: Path
) -> dict[str, Any]:
    """The bot as deployed: ``python -m bot run --config`` in an OS process of its own, on a
    database the release step (``community-bot migrate``) brought to the head first; its
    CPU per message, resident memory once started and once the group is set up, and peak
    resident memory."""
    config = folder / "mix.toml"
    url = args.url or f"sqlite:///{folder / 'process.sqlite3'}"
    config.write_text(
        CONFIG.format(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, port=PORT, url=url, admin=ADMIN
        ),
        encoding="utf-8",
    )
    await migrate(load_settings(str(config)))
    child = await Child.start(
        "-m", "bot", "--log-level", "ERROR", "run", "--config", str(config), log=folder / "bot.log"
    )
    try:
        await platform.ask(cmd="connected")
        started_mb = child.memory_mb("VmRSS")
        await set_up(platform)
        set_up_mb = child.memory_mb("VmRSS")
        cpu = WithWorkers(child.proc.pid, child.cpu, frozenset())
        result = await phases(platform, args, cpu=cpu, stalls=False)
        result["worker_peak_rss_mb"] = cpu.worker_peak_mb  # the re-scoring worker's, apart
        result["started_rss_mb"] = started_mb
        result["set_up_rss_mb"] = set_up_mb  # after the activities, stories and skill posts
        result["peak_rss_mb"] = child.memory_mb("VmHWM")
        return result
    finally:
        await child.stop()


def _ratio(echo: float, bot: float) -> float:
    return round(echo / bot, 2) if bot else 0.0


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    platform = await Platform.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if args.profile:
                await run_bot(platform, args, Path(tmp))
                return {}
            if not args.process_only:
                echo = await run_echo(platform, args)
                await asyncio.sleep(0.5)
                bot = await run_bot(platform, args, Path(tmp))
                await asyncio.sleep(0.5)
            process: dict[str, Any] = {}
            if not args.no_process:
                process["echo"] = await run_echo_process(platform, args, Path(tmp))
                await asyncio.sleep(0.5)
                process["bot"] = await run_bot_process(platform, args, Path(tmp))
                process["cpu_ratio_mix"] = _ratio(
                    process["echo"]["mix"]["cpu_ms_per_msg"],
                    process["bot"]["mix"]["cpu_ms_per_msg"],
                )
            if args.process_only:  # for memory experiments: no stall figures then
                echo, bot = process["echo"], process["bot"]
    finally:
        await platform.stop()
    # This process ran both bots, the benchmark's modules and the SDK's requests: the
    # target is about the bot's own process, measured above when it ran as deployed.
    bench_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    per: Callable[[str], dict[str, Any]] = lambda k: {  # noqa: E731
        "bot_cpu_ms": bot["per_command"][k],
        "echo_cpu_ms": echo["per_command"][k],
        "ratio": _ratio(echo["per_command"][k], bot["per_command"][k]),
    }
    return {
        "mix": "per 10: 2 /赞, /故事, /故事榜, /活动, /报名, /我会, /我想学, /匹配, /帮助",
        "messages": args.messages,
        "per_command_messages": args.per_command,
        "rate": args.rate,
        "echo": {k: v for k, v in echo.items() if k != "per_command"},
        "bot": {k: v for k, v in bot.items() if k != "per_command"},
        "cpu_ratio_mix": _ratio(echo["mix"]["cpu_ms_per_msg"], bot["mix"]["cpu_ms_per_msg"]),
        "per_command": {k: per(k) for k in KINDS},
        "peak_rss_mb": process["bot"]["peak_rss_mb"] if process else bench_rss_mb,
        "peak_rss_of": "bot process (python -m bot run)" if process else "bench process",
        "bench_process_peak_rss_mb": bench_rss_mb,
        "process": process,
        "targets": {
            "cpu_ratio_mix": ">= 1.0",
            "ack_p99_ms": "<= 20",
            "longest_stall_ms": "<= 20",
            "peak_rss_mb": "<= 120",
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--per-command", type=int, default=200)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--rate-messages", type=int, default=1000)
    parser.add_argument("--url", default="", help="storage URL (default: SQLite in a temp dir)")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    parser.add_argument(
        "--profile", default="", help="only profile the bot on the mix, sorted by this key"
    )
    parser.add_argument("--only", default="", help="profile this command alone (like, match…)")
    parser.add_argument(
        "--no-process",
        action="store_true",
        help="skip the runs of each bot in an OS process of its own (peak RSS is then this one's)",
    )
    parser.add_argument(
        "--process-only",
        action="store_true",
        help="only the runs in OS processes of their own (no stall probe; for memory work)",
    )
    parser.add_argument(
        "--no-freeze", action="store_true", help="leave the start-up heap to the GC (trick off)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    for name in ("dingtalk_stream.client", "dingtalk_stream.handler"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return report(asyncio.run(main_async(args)), args.out)


if __name__ == "__main__":
    sys.exit(main())
