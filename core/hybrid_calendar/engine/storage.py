"""Whether the data directory takes writes: a full disk or a read-only directory stops work.

A gateway whose database cannot be written must not keep taking work it cannot record:
every job would fail half-way, be retried, and fill the log. :class:`StorageGuard` knows
whether the data directory is writable. It trips when

* a write of the store fails for want of space or permission (:func:`storage_problem`
  reads SQLite's ``database or disk is full``, ``attempt to write a readonly database``,
  ``disk I/O error`` and the ``OSError`` numbers ENOSPC, EDQUOT, EFBIG, EROFS, EACCES,
  EPERM), or
* its probe fails: every :data:`PROBE_SECONDS` (every :data:`RECHECK_SECONDS` while
  tripped) it writes :data:`PROBE_BYTES` to a file in the directory, syncs it and
  removes it, so a full disk or a directory turned read-only is seen before the next
  write fails.

When it trips it logs one ERROR line saying why and what to do; ``/readyz`` reports
``storage`` unhealthy with the same reason, and the engine claims no job, delivers
nothing and runs no sweep. When a probe succeeds again it logs one line and the engine
resumes: jobs whose failure could not be recorded are queued again and every active
user is synced (push notifications that arrived meanwhile were not queued).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import inspect
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable, Set
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import anyio.to_thread

from hybrid_calendar.errors import StorageUnavailableError
from hybrid_calendar.models import UserState

if TYPE_CHECKING:
    from hybrid_calendar.config import Config
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)
T = TypeVar("T")

PROBE_SECONDS = 5.0
"""How often the data directory is probed while it is healthy."""
RECHECK_SECONDS = 1.0
"""How often it is probed while it is not."""
PROBE_BYTES = 64 * 1024
"""Bytes written by each probe (a little room must be left for the next commit)."""
PROBE_NAME = ".write-probe"

STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES,
                  errno.EPERM}
SQLITE_MESSAGES = ("database or disk is full", "readonly database", "disk i/o error")


def storage_problem(err: BaseException) -> str | None:
    """Why ``err`` (or an exception it was raised from) says the disk refused a write,
    or ``None`` when it is about something else."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in STORAGE_ERRNOS:
            return f"{os.strerror(current.errno or 0)} ({type(current).__name__})"
        if isinstance(current, sqlite3.Error):
            message = str(current).lower()
            if any(text in message for text in SQLITE_MESSAGES):
                return f"SQLite: {current}"
        current = current.__cause__ or current.__context__
    return None


def storage_directory(config: Config) -> Path | None:
    """The directory whose writability decides whether the engine works: the SQLite
    file's, else ``gateway.data_dir`` (key files); ``None`` for an in-memory database."""
    from hybrid_calendar.builder import database_path, is_postgres_url

    database = database_path(config)
    if database == ":memory:":
        return None
    if is_postgres_url(database):
        return Path(str(config.get("gateway", "data_dir")))
    return Path(database).parent


class StorageGuard:
    """The data directory's health as the engine sees it.

    :param directory: where the database (and the key file) live; ``None`` when the
        store is not a local file (the guard then only trips on write errors).
    """

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.reason: str | None = None
        self.unrecorded: dict[int, str] = {}
        """Jobs whose outcome could not be written (id to error), re-queued on recovery."""
        self.lock = asyncio.Lock()
        """Held by whoever checks and resumes, so a caller of a check sees it complete."""

    @property
    def healthy(self) -> bool:
        """True while writes are expected to succeed."""
        return self.reason is None

    @property
    def interval(self) -> float:
        """Seconds until the next probe."""
        return PROBE_SECONDS if self.healthy else RECHECK_SECONDS

    def trip(self, reason: str) -> None:
        """Stop taking work; log why once (not again while it stays tripped)."""
        if self.reason is None:
            where = self.directory or "the database"
            log.error("storage unavailable in %s: %s; the gateway takes no work until "
                      "space or write permission returns (nothing is lost: work resumes "
                      "by itself)", where, reason)
        self.reason = reason

    async def write(self, operation: Awaitable[T]) -> T:
        """Await a store write, unless storage is known to be unavailable.

        :raises StorageUnavailableError: it is, or the write failed for want of space or
            permission (the guard trips).
        """
        if not self.healthy:
            if inspect.iscoroutine(operation):
                operation.close()  # never started: no "never awaited" warning
            raise StorageUnavailableError(str(self.reason))
        try:
            return await operation
        except Exception as err:
            problem = storage_problem(err)
            if problem is None:
                raise
            self.trip(problem)
            raise StorageUnavailableError(problem) from err

    def failed(self, doing: str, err: Exception) -> None:
        """A store operation failed: trip when the disk refused the write (one log line
        in all), else log the error with its traceback."""
        problem = storage_problem(err)
        if problem is not None:
            self.trip(problem)
        else:
            log.error("%s failed: %s: %s", doing, type(err).__name__, err, exc_info=err)

    def probe_now(self) -> str | None:
        """Write, sync and remove a probe file; why that failed, or ``None``."""
        if self.directory is None:
            return None
        path = self.directory / PROBE_NAME
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                data = memoryview(b"\0" * PROBE_BYTES)
                while data:  # a short write (a file size limit) is not success
                    data = data[os.write(fd, data):]
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as err:
            return (storage_problem(err) or f"{type(err).__name__}: {err}") + \
                f" writing {path}"
        finally:
            # never created, or the directory forbids removal (reported above)
            with contextlib.suppress(OSError):
                path.unlink()
        return None

    async def check(self) -> bool:
        """Probe (in a worker thread); trip or recover. True when it just recovered."""
        problem = await anyio.to_thread.run_sync(self.probe_now)
        if problem is not None:
            self.trip(problem)
            return False
        if self.reason is None:
            return False
        log.warning("storage writable again in %s (was: %s): taking work", self.directory,
                    self.reason)
        self.reason = None
        return True

    async def resume(self, gateway: Gateway, busy: Set[int],
                     request_sync: Callable[[str, str], Awaitable[bool]]) -> None:
        """After recovery: re-queue unrecorded jobs not running (``busy``), and ask for a
        sync of every active user (push notifications meanwhile were not queued)."""
        store, now = gateway.store, gateway.clock.now()
        for job_id, error in list(self.unrecorded.items()):
            if job_id not in busy:
                await store.retry(job_id, error, now)
                del self.unrecorded[job_id]
        users = await store.list_user_ids(state=UserState.ACTIVE)
        for user_id in users:
            await request_sync(user_id, "storage recovered")
        log.info("storage recovered: %d user(s) queued for an incremental sync", len(users))
