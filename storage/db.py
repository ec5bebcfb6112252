"""The database: engine, units of work, notifications between processes; the migrations it
applies on start-up are ``storage.migrate``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from storage.migrate import alembic_config as alembic_config  # public before the split
from storage.migrate import upgrade

log = logging.getLogger(__name__)

# Set ``session.info[SCRUB] = True`` in a unit of work that erased personal data: after the
# commit, SQLite's WAL is checkpointed and truncated so no old page copy keeps it.
SCRUB = "scrub"
CHECKPOINT_TRIES = 100  # 5 s of 50 ms waits for readers to finish

# PostgreSQL channels (LISTEN/NOTIFY) on which a process says it left work for the others:
# outbox rows nobody holds, recorded pushes it will not handle. Notifications are scoped to
# the database, so two deployments in two databases never hear each other.
OUTBOX_CHANNEL = "community_bot_outbox"
INBOX_CHANNEL = "community_bot_inbox"
LISTEN_CHECK_SECONDS = 5.0  # how often the listening connection is checked


async def notify(session: AsyncSession, channel: str, payload: str = "") -> None:
    """Tell every listening process about new work on ``channel`` when ``session`` commits
    (PostgreSQL delivers a NOTIFY at commit, and not at all on rollback); nothing on SQLite,
    where one process does all the work. ``payload`` (under 8000 bytes) says what."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": channel, "payload": payload},
        )


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level; SQLAlchemy's "begin" hook issues BEGIN IMMEDIATE
        # so a write transaction takes the lock up front instead of failing to upgrade it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted and overwritten content is zeroed on disk, not just unlinked, so an erased
        # member's data cannot be read back from free pages (https://sqlite.org/pragma.html
        # #pragma_secure_delete); with the WAL checkpoint after an erasure (``scrub``) no
        # readable page of the database files keeps it.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    return on_connect


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Owns the async engine; ``transaction()`` is the unit of work (commit or roll back)."""

    def __init__(
        self, url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int = 10
    ) -> None:
        url = async_url(url)
        parsed = make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            # Bounded: at most pool_size + max_overflow connections per process; a unit of
            # work waits (pool_timeout, 30 s) for a free one rather than opening more.
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = max_overflow
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            # aiosqlite waits for another connection's lock in its own thread; the inline
            # driver must not wait in the loop's and retries off it instead (busy_timeout 0;
            # storage/inline_sqlite.py).
            inline = parsed.get_driver_name() == "inline"
            event.listen(
                self.engine.sync_engine, "connect", _sqlite_pragmas(0 if inline else 30000)
            )
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer. Queueing writers here (FIFO) instead of in SQLite's busy
        # handler, which sleeps in growing steps, keeps the tail latency of acks low.
        self._writer = asyncio.Lock() if self.is_sqlite else None
        self._listen_engine: AsyncEngine | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits when the block ends, rolls back if it raises."""
        if self._writer is None:
            async with self.sessions() as session, session.begin():
                yield session
            return
        async with self._writer:
            async with self.sessions() as session, session.begin():
                yield session
            if session.info.pop(SCRUB, False):
                await self._checkpoint()

    async def _checkpoint(self) -> None:
        """Copy the WAL into the database file and truncate it: the WAL keeps old versions
        of pages (an erased member's rows among them) until a checkpoint resets it
        (https://sqlite.org/pragma.html#pragma_wal_checkpoint)."""
        busy = 1
        async with self.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            # ``driver_connection`` is aiosqlite's connection or the inline driver's; both
            # answer ``await execute(sql)`` with a cursor (the raw DBAPI cursor SQLAlchemy
            # adapts does not, and outside a transaction is where a checkpoint must run).
            driver: Any = raw.driver_connection
            # The inline driver's busy_timeout is 0 (it must not wait in the loop's thread),
            # so a reader makes the checkpoint answer "busy" at once: wait for it here, with
            # asyncio.sleep, about as long as busy_timeout would.
            for _ in range(CHECKPOINT_TRIES):
                cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                try:
                    busy, _, _ = await cursor.fetchone()
                finally:
                    await cursor.close()
                if not busy:
                    break
                await asyncio.sleep(0.05)
        if busy:
            log.warning("WAL checkpoint after an erasure was blocked by a reader")

    async def migrate(self) -> None:
        """Bring the schema to the newest revision (safe with several processes on PostgreSQL)."""
        async with self.engine.connect() as conn:
            if not self.is_sqlite:
                # Serialise concurrent start-ups: only one process migrates at a time.
                await conn.execute(text("SELECT pg_advisory_lock(7226031)"))
            try:
                await conn.run_sync(upgrade)
                await conn.commit()
            finally:
                if not self.is_sqlite:
                    await conn.execute(text("SELECT pg_advisory_unlock(7226031)"))
                    await conn.commit()

    async def notify(self, channel: str) -> None:
        """Tell the other processes about new work on ``channel`` now (see ``notify``)."""
        async with self.transaction() as session:
            await notify(session, channel)

    async def listen(self, handlers: dict[str, Callable[[str], None]]) -> None:
        """Call ``handlers[channel](payload)`` whenever another process notifies ``channel``;
        runs until cancelled. PostgreSQL only (LISTEN/NOTIFY).

        One connection of its own, outside the pool (a pooled one would carry the LISTEN to
        its next user). When it is lost (a restart, a failover) it is opened again, and every
        handler is called once then, for what was said meanwhile; the callers' polling covers
        the gap. Losing it is one log line, not a traceback per try.
        """
        if self.is_sqlite:
            raise RuntimeError("LISTEN/NOTIFY needs PostgreSQL")
        if self._listen_engine is None:
            self._listen_engine = create_async_engine(self.url, poolclass=NullPool)
        lost = False
        while True:
            try:
                async with self._listen_engine.connect() as conn:
                    raw = await conn.get_raw_connection()
                    driver: Any = raw.driver_connection  # asyncpg's Connection
                    for channel, handler in handlers.items():
                        await driver.add_listener(channel, _call(handler))
                    if lost:
                        log.info("listening for the other processes' work again")
                    lost = False
                    for handler in handlers.values():
                        handler("")
                    while not driver.is_closed():
                        await asyncio.sleep(LISTEN_CHECK_SECONDS)
                        # A round trip notices a connection the server dropped silently.
                        await driver.execute("SELECT 1")
                    raise ConnectionError("the listening connection closed")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not lost:
                    log.warning(
                        "not listening for the other processes' work (%s: %s); polling only"
                        " until the database answers again",
                        type(exc).__name__,
                        exc,
                    )
                lost = True
            await asyncio.sleep(LISTEN_CHECK_SECONDS / 5)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        if self._listen_engine is not None:
            await self._listen_engine.dispose()


