"""An aiosqlite-shaped SQLite driver that runs in the event loop's thread.

aiosqlite hands every call to a worker thread: about half a millisecond per statement, ten
times the cost of a whole local SQLite transaction. The bot is one process per SQLite file
and serialises writers itself (``Database``), so statements run inline: microseconds each,
no thread hops. SQLAlchemy's own aiosqlite adapter drives this module unchanged; the URL
``sqlite:///file`` selects it (``sqlite+aiosqlite:///file`` still selects aiosqlite).

That adapter reaches into aiosqlite's private attributes (``_connection``, ``_thread``,
``_tx``), which this module imitates; SQLAlchemy changes them between releases (2.0.58
awaits what ``execute`` returns differently), so pyproject.toml pins SQLAlchemy to the
release CI tests, and CI also runs the suite on the stock ``sqlite+aiosqlite`` driver.

SQLite's busy handler sleeps in the calling thread, here the loop's: a write lock held by
another process (a backup, a second bot, the sqlite3 shell) would freeze pings and acks.
So the connection waits for no lock itself (``timeout=0``, busy_timeout 0): a statement
that finds the database locked is retried after an ``asyncio.sleep``, with backoff, for up
to ``BUSY_TIMEOUT`` seconds, the loop running meanwhile. SQLite changes nothing when it
answers SQLITE_BUSY, and a COMMIT that got it may be retried
(https://www.sqlite.org/rescode.html#busy, https://www.sqlite.org/lang_transaction.html).

SQLite also copies the WAL back into the database file (a checkpoint) inside the COMMIT that
takes the WAL past 1000 pages, in the committing thread: here the loop's, 10 ms to 0.3 s of
file writes. So this driver turns the automatic checkpoint off (``PRAGMA wal_autocheckpoint
=0``) and, after a commit, at most once every ``CHECKPOINT_EVERY`` seconds, runs a PASSIVE
checkpoint on a connection of its own in a worker thread; sqlite3 releases the GIL while
SQLite works, and a PASSIVE checkpoint never waits for, nor blocks, readers and writers
(https://www.sqlite.org/wal.html#ckpt, https://www.sqlite.org/pragma.html#pragma_wal_checkpoint,
https://www.sqlite.org/c3ref/wal_checkpoint_v2.html).

A COMMIT of a big transaction (``BIG_COMMIT_ROWS`` rows changed, counted with the public
``sqlite3.Connection.total_changes``) runs in a worker thread for the same reason; small
ones, every message's, stay inline, where they cost microseconds. So does a statement whose
parameters carry ``BIG_PARAM_BYTES`` or more of text or bytes (a file reply's workbook in
the outbox: SQLite copies it into overflow pages in the executing thread), and the COMMIT of
its transaction, which writes those pages.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Generator, Iterable, Sequence
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi, SQLiteDialect_aiosqlite

DatabaseError = sqlite3.DatabaseError
Error = sqlite3.Error
IntegrityError = sqlite3.IntegrityError
NotSupportedError = sqlite3.NotSupportedError
OperationalError = sqlite3.OperationalError
ProgrammingError = sqlite3.ProgrammingError
sqlite_version = sqlite3.sqlite_version
sqlite_version_info = sqlite3.sqlite_version_info


BUSY_TIMEOUT = 30.0  # seconds a statement waits for another connection's lock
CHECKPOINT_EVERY = 1.0  # seconds between two checkpoints in the worker thread, at most
BIG_COMMIT_ROWS = 2000  # rows changed since the last commit from which it runs off the loop
BIG_PARAM_BYTES = 64 * 1024  # text or bytes in one statement's parameters: run it off the loop
_SIZED = (str, bytes, bytearray, memoryview)


def _large(parameters: Any) -> bool:
    """Whether a statement's parameters (a sequence, or a mapping of named ones) carry
    ``BIG_PARAM_BYTES`` of text or bytes."""
    values = parameters.values() if isinstance(parameters, dict) else parameters
    size = 0
    for value in values:
        if isinstance(value, _SIZED):
            size += len(value)
    return size >= BIG_PARAM_BYTES


def _busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def _run(function: Callable[[], Any], result: Any) -> Any:
    """``function()`` now, or, if the database is locked, retried off an awaitable."""
    try:
        function()
    except sqlite3.OperationalError as exc:
        if not _busy(exc):
            raise
        return _retry(function, result)
    return _Done(result)


async def _retry(function: Callable[[], Any], result: Any) -> Any:
    deadline = time.monotonic() + BUSY_TIMEOUT
    delay = 0.001
    while True:
        await asyncio.sleep(delay)
        try:
            function()
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or time.monotonic() > deadline:
                raise
            delay = min(delay * 2, 0.05)
        else:
            return result


async def _off_loop(function: Callable[[], Any], result: Any) -> Any:
    """``function()`` in a worker thread, for a COMMIT of many changed rows or a statement
    with large parameters: SQLite writes the pages in the calling thread (40 to 200 ms for
    the 15,000 scattered weight changes of a million-like re-scoring), and sqlite3 releases
    the GIL meanwhile, so the loop keeps answering. The connection is not used by anyone
    else until this returns (the unit of work awaits each statement and its commit, and
    other writers wait for the write lock)."""
    try:
        await asyncio.to_thread(function)
    except sqlite3.OperationalError as exc:
        if not _busy(exc):
            raise
        return await _retry(function, result)
    return result


class _Done:
    """An awaitable that is already finished (so nothing yields to the loop)."""

    def __init__(self, value: Any = None) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, Any]:
        return self.value
        yield  # pragma: no cover - makes this a generator


class Cursor:
    """aiosqlite's cursor surface over a plain ``sqlite3.Cursor``."""

    def __init__(self, cursor: sqlite3.Cursor, connection: Connection) -> None:
        self._cursor = cursor
        self._connection = connection

    def __aenter__(self) -> _Done:
        return _Done(self)

    def __aexit__(self, *exc: object) -> _Done:
        self._cursor.close()
        return _Done()

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Any:
        values = parameters or ()
        if _large(values):
            self._connection.large = True  # and its COMMIT writes them: off the loop too
            return _off_loop(lambda: self._cursor.execute(sql, values), self)
        return _run(lambda: self._cursor.execute(sql, values), self)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> Any:
        rows = list(seq)  # a retry needs them again
        if any(_large(row) for row in rows):
            self._connection.large = True
            return _off_loop(lambda: self._cursor.executemany(sql, rows), self)
        return _run(lambda: self._cursor.executemany(sql, rows), self)

    def fetchone(self) -> _Done:
        return _Done(self._cursor.fetchone())

    def fetchmany(self, size: int | None = None) -> _Done:
        return _Done(self._cursor.fetchmany(size or self._cursor.arraysize))

    def fetchall(self) -> _Done:
        return _Done(self._cursor.fetchall())

    def close(self) -> _Done:
        self._cursor.close()
        return _Done()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _Thread:
    daemon = True  # SQLAlchemy marks aiosqlite's thread as a daemon; there is none here


