"""Connection handling of the SQLite backend: WAL, one serialized worker, transactions."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from hybrid_calendar.crypto.repository import migrations as key_migrations
from hybrid_calendar.errors import StoreError
from hybrid_calendar.store.base import FieldCipher
from hybrid_calendar.store.migrations import migrations
from hybrid_calendar.store.sqlite_worker import GroupCommitWorker

T = TypeVar("T")

WAL_AUTOCHECKPOINT_PAGES = 4000
"""The WAL is copied back into the database once it holds this many pages (16 MB with
4 kB pages; SQLite's default is 1,000). A page written by several commits meanwhile
(the outbox's time index takes one scattered page per Join button) is copied once per
checkpoint: ≈ 15 % less CPU in a sync's commit (docs/performance.md). Durability is
unchanged: every commit is in the WAL, fsynced, before it is acknowledged."""

TEMP_STORE = "MEMORY"
"""Where SQLite keeps temporary data: its statement journals (the pages a savepoint
changes, kept to undo them) and any temporary table or sort. Each grouped operation runs
in a savepoint (:mod:`~hybrid_calendar.store.sqlite_worker`), and with SQLite's default a
savepoint's journal moves to a temporary file past 64 kB: most grouped syncs created,
wrote, unlinked and closed one, all of it kernel time in the store's thread (≈ 10 % of
that thread's CPU, docs/performance.md). In memory the journal is as large as the pages
one operation changes (a page of meetings: tens of pages). The gateway makes no
temporary tables and runs no ``VACUUM``."""


def ts(when: datetime | None) -> float | None:
    """Datetime to epoch seconds (the stored form)."""
    return None if when is None else when.timestamp()


def dt(value: float | None) -> datetime | None:
    """Epoch seconds to an aware UTC datetime."""
    return None if value is None else datetime.fromtimestamp(value, UTC)


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction (``BEGIN IMMEDIATE``), rolled back on any error.

    Inside a transaction already open (operations grouped by the worker thread,
    :mod:`hybrid_calendar.store.sqlite_worker`) it is a savepoint of that transaction.
    """
    if conn.in_transaction:
        conn.execute("SAVEPOINT nested_transaction")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:  # some errors end the whole transaction themselves
                conn.execute("ROLLBACK TO nested_transaction")
                conn.execute("RELEASE nested_transaction")
            raise
        conn.execute("RELEASE nested_transaction")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class SqliteConnection:
    """Owns the connection; runs every operation in its worker thread, one at a time,
    operations that queue up sharing one commit (:class:`GroupCommitWorker`).

    :param path: database file, or ``":memory:"``.
    :param cipher: encrypts sensitive fields.
    :param synchronous: ``FULL`` (default: committed syncs survive power loss) or ``NORMAL``.
    """

    def __init__(self, path: str | Path, cipher: FieldCipher, *,
                 synchronous: str = "FULL") -> None:
        self.path = str(path)
        self.cipher = cipher
        self.synchronous = synchronous
        self._conn: sqlite3.Connection | None = None
        self._db: Database | None = None
        self._worker = GroupCommitWorker(lambda: self._conn)

    @property
    def db(self) -> Database:
        """The sqlite-utils handle (only use it inside :meth:`call`)."""
        if self._db is None:
            raise StoreError("store is not open: call open() first")
        return self._db

    async def open(self) -> None:
        """Open the file, switch to WAL and apply pending migrations."""
        await self._worker.run(self._open_sync, grouped=False)

    def _open_sync(self) -> None:
        if self.path != ":memory:":
            path = Path(self.path)
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not path.exists():  # private from the first byte; WAL and SHM follow its mode
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            elif path.stat().st_size == 0 and not Path(self.path + "-wal").exists():
                raise StoreError(f"database {self.path} is empty (0 bytes), not a gateway "
                                 "database: restore it from a backup, or delete it to start "
                                 "a new, empty gateway")
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute(f"PRAGMA temp_store={TEMP_STORE}")
            damage = conn.execute("PRAGMA quick_check").fetchone()[0]
            if damage != "ok":
                conn.close()
                raise StoreError(f"database {self.path} is damaged ({damage}): restore it "
                                 "from a backup (sqlite3 .recover can salvage rows)")
            db = Database(conn)
            migrations.apply(db)
            key_migrations.apply(db)  # the cipher's keys live in the store's database
        except sqlite3.Error as err:
            raise StoreError(f"cannot open database {self.path}: {err}; restore it from a "
                             "backup if it is damaged") from err
        self._conn, self._db = conn, db

    async def close(self) -> None:
        """Checkpoint the WAL and close the connection."""
        if self._conn is not None:
            await self._worker.run(self._close_sync, grouped=False)

    def _close_sync(self) -> None:
        assert self._conn is not None
        with contextlib.suppress(sqlite3.Error):
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._conn.close()
        self._conn = self._db = None

    async def ping(self) -> bool:
        """True when a trivial query answers."""
        try:
            return bool(await self._run(lambda: self.db.execute("SELECT 1").fetchone()))
        except Exception:
            return False

    async def call(self, fn: Callable[[Database], T]) -> T:
        """Run ``fn(db)`` serialized with all other operations (alone: ``fn`` may begin
        and commit transactions of its own)."""
        return await self._worker.run(lambda: fn(self.db), grouped=False)

    async def call_grouped(self, fn: Callable[[Database], T]) -> T:
        """Run ``fn(db)`` like :meth:`call`, but it may share a commit with other operations
        queued meanwhile: for functions that run one statement or nest their writes
        (``db.atomic()``, :func:`transaction`) and never commit or roll back themselves."""
        return await self._worker.run(lambda: fn(self.db))

    async def _run(self, fn: Callable[[], T]) -> T:
        """Run one of the store's own operations; it may share a commit with others
        queued meanwhile, so ``fn`` uses :func:`transaction` and never commits itself."""
        return await self._worker.run(fn)

    def _conn_or_fail(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("store is not open: call open() first")
        return self._conn

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        """Execute one statement on the connection (inside the worker thread)."""
        return self._conn_or_fail().execute(sql, params)

    @staticmethod
    def first_row(cursor: sqlite3.Cursor) -> dict[str, Any] | None:
        """The next row of an executed query as a dict of column name to value (``None``
        when there is none)."""
        found = cursor.fetchone()
        if found is None:
            return None
        return dict(zip([d[0] for d in cursor.description], found, strict=True))

    async def _select(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Run a query; rows as dicts of column name to value."""
        def work() -> list[dict[str, Any]]:
            cursor = self.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        return await self._run(work)
