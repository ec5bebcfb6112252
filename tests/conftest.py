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


def bot_settings(standin: StandIn, tmp_path: Path, **sections: dict[str, Any]) -> Settings:
    """Settings for a bot pointed at ``standin`` with fast reconnects and retries."""
    base: dict[str, dict[str, Any]] = {
        "dingtalk": {
            "client_id": standin.client_id,
            "client_secret": standin.client_secret,
            "openapi_endpoint": standin.url,
        },
        "storage": {"url": f"sqlite:///{tmp_path / 'bot.sqlite3'}"},
        "admins": {"staff_ids": ["admin1"]},
        "stream": {
            "ping_interval": 0.5,
            "ping_timeout": 0.5,
            "backoff_initial": 0.05,
            "backoff_max": 0.5,
        },
        "sender": {"backoff_initial": 0.05, "backoff_max": 0.4, "lease_seconds": 1.0},
        # Any free port: several bots (and several engineers' test runs) share the machine.
        "ops": {"listen": "127.0.0.1:0"},
    }
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    return load_settings(None, **base)


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for one test (CI provides the server; see .ci/run)."""
    base = os.environ.get("COMMUNITY_BOT_TEST_POSTGRES")
    if not base:
        pytest.skip("COMMUNITY_BOT_TEST_POSTGRES is not set (CI sets it and runs these)")
    import asyncpg
    from sqlalchemy.engine import make_url

    name = f"cb_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(base)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    admin = await asyncpg.connect(base)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    server = StandIn(disconnect_grace=5.0)
    await server.start()
    yield server
    await server.stop()


BotFactory = Callable[..., Any]


@pytest.fixture
async def start_bot(standin: StandIn, tmp_path: Path) -> AsyncIterator[BotFactory]:
    """Start an in-process bot (real SDK client, real WebSocket) against the stand-in."""
    apps: list[Application] = []

    async def start(
        routers: list[Router] | None = None, clock: Any = None, **sections: dict[str, Any]
    ) -> Application:
        from handlers import default_routers

        settings = bot_settings(standin, tmp_path, **sections)
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
