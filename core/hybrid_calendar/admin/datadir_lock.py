"""One gateway per data directory: an exclusive lock taken before the database is opened.

``serve`` takes an advisory ``flock`` on ``<database>.lock`` (next to the SQLite file)
before it opens, migrates or writes anything, and keeps it until the process ends. The
file says who holds it (process id, host, listening address, start time), so a second
``serve`` refuses with a message naming the running one. The kernel drops the lock when
the holder dies, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from hybrid_calendar.admin.errors import DataDirectoryInUseError


def lock_path(database: str) -> Path:
    """Where the lock of a database lives: ``<database>.lock``."""
    return Path(database + ".lock")


class DataDirectoryLock:
    """An exclusive, process-lifetime lock on a database and its data directory."""

    def __init__(self, database: str) -> None:
        self.path = lock_path(database)
        self._handle: IO[str] | None = None

    def acquire(self, listening: str) -> None:
        """Take the lock or raise :class:`DataDirectoryInUseError` naming the holder.

        :param listening: the address this gateway will serve, recorded for the next one.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = _describe(handle.read())
            handle.close()
            raise DataDirectoryInUseError(
                f"{self.path.parent} is in use by another gateway ({holder}); stop it "
                f"first or give this one its own gateway.data_dir") from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "listening": listening,
                                 "started_at": datetime.now(UTC).isoformat(
                                     timespec="seconds")}))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        """Drop the lock (the file stays; its content is only informative)."""
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> DataDirectoryLock:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _describe(text: str) -> str:
    try:
        info = json.loads(text)
        return (f"pid {info['pid']} on {info['host']}, serving {info['listening']} "
                f"since {info['started_at']}")
    except (ValueError, KeyError, TypeError):
        return "its process details are unknown"
