"""``community-bot check`` and ``community-bot migrate``: what an operator runs before a start.

``check`` validates the configuration, the database, the app's credentials (one access
token) and the stream (one connection opened and closed), and says in one line each what is
wrong. ``migrate`` applies the database migrations as a release step of its own.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

from sqlalchemy import Connection, text

from bot.config import Settings
from bot.errors import PlatformError
from bot.openapi import OpenAPI
from storage.db import Database
from storage.migrate import alembic_config

DB_TIMEOUT = 15.0


@dataclass(frozen=True, slots=True)
class Check:
    """One thing checked: its name, whether it passed, and what was found."""

    name: str
    ok: bool
    detail: str
    fatal: bool = True  # a failure that is only a warning does not fail the run

    def line(self) -> str:
        """``ok   name: detail`` / ``FAIL name: detail`` / ``warn name: detail``."""
        mark = "ok  " if self.ok else ("FAIL" if self.fatal else "warn")
        return f"{mark} {self.name}: {self.detail}"


async def run_checks(settings: Settings) -> list[Check]:
    """Every check, in the order an operator would fix them."""
    checks = [_check_config(settings)]
    checks.append(await _check_database(settings))
    if not settings.dingtalk.client_id or not settings.dingtalk.client_secret:
        checks.append(Check("credentials", False, "skipped: client_id / client_secret missing"))
        return [*checks, _check_listen(settings)]
    checks.append(await _check_credentials(settings))
    checks.append(await _check_stream(settings))
    checks.append(_check_listen(settings))
    return checks


def _check_config(settings: Settings) -> Check:
    missing = [
        key
        for key, value in (
            ("dingtalk.client_id", settings.dingtalk.client_id),
            ("dingtalk.client_secret", settings.dingtalk.client_secret.get_secret_value()),
        )
        if not value
    ]
    if missing:
        return Check("config", False, f"{' and '.join(missing)} not set")
    who = settings.ops.alert_staff_ids
    operators = who if who is not None else settings.admins.staff_ids
    detail = f"client_id {settings.dingtalk.client_id}, {len(operators)} operator(s) to alert"
    return Check("config", True, detail)


async def _check_database(settings: Settings) -> Check:
    db = Database(settings.storage.url)
    where = db.engine.url.render_as_string(hide_password=True)
    try:
        async with asyncio.timeout(DB_TIMEOUT):
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
                current = await conn.run_sync(_current_revision)
    except Exception as exc:
        return Check("database", False, f"{where}: {type(exc).__name__}: {str(exc)[:160]}")
    finally:
        await db.dispose()
    from alembic.script import ScriptDirectory  # only here: the bot's process never needs it

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if current == head:
        return Check("database", True, f"{where}, schema at {head}")
    state = f"schema at {current}" if current else "no schema yet"
    return Check(
        "database",
        True,
        f"{where}, {state}; `community-bot migrate` (or the first start) brings it to {head}",
    )


def _current_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


async def _check_credentials(settings: Settings) -> Check:
    api = OpenAPI(settings)
    try:
        await api.token()
    except PlatformError as exc:
        return Check(
            "credentials",
            False,
            f"DingTalk refused an access token ({exc}): check dingtalk.client_id and "
            "dingtalk.client_secret against the app's AppKey / AppSecret",
        )
    finally:
        await api.aclose()
    return Check("credentials", True, "an access token was issued")


async def _check_stream(settings: Settings) -> Check:
    from bot.stream import StreamCheckFailed, StreamEdge

    async def nothing(*_: object) -> None:
        return None

    async def no_click(*_: object) -> dict[str, object]:
        return {}

    edge = StreamEdge(settings, record=nothing, recorded=lambda _: None, click=no_click)
    try:
        await edge.check()
    except StreamCheckFailed as exc:
        return Check("stream", False, str(exc))
    return Check("stream", True, "a stream connection opened and closed")


def _check_listen(settings: Settings) -> Check:
    where = settings.ops.host_port
    if where is None:
        return Check("ops", True, "health and metrics endpoints off (ops.listen is empty)")
    host, port = where
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        return Check(
            "ops",
            False,
            f"cannot listen on {host}:{port} ({exc.strerror}); is the bot already running?",
            fatal=False,
        )
    return Check("ops", True, f"health and metrics can listen on {host}:{port}")


async def migrate(settings: Settings) -> str:
    """Apply the migrations; the revision the schema is at now."""
    db = Database(settings.storage.url)
    try:
        await db.migrate()
        async with db.engine.connect() as conn:
            current = await conn.run_sync(_current_revision)
    finally:
        await db.dispose()
    return current or "-"