class _Immediate:
    """Stands in for aiosqlite's request queue: runs the function at once."""

    def put_nowait(self, item: tuple[Any, Any]) -> None:
        future, function = item
        try:
            result = function()
        except Exception as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)


class _Checkpointer:
    """Checkpoints one database file's WAL in a worker thread, one run at a time."""

    def __init__(self, database: str) -> None:
        self.database = database
        self._next = 0.0
        self._running = threading.Lock()

    def after_commit(self) -> None:
        now = time.monotonic()
        if now < self._next or not self._running.acquire(blocking=False):
            return
        self._next = now + CHECKPOINT_EVERY
        threading.Thread(target=self._checkpoint, name="sqlite-checkpoint", daemon=True).start()

    def _checkpoint(self) -> None:
        try:
            conn = sqlite3.connect(self.database, timeout=BUSY_TIMEOUT)
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            finally:
                conn.close()
        except sqlite3.Error:
            pass  # the next commit tries again; SQLite's WAL stays correct meanwhile
        finally:
            self._running.release()


_checkpointers: dict[str, _Checkpointer] = {}


class Connection:
    """aiosqlite's connection surface over a plain ``sqlite3.Connection``."""

    def __init__(self, conn: sqlite3.Connection, checkpointer: _Checkpointer | None) -> None:
        self._conn = conn
        self._connection = conn
        self._tx = _Immediate()
        self._thread = _Thread()
        self._checkpointer = checkpointer
        self._changes_at_commit = conn.total_changes
        self.large = False  # a statement of this transaction had large parameters

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> Cursor:
        return Cursor(self._conn.cursor(), self)

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Any:
        cursor = Cursor(self._conn.cursor(), self)
        return cursor.execute(sql, parameters)

    def commit(self) -> Any:
        checkpointer = self._checkpointer

        def commit() -> None:
            self._conn.commit()
            if checkpointer is not None:
                checkpointer.after_commit()

        changes = self._conn.total_changes
        big = self.large or changes - self._changes_at_commit >= BIG_COMMIT_ROWS
        self._changes_at_commit = changes
        self.large = False
        if big:
            return _off_loop(commit, None)
        return _run(commit, None)

    def rollback(self) -> _Done:
        self._conn.rollback()
        self._changes_at_commit = self._conn.total_changes
        self.large = False
        return _Done()

    def close(self) -> _Done:
        if self._connection is not None:
            self._conn.close()
            self._connection = None  # type: ignore[assignment]
        return _Done()

    def stop(self) -> None:
        self.close()

    def create_function(self, *args: Any, **kwargs: Any) -> _Done:
        self._conn.create_function(*args, **kwargs)
        return _Done()

    def __await__(self) -> Generator[Any, None, Connection]:
        # ``aiosqlite.connect`` returns something to await; here it is already connected.
        return _Done(self).__await__()


def connect(database: str, **kwargs: Any) -> Connection:
    """Open a connection (awaitable, like ``aiosqlite.connect``)."""
    kwargs.pop("loop", None)
    kwargs.setdefault("check_same_thread", False)
    kwargs["timeout"] = 0  # never wait for a lock in the loop's thread (see the module doc)
    conn = sqlite3.connect(database, **kwargs)
    checkpointer = None
    if database not in ("", ":memory:") and not kwargs.get("uri"):
        # A file: checkpoint it off the loop, never inside a commit (see the module doc).
        conn.execute("PRAGMA wal_autocheckpoint=0")
        checkpointer = _checkpointers.setdefault(database, _Checkpointer(database))
    return Connection(conn, checkpointer)


class InlineSQLiteDialect(SQLiteDialect_aiosqlite):
    """SQLAlchemy's aiosqlite dialect, driving this module instead of aiosqlite."""

    driver = "inline"
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> AsyncAdapt_aiosqlite_dbapi:
        import sys

        return AsyncAdapt_aiosqlite_dbapi(sys.modules[__name__], sqlite3)


registry.register("sqlite.inline", __name__, "InlineSQLiteDialect")
