"""Several real bot processes (the console script) on one PostgreSQL, sharing the load.

The stand-in spreads pushes over every live stream connection, as DingTalk does when several
processes connect with one clientId (DINGTALK.md, "Stream mode" 7). Counts are printed (run
with ``-s``) and asserted: pushed, handled once, delivered once, lost, doubled.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from bot.sandbox.standin import StandIn
from storage.db import Database
from storage.models import DigestRun, InboxEvent, OutboxMessage, Signup
from tests import processes
from tests.conftest import eventually

START_LOCAL = "2036-06-01 09:00"  # far ahead: these processes run on the real clock

pytestmark = pytest.mark.backends("postgresql")  # one SQLite file is one process's


def write_config(
    standin: StandIn,
    folder: Path,
    storage_url: str,
    sender: str = "",
    stream_backoff_max: float = 0.5,
) -> Path:
    """A config for processes of one deployment (no ops port to fight over); ``sender``
    adds lines to its [sender] section."""
    return processes.write_config(
        standin,
        folder,
        storage_url,
        lease_seconds=2.0,
        ops_listen="",
        sections='\n[admins]\nstaff_ids = ["admin1"]\n\n[cards]\nevent_template = "tpl-event"\n',
        sender=sender,
        stream_backoff_max=stream_backoff_max,
    )


def console_script() -> list[str]:
    """``community-bot`` as installed next to this Python (``python -m bot`` otherwise)."""
    script = Path(sys.executable).with_name("community-bot")
    if script.exists():
        return [str(script)]
    found = shutil.which("community-bot")
    return [found] if found else [sys.executable, "-m", "bot"]


class Fleet:
    """Bot processes started and stopped by a test; each logs to its own file."""

    def __init__(self, config: Path, folder: Path) -> None:
        self.config = config
        self.folder = folder
        self.procs: dict[int, asyncio.subprocess.Process] = {}

    async def start(self, n: int) -> None:
        self.procs[n] = await processes.start_process(
            self.config, self.folder, command=console_script(), log_name=f"bot{n}.log"
        )

    async def kill(self, n: int) -> None:
        proc = self.procs.pop(n)
        proc.kill()  # SIGKILL: no clean-up of any kind
        await proc.wait()

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


@pytest.fixture
async def fleet(standin: StandIn, tmp_path: Path, storage_url: str) -> Any:
    fleet = Fleet(write_config(standin, tmp_path, storage_url), tmp_path)
    yield fleet
    await fleet.stop()
    assert standin.client_secret not in _logs(tmp_path)


def _logs(folder: Path) -> str:
    return "".join(p.read_text(encoding="utf-8", errors="replace") for p in folder.glob("bot*.log"))


def replies_to(standin: StandIn, tag: str) -> list[str]:
    return [s.text for s in standin.sent if tag in s.text]


async def inbox_statuses(storage_url: str) -> Counter[str]:
    db = Database(storage_url)
    try:
        async with db.transaction() as session:
            rows = (await session.execute(select(InboxEvent.status))).scalars().all()
    finally:
        await db.dispose()
    return Counter(rows)


async def wait_handled(storage_url: str, pushes: int, timeout: float = 90.0) -> Counter[str]:
    """Wait until ``pushes`` robot messages are recorded and none is left to handle."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        statuses = await inbox_statuses(storage_url)
        if statuses["received"] == 0 and sum(statuses.values()) >= pushes:
            return statuses
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"inbox not handled in time: {statuses}")
        await asyncio.sleep(0.2)


def counts(standin: StandIn, tags: list[str]) -> dict[str, int]:
    """Pushed, delivered once, lost, doubled: for replies whose text holds one of ``tags``."""
    seen = Counter(tag for s in standin.sent for tag in tags if tag in s.text)
    return {
        "pushed": len(tags),
        "delivered once": sum(seen[t] == 1 for t in tags),
        "lost": sum(seen[t] == 0 for t in tags),
        "doubled": sum(seen[t] > 1 for t in tags),
    }