# SQLSTATE classes of a database that is away or overloaded for a while (PostgreSQL
# appendix A): connection exceptions, insufficient resources (disk full, too many
# connections), operator intervention (shutdown, "starting up"), system errors; and the
# serialisation failures a retry resolves.
_TRANSIENT_CLASSES = {"08", "53", "57", "58"}
_TRANSIENT_STATES = {"40001", "40P01"}
_SQLITE_TRANSIENT = ("database is locked", "disk", "full", "unable to open")


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot do the work *now* (restarting, unreachable,
    busy, full) rather than that the work is wrong: such work is retried later, never given
    up on, apologised for or kept as a dead letter."""
    if isinstance(exc, OSError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, InterfaceError):
        return True
    state = str(getattr(exc.orig, "sqlstate", None) or "")
    if state:
        return state[:2] in _TRANSIENT_CLASSES or state in _TRANSIENT_STATES
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        return any(part in text for part in _SQLITE_TRANSIENT)
    return isinstance(exc.orig, OSError)


def _call(handler: Callable[[str], None]) -> Callable[..., None]:
    """An asyncpg notification callback ``(connection, pid, channel, payload)`` for ``handler``."""

    def callback(_connection: object, _pid: object, _channel: object, payload: str) -> None:
        handler(payload)

    return callback


def async_url(url: str) -> str:
    """Pick the async driver for a plain URL: ``sqlite://`` runs inline, PostgreSQL on asyncpg."""
    parsed = make_url(url)
    if parsed.drivername == "sqlite":
        import storage.inline_sqlite  # noqa: F401  (registers the dialect)

        return parsed.set(drivername="sqlite+inline").render_as_string(hide_password=False)
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    return url
