"""Backing up and restoring the SQLite database: ``store backup`` and ``store restore``.

``store backup FILE`` copies the database with SQLite's online backup API, so the gateway
may keep running: the copy is one consistent snapshot, written to a private (0600) file
that must not exist yet, converted to a single self-contained file (no ``-wal``) and
checked with ``PRAGMA integrity_check`` before it takes its final name.

``store restore FILE`` checks the backup (integrity, and that it is a gateway database),
takes the data directory's lock, so it refuses while a gateway serves that database, and
copies the backup over the database through the same API, which also replaces the
database's write-ahead log. A backup made by an older version is migrated by the next
start, like any database.

The data keys in a backup are wrapped by the KMS: a backup is unreadable without the
KMS's keys (``kms_local``'s key file, an HSM token), which are backed up separately.
PostgreSQL databases are backed up with ``pg_dump`` instead.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from hybrid_calendar.cli import Command
from hybrid_calendar.errors import ConfigError, StoreError
from hybrid_calendar.loading import load_config

KEYS_REMINDER = ("the backup holds data keys wrapped by the KMS: keep the KMS's keys (for "
                 "kms_local, its key file) backed up separately; without them the backup "
                 "cannot be read")


@dataclass(frozen=True)
class BackupReport:
    """What a backup or restore copied."""

    file: str
    bytes: int
    migrations: dict[str, str]
    """The last migration applied, per migration set (``core``, ``keys``, ...)."""


def backup_database(database: str, destination: Path) -> BackupReport:
    """Copy ``database`` to ``destination`` (a new file, mode 0600) while it may be in use.

    :raises StoreError: the database is missing or damaged, or the destination exists.
    """
    _require_gateway_database(Path(database))
    if destination.exists():
        raise StoreError(f"{destination} exists: back up to a new file")
    partial = destination.with_name(f".{destination.name}.partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    try:
        with _connect(database) as source, _connect(str(partial)) as copy:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            _check_integrity(copy, partial)
            applied = _migrations(copy)
        os.replace(partial, destination)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupReport(str(destination), destination.stat().st_size, applied)


def restore_database(backup: Path, database: str) -> BackupReport:
    """Replace ``database`` with ``backup``; refuses while a gateway serves ``database``.

    :raises StoreError: the backup is missing, damaged or not a gateway database.
    :raises DataDirectoryInUseError: a gateway holds the data directory's lock.
    """
    from hybrid_calendar.admin.datadir_lock import DataDirectoryLock

    _require_gateway_database(backup)
    with _connect(str(backup)) as source:
        _check_integrity(source, backup)
        applied = _migrations(source)
        with DataDirectoryLock(database) as lock:
            lock.acquire("store restore")
            target = Path(database)
            if not target.exists():
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o600))
            with _connect(database) as copy:
                source.backup(copy)
                copy.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return BackupReport(database, Path(database).stat().st_size, applied)


@contextlib.contextmanager
def _connect(path: str) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        yield conn
    except sqlite3.Error as err:
        raise StoreError(f"{path}: {err}") from err
    finally:
        conn.close()


def _require_gateway_database(path: Path) -> None:
    if not path.is_file():
        raise StoreError(f"no database at {path}")
    with _connect(str(path)) as conn:
        try:
            found = _migrations(conn)
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{path} is not a SQLite database ({err})") from err
    if "core" not in found:
        raise StoreError(f"{path} is not a gateway database (no core migrations)")


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        raise StoreError(f"{path} is damaged: {result}")


def _migrations(conn: sqlite3.Connection) -> dict[str, str]:
    """The last applied migration per set (sqlite-utils' ``_sqlite_migrations``)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = '_sqlite_migrations'"
                        ).fetchone():
        return {}
    rows = conn.execute("SELECT migration_set, name FROM _sqlite_migrations ORDER BY id")
    return {migration_set: name for migration_set, name in rows}


def _sqlite_database(config_file: str | None) -> str:
    from hybrid_calendar.builder import database_path, is_postgres_url

    config, _pm = load_config(config_file)
    database = database_path(config)
    if is_postgres_url(database):
        raise ConfigError("gateway.database", "is a PostgreSQL database: back it up with "
                                              "pg_dump (docs/operations.md)")
    if database == ":memory:":
        raise ConfigError("gateway.database", "is an in-memory database: nothing to back up")
    return database


def _configure_backup(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML configuration file (its SQLite database)")
    parser.add_argument("file", help="the backup file to write (must not exist)")


def _run_backup(args: argparse.Namespace) -> int:
    report = backup_database(_sqlite_database(args.config), Path(args.file))
    print(json.dumps(asdict(report), indent=2))
    print(f"backed up to {report.file}; {KEYS_REMINDER}")
    return 0


def _configure_restore(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML configuration file (its SQLite database is "
                                         "replaced)")
    parser.add_argument("file", help="a backup written by `store backup`")


def _run_restore(args: argparse.Namespace) -> int:
    database = _sqlite_database(args.config)
    report = restore_database(Path(args.file), database)
    print(json.dumps(asdict(report), indent=2))
    print(f"restored {args.file} into {database}; start the gateway (it applies any "
          "newer migrations)")
    return 0


COMMANDS: list[Command] = [
    Command("store backup", "copy the SQLite database to a new file (the gateway may run)",
            _configure_backup, _run_backup),
    Command("store restore", "replace the SQLite database with a backup (gateway stopped)",
            _configure_restore, _run_restore),
]