async def sign_ups(standin: StandIn, storage_url: str, members: int, seats: int) -> tuple[int, int]:
    """Publish an activity, have ``members`` sign up at once; (confirmed, total) sign-ups."""
    push = await standin.say(
        f"/活动 新建 植树 | {START_LOCAL} | 3 | 滨江公园 | {seats}", sender="admin1"
    )
    [sent] = await standin.wait_sent(
        where=lambda s: s.in_reply_to == push.data["msgId"], timeout=30
    )
    event_id = int(sent.text.split("#")[1].split("「")[0])
    joins = [
        await standin.say(f"/报名 {event_id}", sender=f"j{n:02d}", wait_ack=False)
        for n in range(members)
    ]
    ids = {p.data["msgId"] for p in joins}
    await eventually(lambda: len({s.in_reply_to for s in standin.sent} & ids) == members, 60)
    db = Database(storage_url)
    try:
        async with db.transaction() as session:
            confirmed = await session.scalar(
                select(func.count()).select_from(Signup).where(Signup.status == "confirmed")
            )
            total = await session.scalar(select(func.count()).select_from(Signup))
    finally:
        await db.dispose()
    return int(confirmed or 0), int(total or 0)


POLL = 10.0  # the outbox poll of both processes in the next test: the safety net only


async def test_a_reply_left_by_one_process_is_sent_by_another_at_once(
    standin: StandIn, tmp_path: Path, storage_url: str
) -> None:
    """Process A sends nothing (``sender.enabled = false``): the replies it writes wait,
    unleased, for B's sender. A's NOTIFY wakes B at once; before, B found them only at its
    next outbox poll (up to ``poll_seconds`` later)."""
    quiet = f"poll_seconds = {POLL}"
    a = Fleet(
        write_config(standin, tmp_path / "a", storage_url, quiet + "\nenabled = false"),
        tmp_path / "a",
    )
    b = Fleet(write_config(standin, tmp_path / "b", storage_url, quiet), tmp_path / "b")
    try:
        await a.start(0)
        await standin.wait_connected(1, timeout=60)
        [a_conn] = [c.id for c in standin.live()]
        await b.start(0)
        await standin.wait_connected(2, timeout=60)
        await asyncio.sleep(1.0)  # B listening
        latency: dict[str, list[float]] = {"A": [], "B": []}
        for i in range(8):
            before = standin.pushes_by_connection.get(a_conn, 0)
            start = time.monotonic()
            push = await standin.say(f"/nosuch-n{i}", sender=f"n{i}")
            [sent] = await standin.wait_sent(
                where=lambda s, p=push: s.in_reply_to == p.data["msgId"], timeout=3 * POLL
            )
            took = standin.pushes_by_connection.get(a_conn, 0) > before
            latency["A" if took else "B"].append(round(sent.at - start, 3))
            await asyncio.sleep(0.5)  # B's last poll well behind: only a NOTIFY is prompt
        print(f"\nreply latency (s) by the process that took the push, poll {POLL} s: {latency}")
        assert latency["A"] and latency["B"]
        # Sent by B, as promptly as B's own (well under the poll interval).
        assert max(latency["A"]) < 2.0
    finally:
        await a.stop()
        await b.stop()
        assert standin.client_secret not in _logs(tmp_path / "a") + _logs(tmp_path / "b")


