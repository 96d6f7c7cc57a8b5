"""Connection handling of the PostgreSQL backend: a pool, group-committed writes, ``call``.

Every operation borrows a connection of one ``psycopg_pool.AsyncConnectionPool`` (async
psycopg 3), so a process runs many operations at once. Reads run on a pooled connection in
autocommit mode (:meth:`PostgresConnection.fetch`); every write is a write function run by
:meth:`PostgresConnection.write` (or :meth:`~PostgresConnection.execute` for one
statement), so writes queued meanwhile share one commit (:mod:`.group_commit`). Opening
applies pending migrations (:mod:`.migrations`) under an advisory lock.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, TypeVar

import anyio.to_thread
import psycopg
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout

from hybrid_calendar.errors import StoreError
from hybrid_calendar.store.base import FieldCipher
from hybrid_calendar.store.postgres import migrations
from hybrid_calendar.store.postgres.group_commit import GroupCommit, WriteFn
from hybrid_calendar.store.postgres.portable import PortableHandle

T = TypeVar("T")

Row = dict[str, Any]
Conn = AsyncConnection[Row]


def redact_url(url: str) -> str:
    """The URL without its password (for error messages and logs)."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://…"
    host, port, name = info.get("host", ""), info.get("port", ""), info.get("dbname", "")
    return f"postgresql://{host}{':' + str(port) if port else ''}/{name}"


class PostgresConnection:
    """Owns the connection pool of one database.

    :param url: ``postgresql://user[:password]@host[:port]/database`` (libpq syntax).
    :param cipher: encrypts sensitive fields.
    :param pool_size: most connections this process holds.
    """

    def __init__(self, url: str, cipher: FieldCipher, *, pool_size: int = 10) -> None:
        self.url = url
        self.cipher = cipher
        self.pool_size = pool_size
        self._pool: AsyncConnectionPool[Conn] | None = None
        self._sync_pool: ConnectionPool[Any] | None = None
        self._autocommit_pool: ConnectionPool[Any] | None = None
        self.group_commit = GroupCommit(self.connection)

    async def open(self) -> None:
        """Connect and apply pending migrations."""
        if self._pool is not None:
            return
        pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
            self.url, min_size=1, max_size=self.pool_size, open=False,
            kwargs={"row_factory": dict_row, "autocommit": True}, name="hybrid-calendar")
        try:
            await pool.open(wait=True, timeout=15)
            async with pool.connection() as conn:
                await migrations.apply(conn)
        except (psycopg.Error, PoolTimeout) as err:
            await pool.close()
            raise StoreError(f"cannot open database {redact_url(self.url)}: "
                             f"{str(err).strip() or type(err).__name__}") from err
        self._pool = pool

    async def close(self) -> None:
        """Close every connection of the pool (a closed store may be opened again)."""
        await self.group_commit.drain()
        for sync_pool in (self._sync_pool, self._autocommit_pool):
            if sync_pool is not None:
                await anyio.to_thread.run_sync(sync_pool.close)
        self._sync_pool = self._autocommit_pool = None
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def ping(self) -> bool:
        """True when a trivial query answers."""
        if self._pool is None:
            return False
        try:
            return bool(await self.fetch("SELECT 1 AS one"))
        except Exception:
            return False

    async def call(self, fn: Callable[[PortableHandle], T]) -> T:
        """Run ``fn(handle)`` in a worker thread on a pooled synchronous connection
        (:class:`~.portable.PortableHandle`); what ``fn`` left open is committed when it
        returns and rolled back when it raises."""
        self._pool_or_fail()
        if self._sync_pool is None:
            self._sync_pool = ConnectionPool(self.url, min_size=0, max_size=2, open=True,
                                             name="hybrid-calendar-call")
        pool = self._sync_pool

        def work() -> T:
            with pool.connection() as conn:  # commits on success, else rolls back
                return fn(PortableHandle(conn))
        return await anyio.to_thread.run_sync(work)

    async def call_grouped(self, fn: Callable[[PortableHandle], T]) -> T:
        """Like :meth:`call`, on a connection in autocommit mode: the function runs one
        write statement (or only reads) and never begins, commits or rolls back
        (``Store.call_grouped``), so its statement is atomic on its own and needs no
        ``BEGIN``/``COMMIT`` round trips (two statements fewer)."""
        self._pool_or_fail()
        if self._autocommit_pool is None:
            self._autocommit_pool = ConnectionPool(
                self.url, min_size=0, max_size=2, open=True, kwargs={"autocommit": True},
                name="hybrid-calendar-call-grouped")
        pool = self._autocommit_pool

        def work() -> T:
            with pool.connection() as conn:
                return fn(PortableHandle(conn))
        return await anyio.to_thread.run_sync(work)

    def _pool_or_fail(self) -> AsyncConnectionPool[Conn]:
        if self._pool is None:
            raise StoreError("store is not open: call open() first")
        return self._pool

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Conn]:
        """A pooled connection in autocommit mode (each statement commits)."""
        async with self._pool_or_fail().connection() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Conn]:
        """A pooled connection inside one transaction of its own, rolled back on any error
        (never grouped: for work that is not a store write, such as a database copy)."""
        async with self._pool_or_fail().connection() as conn, conn.transaction():
            yield conn

    async def write(self, fn: WriteFn[T]) -> T:
        """Run the write function ``fn(conn)`` in a transaction, perhaps shared with other
        writes queued meanwhile (:mod:`.group_commit`); returns once it is committed.

        ``fn`` may only run statements on ``conn`` (never await the store or the cipher)
        and may run again after a rollback.
        """
        self._pool_or_fail()
        return await self.group_commit.run(fn)

    async def execute_one(self, fn: WriteFn[T]) -> T:
        """Like :meth:`write`, for a write function that runs exactly one statement
        (atomic on its own: alone, it runs without ``BEGIN``/``COMMIT``)."""
        self._pool_or_fail()
        return await self.group_commit.run(fn, single_statement=True)

    async def fetch(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
                    ) -> list[Row]:
        """Run a query that writes nothing; its rows as dicts."""
        async with self.connection() as conn:
            cursor = await conn.execute(sql, params)
            return await cursor.fetchall()

    async def fetch_written(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
                            ) -> list[Row]:
        """Run one writing statement (group-committed); the rows it returns as dicts."""
        async def work(conn: Conn) -> list[Row]:
            cursor = await conn.execute(sql, params)
            return await cursor.fetchall()
        self._pool_or_fail()
        return await self.group_commit.run(work, single_statement=True)

    async def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> int:
        """Run one writing statement (group-committed); the number of rows it changed."""
        async def work(conn: Conn) -> int:
            cursor = await conn.execute(sql, params)
            return cursor.rowcount
        self._pool_or_fail()
        return await self.group_commit.run(work, single_statement=True)

