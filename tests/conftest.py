"""Shared fixtures: the local DingTalk stand-in and a bot connected to it through the SDK."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import Application
from bot.config import Settings, load_settings
from bot.router import Router
from bot.sandbox.standin import StandIn

BACKENDS = ("sqlite", "postgresql")
PG_ENV = "COMMUNITY_BOT_TEST_POSTGRES"
# "sqlite" is the bot's inline driver; CI runs scenario tests again with
# COMMUNITY_BOT_TEST_SQLITE=sqlite+aiosqlite, the stock driver (see .ci/run).
SQLITE = os.environ.get("COMMUNITY_BOT_TEST_SQLITE", "sqlite")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that touches storage once per backend (``[sqlite]``, ``[postgresql]``).

    A test limits itself with ``@pytest.mark.backends("postgresql")``.
    """
    if "backend" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        names = marker.args if marker else BACKENDS
        metafunc.parametrize("backend", names, scope="function")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "backends(*names): run the test on these storage backends only"
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say what was skipped and why, one line per reason (not one per test)."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in reasons.items():
        terminalreporter.write_line(f"skipped {count}: {reason}")


def bot_settings(
    standin: StandIn, tmp_path: Path, url: str | None = None, **sections: dict[str, Any]
) -> Settings:
    """Settings for a bot pointed at ``standin`` with fast reconnects and retries."""
    base: dict[str, dict[str, Any]] = {
        "dingtalk": {
            "client_id": standin.client_id,
            "client_secret": standin.client_secret,
            "openapi_endpoint": standin.url,
        },
        "storage": {"url": url or f"{SQLITE}:///{tmp_path / 'bot.sqlite3'}"},
        "admins": {"staff_ids": ["admin1"]},
        "stream": {
            "ping_interval": 0.5,
            "ping_timeout": 0.5,
            "backoff_initial": 0.05,
            "backoff_max": 0.5,
        },
        "sender": {"backoff_initial": 0.05, "backoff_max": 0.4, "lease_seconds": 1.0},
        # Any free port: several bots (and several engineers' test runs) share the machine.
        "ops": {"listen": "127.0.0.1:0", "shutdown_timeout": 3.0},
    }
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    return load_settings(None, **base)


async def _fresh_pg_database() -> AsyncIterator[str]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL variant: {PG_ENV} is not set (CI sets it and runs these)")
    import asyncpg
    from sqlalchemy.engine import make_url

    name = f"cb_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(base)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    admin = await asyncpg.connect(base)
    try:
        for _ in range(50):
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                break
            except asyncpg.InsufficientPrivilegeError:
                # FORCE may not end a server process of another role (an autovacuum
                # worker on the new database): it finishes within moments.
                await asyncio.sleep(0.1)
    finally:
        await admin.close()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for one test (CI provides the server; see .ci/run)."""
    async for url in _fresh_pg_database():
        yield url


@pytest.fixture
async def storage_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """The storage URL of this test's backend: a fresh SQLite file or PostgreSQL database."""
    if backend == "sqlite":
        yield f"{SQLITE}:///{tmp_path / 'bot.sqlite3'}"
        return
    async for url in _fresh_pg_database():
        yield url


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    server = StandIn(disconnect_grace=5.0)
    await server.start()
    yield server
    await server.stop()
    # What the real platform accepts but gets wrong: "@id" text where nothing can mention
    # (groupMessages/send, batchSend) or a webhook mention missing its "@id" text.
    assert not server.violations, server.violations


BotFactory = Callable[..., Any]


@pytest.fixture
async def start_bot(
    standin: StandIn, tmp_path: Path, storage_url: str
) -> AsyncIterator[BotFactory]:
    """Start an in-process bot (real SDK client, real WebSocket) against the stand-in.

    The bot stores in this test's backend (``storage_url``) unless ``storage`` says otherwise.
    """
    apps: list[Application] = []

    async def start(
        routers: list[Router] | None = None, clock: Any = None, **sections: dict[str, Any]
    ) -> Application:
        from handlers import default_routers

        settings = bot_settings(standin, tmp_path, storage_url, **sections)
        app = Application(settings, clock=clock, routers=[*default_routers(), *(routers or [])])
        await app.start()
        apps.append(app)
        await standin.wait_connected()
        return app

    yield start
    for app in apps:
        await app.stop()


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` until true (for state with no event to wait on)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