async def test_processes_share_each_apis_rate(
    standin: StandIn, tmp_path: Path, storage_url: str
) -> None:
    """Two processes call batchSend at 4 calls a second together, not 4 each: DingTalk
    refuses beyond its per-app, per-API rate (QpsLimitForAppkeyAndApi, about 20 a second:
    DINGTALK.md "Errors and limits"); the stand-in refuses beyond 6 here."""
    standin.faults.expire_sessions = True  # every reply goes through oToMessages/batchSend
    standin.faults.api_qps = 6
    fleet = Fleet(
        write_config(standin, tmp_path, storage_url, "api_calls_per_second = 4"), tmp_path
    )
    try:
        for n in range(2):
            await fleet.start(n)
        await standin.wait_connected(2, timeout=60)
        tags = [f"/nosuch-q{i:02d}" for i in range(24)]
        for i, tag in enumerate(tags):
            await standin.say(
                tag,
                sender=f"q{i:02d}",
                conversation=f"cid-dm-q{i:02d}",
                conversation_type="1",
                wait_ack=False,
            )
        await eventually(lambda: counts(standin, tags)["lost"] == 0, timeout=60)
        path = "/v1.0/robot/oToMessages/batchSend"
        peak = standin.peak_calls_per_second(path)
        refused = [r for r in standin.rejected if r[0] == path]
        result = counts(standin, tags)
        print(
            f"\nbatchSend at 4/s shared by 2 processes: peak {peak}/s, refused {len(refused)}; {result}"
        )
        assert result == {"pushed": 24, "delivered once": 24, "lost": 0, "doubled": 0}
        assert refused == [] and peak <= 6
        assert len(standin.pushes_by_connection) == 2  # both processes took pushes
    finally:
        await fleet.stop()


@pytest.mark.parametrize("processes", [2, 3])
async def test_processes_share_the_load_and_handle_and_answer_each_message_once(
    standin: StandIn, fleet: Fleet, storage_url: str, processes: int
) -> None:
    for n in range(processes):
        await fleet.start(n)
    await standin.wait_connected(processes, timeout=60)
    tags = [f"/nosuch-m{m}-{i:02d}" for i in range(10) for m in range(6)]
    for tag in tags:
        await standin.say(tag, sender=tag.split("-")[1], wait_ack=False)
    await wait_handled(storage_url, len(tags))
    await standin.wait_sent(len(tags), timeout=60)
    assert await sign_ups(standin, storage_url, members=30, seats=5) == (5, 30)
    # Connection use is bounded: storage.pool_size + max_overflow (10 + 10) per process.
    db = Database(storage_url)
    try:
        async with db.transaction() as session:
            connections = await session.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
            )
    finally:
        await db.dispose()
    assert 1 + processes <= int(connections or 0) <= 1 + processes * 20
    result = counts(standin, tags)
    spread = sorted(standin.pushes_by_connection.values())
    print(f"\n{processes} processes: {result}; pushes per connection {spread}")
    assert result == {"pushed": 60, "delivered once": 60, "lost": 0, "doubled": 0}
    assert len(spread) >= processes  # every process took its share


async def test_kill_9_of_one_process_under_load_loses_nothing(
    standin: StandIn, fleet: Fleet, storage_url: str
) -> None:
    # A push to the killed process's connection that it had not acked comes again (DingTalk
    # redelivers unacked callbacks; DINGTALK.md "Stream mode" 6), here after 2 s.
    standin.faults.redeliver_after = 2.0
    for n in range(3):
        await fleet.start(n)
    await standin.wait_connected(3, timeout=60)
    tags = [f"/nosuch-k{m}-{i:03d}" for i in range(40) for m in range(5)]
    for index, tag in enumerate(tags):
        await standin.say(tag, sender=tag.split("-")[1], wait_ack=False)
        if index == len(tags) // 3:
            await fleet.kill(1)  # in the middle of the load
        if index == 2 * len(tags) // 3:
            await fleet.start(1)  # back again
        await asyncio.sleep(0.005)
    statuses = await wait_handled(storage_url, len(tags), timeout=120)
    await eventually(lambda: counts(standin, tags)["lost"] == 0, timeout=60)
    await asyncio.sleep(3 * 2.0)  # leases of sends the killed process never marked lapse
    result = counts(standin, tags)
    print(f"\nkill -9 of 1 of 3 processes: {result}; inbox {dict(statuses)}")
    assert result["lost"] == 0 and statuses["received"] == 0
    # A reply sent but not yet marked when the process died is sent again once its lease
    # lapses: at most the sends in flight plus the marks gathered in 20 ms.
    assert result["doubled"] <= 8


