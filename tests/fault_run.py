"""The fault run: messages pushed through the stand-in to real bot processes under every
fault at once, then counted (issue 12's "Done when").

Faults: connections dropped (sockets aborted with no close handshake), duplicate deliveries
(every fifth push comes twice, as a redelivery does), HTTP 403 and 500 HTML pages (the
per-IP ban), 503 ``system.busy``, 401 expired tokens, throttling (``QpsLimit`` on the OpenAPI,
errcode 130101 on session webhooks) and several kill -9 of bot processes, each restarted.
A fifth of the messages come with an expired session (replies go through
``groupMessages/send``) and a tenth from one-to-one chats with an expired session (replies go
through ``oToMessages/batchSend``), so every sending route meets the faults.

Counts: pushed; handled once (one inbox record, handled, and one reply written for it);
delivered once, lost, doubled (replies as the stand-in received them). A reply doubled after
a kill -9 is one the dead process had sent but not yet marked: at most one per order key
(member and conversation) per kill, the copies on either side of the kill; "doubled outside
the window" counts any other.

Run (PostgreSQL: three processes; SQLite: one, as a SQLite file is one process's)::

    COMMUNITY_BOT_TEST_POSTGRES=postgresql://bot:bot@127.0.0.1/postgres \\
        .venv/bin/python -m tests.fault_run --backend postgresql --messages 2000 --kills 5
    .venv/bin/python -m tests.fault_run --backend sqlite --messages 2000 --kills 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.sandbox.standin import StandIn
from storage.db import Database
from storage.models import InboxEvent, OutboxMessage
from tests import processes

SENDERS = 20
LEASE_SECONDS = 2.0


class Fleet:
    """Bot processes of one deployment, killed and restarted by number."""

    def __init__(self, config: Path, folder: Path) -> None:
        self.config = config
        self.folder = folder
        self.procs: dict[int, asyncio.subprocess.Process] = {}

    async def start(self, n: int) -> None:
        self.procs[n] = await processes.start_process(
            self.config, self.folder, log_name=f"bot{n}.log"
        )

    async def kill(self, n: int) -> None:
        proc = self.procs.pop(n)
        proc.kill()  # SIGKILL: no clean-up of any kind
        await asyncio.wait_for(proc.wait(), 30)

    async def stop(self) -> None:
        for proc in self.procs.values():
            if proc.returncode is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        self.procs.clear()


def tag_of(index: int) -> str:
    return f"/nosuch-f{index:05d}"


def key_of(index: int) -> tuple[bool, str]:
    """The order key of message ``index``'s reply (one to one or group, and its sender):
    the sender keeps at most one reply per key between its send and its mark."""
    return index % 10 == 3, f"m{index % SENDERS:02d}"


def _outside_window(
    standin: StandIn, tags: list[str], kills: list[float], details: list[str] | None = None
) -> int:
    """Doubled replies not explained by a kill -9: the copies of each must straddle a kill,
    and each kill may explain at most one reply per order key (the window)."""
    copies: dict[str, list[float]] = {}
    for sent in standin.sent:
        start = sent.text.find("/nosuch-f")
        if start >= 0:
            copies.setdefault(sent.text[start : start + len(tag_of(0))], []).append(sent.at)
    used: set[tuple[int, tuple[bool, str]]] = set()
    outside = 0
    for index, tag in enumerate(tags):
        times = sorted(copies.get(tag, []))
        if len(times) < 2:
            continue
        between = [k for k, at in enumerate(kills) if times[0] <= at <= times[-1]]
        slot = next(((k, key_of(index)) for k in between if (k, key_of(index)) not in used), None)
        if len(times) > 2 or slot is None:
            outside += 1
            if details is not None:
                details.append(f"{tag} {key_of(index)} at {times}; kills at {kills}")
        else:
            used.add(slot)
    return outside


async def _counts(storage_url: str, standin: StandIn, tags: list[str]) -> dict[str, int]:
    db = Database(storage_url)
    try:
        async with db.transaction() as session:
            inbox = Counter((await session.execute(select(InboxEvent.status))).scalars().all())
            replies = (
                await session.execute(select(OutboxMessage.idem_key, OutboxMessage.reply))
            ).all()
    finally:
        await db.dispose()
    # One reply written per message: its "#0" row (a reply moved to another route has a
    # derived key; there are none unless a route is given up).
    written: Counter[str] = Counter()
    for key, reply in replies:
        text = json.dumps(json.loads(reply), ensure_ascii=False)
        start = text.find("/nosuch-f")
        if start >= 0 and key.endswith("#0"):
            written[text[start : start + len(tag_of(0))]] += 1
    seen = Counter(s.text[s.text.find("/nosuch-f") :][: len(tag_of(0))] for s in standin.sent)
    return {
        "pushed": len(tags),
        "recorded": sum(inbox.values()),
        "handled once": min(inbox["done"], sum(written[t] == 1 for t in tags)),
        "delivered once": sum(seen[t] == 1 for t in tags),
        "lost": sum(seen[t] == 0 for t in tags),
        "doubled": sum(seen[t] > 1 for t in tags),
        "unhandled": inbox["received"],
    }


async def fault_run(
    standin: StandIn,
    folder: Path,
    storage_url: str,
    *,
    messages: int,
    kills: int,
    processes_count: int,
    settle_timeout: float = 240.0,
) -> dict[str, int]:
    """Push ``messages`` under every fault with ``kills`` kill -9s; the counts."""
    config = processes.write_config(
        standin,
        folder,
        storage_url,
        lease_seconds=LEASE_SECONDS,
        ops_listen="",
        # Replies through groupMessages/send are paced per group (20 a minute by default):
        # the run checks delivery, not the pace, so the pace is opened up.
        sender="group_messages_per_minute = 100000\ngroup_burst = 1000\n",
    )
    fleet = Fleet(config, folder)
    faults = standin.faults
    faults.redeliver_after = 2.0  # unacked pushes (to a killed process) come again
    # A push waits for a connection while every process is reconnecting or starting again
    # (DingTalk keeps an unacked push and delivers it on the next connection).
    standin.push_wait = 60.0
    faults.throttle_every = 17  # QpsLimit (OpenAPI) / 130101 (webhook)
    faults.server_error_every = 23  # 503 system.busy
    faults.expire_token_every = 13  # 401 InvalidAuthentication
    kill_at = {messages * (k + 1) // (kills + 1): k % processes_count for k in range(kills)}
    restart_after = max(1, messages // (kills + 1) // 3)
    back: dict[int, int] = {}
    kill_times: list[float] = []
    tags = [tag_of(i) for i in range(messages)]
    try:
        for n in range(processes_count):
            await fleet.start(n)
        await standin.wait_connected(processes_count, timeout=60)
        for index, tag in enumerate(tags):
            sender = f"m{index % SENDERS:02d}"
            options: dict[str, Any] = {"sender": sender, "wait_ack": False}
            if index % 10 == 3:  # one to one, session expired: batchSend
                options.update(conversation=f"o2o-{sender}", conversation_type="1")
                options["session_ttl"] = -60.0
            elif index % 5 == 1:  # group, session expired: groupMessages/send
                options["session_ttl"] = -60.0
            faults.duplicate_pushes = index % 5 == 0
            await standin.say(tag, **options)
            faults.duplicate_pushes = False
            if index % 97 == 50:
                faults.html_ban, faults.html_ban_status = 2, 403 if index % 2 else 500
            if index % 300 == 150:
                await standin.drop()  # every connection, no close handshake
            if index in kill_at:
                victim = kill_at[index]
                if victim in fleet.procs:
                    await fleet.kill(victim)
                    # After the process is gone: a send it made reached the platform before.
                    kill_times.append(time.monotonic())
                    if fleet.procs:
                        back[index + restart_after] = victim
                    else:  # the only process: pushes wait for it, unacked, meanwhile
                        await fleet.start(victim)
            if index in back:
                await fleet.start(back.pop(index))
            await asyncio.sleep(0.005)
        for victim in back.values():
            await fleet.start(victim)
        deadline = time.monotonic() + settle_timeout
        while True:
            result = await _counts(storage_url, standin, tags)
            if (result["lost"] == 0 and result["unhandled"] == 0) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        # Sends a killed process left unmarked come again once their leases lapse.
        await asyncio.sleep(3 * LEASE_SECONDS)
        result = await _counts(storage_url, standin, tags)
        result["kills"] = len(kill_times)
        details: list[str] = []
        result["doubled outside the window"] = _outside_window(standin, tags, kill_times, details)
        for line in details:
            print("doubled outside the window:", line)
        return result
    finally:
        faults.throttle_every = faults.server_error_every = faults.expire_token_every = 0
        await fleet.stop()


async def _main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="cb-faults-"))
    standin = StandIn(disconnect_grace=5.0)
    await standin.start()
    pg_admin = os.environ.get("COMMUNITY_BOT_TEST_POSTGRES", "")
    db_name = f"faults_{uuid.uuid4().hex[:8]}"
    try:
        if args.backend == "sqlite":
            url, count = f"sqlite:///{folder / 'bot.sqlite3'}", 1
        else:
            if not pg_admin:
                raise SystemExit("set COMMUNITY_BOT_TEST_POSTGRES")
            plain = make_url(pg_admin).set(drivername="postgresql")
            admin = await asyncpg.connect(plain.render_as_string(hide_password=False))
            await admin.execute(f'CREATE DATABASE "{db_name}"')
            await admin.close()
            url = make_url(pg_admin).set(database=db_name).render_as_string(hide_password=False)
            count = args.processes
        started = time.monotonic()
        result = await fault_run(
            standin,
            folder,
            url,
            messages=args.messages,
            kills=args.kills,
            processes_count=count,
        )
        took = time.monotonic() - started
        print(
            f"{args.backend}, {count} process(es), {args.messages} messages, {args.kills} kill -9:"
            f" {result}; {took:.0f} s;"
            f" rejected sends {len(standin.rejected)}"
        )
    finally:
        await standin.stop()
        if args.backend != "sqlite" and pg_admin:
            plain = make_url(pg_admin).set(drivername="postgresql")
            admin = await asyncpg.connect(plain.render_as_string(hide_password=False))
            await admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--processes", type=int, default=3, help="PostgreSQL only")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