async def _recorded(storage_url: str) -> list[str]:
    """The outbox's replies in the order they were recorded (ids: writers of one member's
    replies take turns, so a member's ids follow the order their units of work committed)."""
    db = Database(storage_url)
    try:
        async with db.transaction() as session:
            return list(
                (
                    await session.scalars(select(OutboxMessage.reply).order_by(OutboxMessage.id))
                ).all()
            )
    finally:
        await db.dispose()


async def test_a_members_replies_keep_their_order_across_processes(
    standin: StandIn, fleet: Fleet, storage_url: str
) -> None:
    """A member in a group and another one to one each send 30 commands at once to three
    processes; the stand-in gets each member's replies in the order they were recorded,
    though the processes that recorded them raced to send them."""
    for n in range(3):
        await fleet.start(n)
    await standin.wait_connected(3, timeout=60)
    group = [f"/nosuch-og{i:02d}" for i in range(30)]
    direct = [f"/nosuch-od{i:02d}" for i in range(30)]
    for in_group, one_to_one in zip(group, direct, strict=True):
        await standin.say(in_group, sender="o1", wait_ack=False)
        await standin.say(
            one_to_one,
            sender="o2",
            conversation="cid-dm-o2",
            conversation_type="1",
            wait_ack=False,
        )
    tags = group + direct
    await eventually(lambda: counts(standin, tags)["lost"] == 0, timeout=60)
    await asyncio.sleep(3 * 2.0)  # anything sent twice shows
    recorded = await _recorded(storage_url)
    result = counts(standin, tags)
    order: dict[str, bool] = {}
    for name, mine in (("group", group), ("one to one", direct)):
        delivered = [t for s in standin.sent for t in mine if t in s.text]
        written = [t for reply in recorded for t in mine if t in reply]
        order[name] = delivered == written
        assert len(written) == len(mine)
        assert delivered == written, f"{name}: sent {delivered}, recorded {written}"
    spread = sorted(standin.pushes_by_connection.values())
    print(f"\nreply order, 3 processes: {result}; in order {order}; pushes per process {spread}")
    assert result == {"pushed": 60, "delivered once": 60, "lost": 0, "doubled": 0}
    assert len(spread) == 3  # every process recorded some of both members' replies


PG_BIN = Path("/usr/lib/postgresql")


def _pg_ctl() -> Path | None:
    versions = sorted(PG_BIN.glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return versions[-1] if versions else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """A throwaway PostgreSQL cluster of this test's own (restarting the shared one would
    disturb every other test using it), run as the ``postgres`` user."""

    def __init__(self, folder: Path, pg_ctl: Path) -> None:
        self.folder = folder
        self.pg_ctl = pg_ctl
        self.port = _free_port()
        self.url = f"postgresql://bot@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def init(self) -> None:
        shutil.chown(self.folder, "postgres", "postgres")
        initdb = str(self.pg_ctl.with_name("initdb"))
        self._as_postgres(initdb, "-D", str(self.folder), "-U", "bot", "--auth=trust", "-E", "UTF8")

    def ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._as_postgres(
            str(self.pg_ctl),
            "-D",
            str(self.folder),
            "-o",
            options,
            "-l",
            str(self.folder / "log"),
            "-w",
            *args,
        )


@pytest.fixture
def cluster(backend: str) -> Any:
    if not os.environ.get("COMMUNITY_BOT_TEST_POSTGRES"):
        pytest.skip(
            "PostgreSQL variant: COMMUNITY_BOT_TEST_POSTGRES is not set (CI sets it and runs these)"
        )
    pg_ctl = _pg_ctl()
    if pg_ctl is None or os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("needs PostgreSQL's binaries and root (to run a cluster as postgres)")
    # pytest's own temporary folders are private to root; the server runs as postgres.
    server = Cluster(Path(tempfile.mkdtemp(prefix="cb-pg-")), pg_ctl)
    server.init()
    server.ctl("start")
    yield server
    try:
        server.ctl("-m", "immediate", "stop")
    finally:
        shutil.rmtree(server.folder, ignore_errors=True)


async def test_postgresql_restarted_under_load_recovers_and_loses_nothing(
    standin: StandIn, tmp_path: Path, cluster: Cluster
) -> None:
    standin.faults.redeliver_after = 2.0  # pushes left unacked while it was down come again
    fleet = Fleet(write_config(standin, tmp_path, cluster.url), tmp_path)
    try:
        for n in range(2):
            await fleet.start(n)
        await standin.wait_connected(2, timeout=60)
        tags = [f"/nosuch-r{m}-{i:03d}" for i in range(30) for m in range(5)]
        for index, tag in enumerate(tags):
            await standin.say(tag, sender=tag.split("-")[1], wait_ack=False)
            if index == len(tags) // 3:
                await asyncio.to_thread(cluster.ctl, "-m", "fast", "restart")
            await asyncio.sleep(0.005)
        statuses = await wait_handled(cluster.url, len(tags), timeout=120)
        try:
            await eventually(lambda: counts(standin, tags)["lost"] == 0, timeout=30)
        except AssertionError:
            db = Database(cluster.url)
            async with db.transaction() as session:
                rows = (
                    await session.execute(
                        select(
                            OutboxMessage.status, OutboxMessage.last_error, OutboxMessage.attempts
                        )
                    )
                ).all()
                inbox = (await session.execute(select(InboxEvent.status, InboxEvent.error))).all()
            await db.dispose()
            print("OUTBOX", Counter(rows), "INBOX", Counter(inbox), counts(standin, tags))
            raise
        await asyncio.sleep(3 * 2.0)  # leases of replies sent but not marked lapse
        result = counts(standin, tags)
        print(f"\nPostgreSQL restarted under load (2 processes): {result}; inbox {dict(statuses)}")
        assert result["lost"] == 0 and statuses["received"] == 0
        # A reply is sent twice only when its mark waits out its lease (2 s here) for the
        # database; before the marks were retried, a restart doubled about one in ten.
        assert result["doubled"] <= 3
        assert all(p.returncode is None for p in fleet.procs.values())  # no operator needed
    finally:
        await fleet.stop()


OUTAGE = 30.0  # seconds the gateway refuses connections
RECONNECT_BACKOFF_MAX = 5.0


async def test_the_gateway_refusing_connections_for_30_s_loses_nothing(
    standin: StandIn, tmp_path: Path, storage_url: str
) -> None:
    """The stream gateway goes away for 30 s (its sockets close, TCP connections to it are
    refused; the OpenAPI still answers): both processes retry with backoff, reconnect, and
    every push (before, during, after) is handled and answered once. Pushes made while no
    connection is up wait for one, as DingTalk keeps an app's unacked pushes (DINGTALK.md
    "Stream mode" 6)."""
    standin.faults.redeliver_after = 2.0
    standin.push_wait = 3 * OUTAGE
    await standin.separate_gateway()
    config = write_config(standin, tmp_path, storage_url, stream_backoff_max=RECONNECT_BACKOFF_MAX)
    fleet = Fleet(config, tmp_path)
    try:
        for n in range(2):
            await fleet.start(n)
        await standin.wait_connected(2, timeout=60)
        tags = [f"/nosuch-g{m}-{i:02d}" for i in range(20) for m in range(4)]
        before, during, after = tags[:30], tags[30:60], tags[60:]

        async def push(tag: str) -> None:
            await standin.say(tag, sender=tag.split("-")[1], wait_ack=False)

        for tag in before:
            await push(tag)
            await asyncio.sleep(0.005)
        await standin.gateway_down()
        held = [asyncio.create_task(push(tag)) for tag in during]
        await asyncio.sleep(OUTAGE)
        assert not standin.live()  # refused all along
        refusals = standin.gateway_refusals
        await standin.gateway_up()
        up = time.monotonic()
        await standin.wait_connected(2, timeout=3 * RECONNECT_BACKOFF_MAX)
        reconnect = time.monotonic() - up
        await asyncio.gather(*held)
        for tag in after:
            await push(tag)
            await asyncio.sleep(0.005)
        statuses = await wait_handled(storage_url, len(tags), timeout=120)
        await eventually(lambda: counts(standin, tags)["lost"] == 0, timeout=60)
        await asyncio.sleep(3 * 2.0)  # leases of sends not marked lapse: any doubles show
        result = counts(standin, tags)
        print(
            f"\ngateway refused {OUTAGE:.0f} s (2 processes): {result}; inbox {dict(statuses)};"
            f" {refusals} connection attempts refused; reconnected {reconnect:.1f} s after"
        )
        assert result == {"pushed": 80, "delivered once": 80, "lost": 0, "doubled": 0}
        assert sum(statuses.values()) == 80 and statuses["received"] == 0  # handled once
        # Each process kept trying, with backoff: not once, not in a tight loop.
        assert 2 * 3 <= refusals <= 2 * (OUTAGE / 0.05)
        assert reconnect <= RECONNECT_BACKOFF_MAX + 3.0
        assert all(p.returncode is None for p in fleet.procs.values())
        assert "Traceback" not in _logs(tmp_path)
    finally:
        await fleet.stop()


async def test_each_reminder_and_digest_period_goes_out_once_from_three_processes(
    standin: StandIn, tmp_path: Path, storage_url: str
) -> None:
    """Three processes run the same jobs (each checks every minute, on the real clock): an
    activity two hours ahead gets its 24-hour reminder once, one starting in 40 minutes its
    1-hour reminder once, and this week's digest (its slot set two minutes ago) is posted
    once. The claim is recorded with the post in one transaction."""
    tz = ZoneInfo("Asia/Shanghai")  # the default bot.timezone
    now = datetime.now(tz)
    slot = now - timedelta(minutes=2)
    weekday = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][slot.weekday()]
    config = write_config(standin, tmp_path, storage_url)
    config.write_text(
        config.read_text(encoding="utf-8") + f'\n[digest]\nweekday = "{weekday}"\n'
        f'time = "{slot:%H:%M}"\n',
        encoding="utf-8",
    )
    fleet = Fleet(config, tmp_path)
    try:
        for n in range(3):
            await fleet.start(n)
        await standin.wait_connected(3, timeout=60)
        connected = time.monotonic()  # every process's job timers are running by now
        ids = []
        for title, ahead in (("晨跑", timedelta(hours=2)), ("夜读", timedelta(minutes=40))):
            starts = now + ahead
            push = await standin.say(
                f"/活动 新建 {title} | {starts:%Y-%m-%d %H:%M} | 1 | 图书馆 | 5", sender="admin1"
            )
            [sent] = await standin.wait_sent(
                where=lambda s, p=push: s.in_reply_to == p.data["msgId"], timeout=30
            )
            ids.append(int(sent.text.split("#")[1].split("「")[0]))
            for member in ("r1", "r2"):
                await standin.say(f"/报名 {ids[-1]}", sender=member)

        def reminders(event_id: int) -> list[str]:
            return [
                s.text
                for s in standin.sent
                if s.route == "group" and s.text.startswith(f"提醒：活动 #{event_id}「")
            ]

        # Each process's jobs run every minute.
        await eventually(lambda: all(reminders(i) for i in ids), timeout=150)
        # Every process's jobs have run at least once (each every minute) and found the
        # reminders and the period taken.
        await asyncio.sleep(max(0.0, connected + 60 + 15 - time.monotonic()))
        db = Database(storage_url)
        try:
            async with db.transaction() as session:
                runs = (await session.execute(select(DigestRun.period, DigestRun.status))).all()
        finally:
            await db.dispose()
        digests = [s for s in standin.sent if s.route == "group" and "周报" in s.text]
        counts_ = {i: len(reminders(i)) for i in ids}
        print(
            f"\nreminders per activity {counts_}; digest runs {runs}; digest posts {len(digests)}"
        )
        assert counts_ == {ids[0]: 1, ids[1]: 1}
        assert len(runs) == 1 and len(digests) <= 1
        assert len(digests) == (1 if runs[0].status == "posted" else 0)
    finally:
        await fleet.stop()
