"""Persistence of wrapped data keys, index keys and their use counters.

:class:`KeyStorage` is what the cipher needs; each store backend provides one
(``Store.key_storage()``). :class:`KeyRepository` is SQLite's: one table, ``crypto_keys``,
created by its own migration set ``Migrations("crypto")`` so it can share the gateway's
database with the store. Only wrapped keys are stored. Every method runs its database work
through the ``run`` callable given at construction (the SQLite store passes
``store.call``, which serializes all database work in one thread).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from sqlite_utils import Database, Migrations

from hybrid_calendar.errors import KeyManagementError
from hybrid_calendar.models import WrappedKey

T = TypeVar("T")

TABLE = "crypto_keys"
PURPOSE_DATA = "data"
"""A per-user (or per-organisation) AES-256-GCM data key."""
PURPOSE_INDEX = "index"
"""An organisation's HMAC-SHA256 blind-index key."""

migrations = Migrations("crypto")


@migrations(name="m001_crypto_keys")
def _m001_crypto_keys(db: Database) -> None:
    db[TABLE].create(  # type: ignore[union-attr]
        {"key_id": str, "org_id": str, "user_id": str, "purpose": str, "generation": int,
         "kms": str, "key_ref": str, "blob": bytes, "created_at": float,
         "retired_at": float, "uses": int, "uses_reserved": int},
        pk="key_id", not_null={"org_id", "user_id", "purpose", "generation", "kms",
                               "key_ref", "blob", "created_at", "uses", "uses_reserved"})
    db[TABLE].create_index(["org_id", "user_id", "purpose", "generation"],  # type: ignore[union-attr]
                           unique=True)
    db[TABLE].create_index(["key_ref"])  # type: ignore[union-attr]


class DbRunner(Protocol):
    """Runs ``fn(db)`` (typically in the store's database thread) and returns its result."""

    def __call__(self, fn: Callable[[Database], T], /) -> Awaitable[T]: ...


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """One stored key generation. ``user_id`` is ``""`` for an organisation's own keys."""

    key_id: str
    org_id: str
    user_id: str
    purpose: str
    generation: int
    wrapped: WrappedKey
    created_at: datetime
    retired_at: datetime | None = None
    uses: int = 0
    """Seal count at the last flush (informational)."""
    uses_reserved: int = 0
    """Upper bound of seals ever made with this key: never below the true count."""


def _ts(when: datetime | None) -> float | None:
    return None if when is None else when.timestamp()


def _record(row: dict[str, Any]) -> KeyRecord:
    retired = row["retired_at"]
    return KeyRecord(
        key_id=row["key_id"], org_id=row["org_id"], user_id=row["user_id"],
        purpose=row["purpose"], generation=row["generation"],
        wrapped=WrappedKey(kms=row["kms"], key_ref=row["key_ref"], blob=bytes(row["blob"])),
        created_at=datetime.fromtimestamp(row["created_at"], UTC),
        retired_at=None if retired is None else datetime.fromtimestamp(retired, UTC),
        uses=row["uses"], uses_reserved=row["uses_reserved"])


def _rows(db: Database, where: str, params: Sequence[Any], order: str = "generation",
          limit: int | None = None) -> list[KeyRecord]:
    sql = f"SELECT * FROM {TABLE} WHERE {where} ORDER BY {order}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    cursor = db.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [_record(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def _insert_values(record: KeyRecord) -> list[Any]:
    """A record's values for an ``INSERT`` of every column but ``retired_at`` (NULL)."""
    return [record.key_id, record.org_id, record.user_id, record.purpose, record.generation,
            record.wrapped.kms, record.wrapped.key_ref, record.wrapped.blob,
            _ts(record.created_at), record.uses, record.uses_reserved]


INSERT_FIRST_GENERATION = (
    f"INSERT OR IGNORE INTO {TABLE} (key_id, org_id, user_id, purpose, generation, kms,"
    " key_ref, blob, created_at, retired_at, uses, uses_reserved) SELECT ?, ?, ?, ?, ?, ?,"
    f" ?, ?, ?, NULL, ?, ? WHERE NOT EXISTS (SELECT 1 FROM {TABLE} WHERE org_id = ? AND"
    " user_id = ? AND purpose = ?)")
"""An owner's first key, inserted unless the owner has a key of its purpose (any
generation, also one committed meanwhile by another process: the unique generation index
ignores a generation 1 that exists); the values of :func:`first_generation_values`."""


def first_generation_values(record: KeyRecord) -> list[Any]:
    """The values of :data:`INSERT_FIRST_GENERATION` for ``record``."""
    return [*_insert_values(record), record.org_id, record.user_id, record.purpose]


LOST_RACE = "another process created this key at the same time; retry"
"""The message of the error a lost :meth:`KeyStorage.add_generation` race raises."""


class KeyRaceLostError(KeyManagementError):
    """:meth:`KeyStorage.add_generation` found the generation there: another process
    created it at the same moment (the cipher then reads and uses that one)."""

    def __init__(self) -> None:
        super().__init__(LOST_RACE)


class KeyStorage(Protocol):
    """Where the cipher keeps wrapped keys and their counters (one per store backend)."""

    async def migrate(self) -> None:
        """Create or update the key table (idempotent)."""
        ...

    async def generations(self, org_id: str, user_id: str, purpose: str) -> list[KeyRecord]:
        """Every stored generation of an owner's keys of one purpose, oldest first."""
        ...

    async def add_generation(self, record: KeyRecord) -> None:
        """Insert a new current generation and retire the previous one, atomically.

        :raises KeyRaceLostError: that generation already exists (a lost race; a
            storage of a third party may raise :class:`KeyManagementError` instead).
        """
        ...

    async def add_first_generation(self, record: KeyRecord) -> bool:
        """Insert ``record`` (generation 1) unless its owner has a key of its purpose
        already (any generation, also one committed meanwhile by another process): one
        atomic step. True when it was inserted."""
        ...

    async def current(self, purpose: str = PURPOSE_DATA) -> list[KeyRecord]:
        """Every non-retired key of one purpose, by key id."""
        ...

    async def save_counters(self, counters: Sequence[tuple[str, int, int]], *,
                            exact: bool = False) -> None:
        """Persist ``(key_id, uses, uses_reserved)``; only growing unless ``exact``."""
        ...

    async def stale(self, key_ref: str, after_key_id: str, limit: int) -> list[KeyRecord]:
        """Keys not wrapped by ``key_ref``, in key-id order after ``after_key_id``."""
        ...

    async def replace_wraps(self, updates: Sequence[tuple[KeyRecord, WrappedKey]]) -> int:
        """Store new wraps of keys whose wrap did not change meanwhile; rows updated."""
        ...

    async def delete_owner(self, org_id: str, user_id: str) -> int:
        """Delete every key of an owner; the number deleted."""
        ...

    async def delete_retired(self, before: datetime) -> int:
        """Delete data keys retired before ``before``; the number deleted."""
        ...

    async def count_by_key_ref(self) -> dict[str, int]:
        """How many stored keys each key-encryption key version wraps."""
        ...


class KeyRepository:
    """SQLite's :class:`KeyStorage`: wrapped keys and counters in ``crypto_keys``.

    :param run: ``run(fn)`` executes ``fn(db)`` with the database and returns its result.
        Every function but the migrations' nests its writes in ``db.atomic()``, so ``run``
        may execute it inside a transaction shared with other work (group commit).
    :param run_alone: executes the migrations (which may need to run outside any
        transaction); ``run`` when not given.
    """

    def __init__(self, run: DbRunner, *, run_alone: DbRunner | None = None) -> None:
        self._run = run
        self._run_alone = run_alone or run

    async def migrate(self) -> None:
        """Apply the pending migrations of the ``crypto`` set (idempotent)."""
        await self._run_alone(migrations.apply)

    async def generations(self, org_id: str, user_id: str, purpose: str) -> list[KeyRecord]:
        """Every stored generation of an owner's keys of one purpose, oldest first."""
        return await self._run(lambda db: _rows(
            db, "org_id = ? AND user_id = ? AND purpose = ?", (org_id, user_id, purpose)))

    async def add_generation(self, record: KeyRecord) -> None:
        """Insert a new current generation and retire the previous one, atomically.

        :raises KeyManagementError: that generation already exists (a lost race).
        """
        def write(db: Database) -> None:
            with db.atomic():
                db.execute(f"UPDATE {TABLE} SET retired_at = ? WHERE org_id = ? AND user_id = ?"
                           " AND purpose = ? AND retired_at IS NULL",
                           [_ts(record.created_at), record.org_id, record.user_id,
                            record.purpose])
                db.execute(f"INSERT INTO {TABLE} (key_id, org_id, user_id, purpose, generation,"
                           " kms, key_ref, blob, created_at, retired_at, uses, uses_reserved)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                           _insert_values(record))
        try:
            await self._run(write)
        except sqlite3.IntegrityError as err:
            raise KeyRaceLostError from err

    async def add_first_generation(self, record: KeyRecord) -> bool:
        """Insert ``record`` unless its owner has a key of its purpose: one ``INSERT OR
        IGNORE … SELECT … WHERE NOT EXISTS`` (the unique generation index ignores a
        generation 1 that exists). True when it was inserted."""
        def write(db: Database) -> bool:
            with db.atomic():
                return bool(db.execute(INSERT_FIRST_GENERATION,
                                       first_generation_values(record)).rowcount)
        return bool(await self._run(write))

    async def current(self, purpose: str = PURPOSE_DATA) -> list[KeyRecord]:
        """Every non-retired key of one purpose (candidates for age/use rotation)."""
        return await self._run(lambda db: _rows(
            db, "purpose = ? AND retired_at IS NULL", (purpose,), order="key_id"))

    async def save_counters(self, counters: Sequence[tuple[str, int, int]], *,
                            exact: bool = False) -> None:
        """Persist ``(key_id, uses, uses_reserved)`` triples in one transaction.

        Normally counters only grow (a late, smaller write never lowers them); with
        ``exact=True`` (clean shutdown: nothing seals any more) the values are written as
        given, which returns unused reservations.
        """
        if not counters:
            return
        sql = (f"UPDATE {TABLE} SET uses = ?, uses_reserved = ? WHERE key_id = ?" if exact else
               f"UPDATE {TABLE} SET uses = max(uses, ?), uses_reserved = max(uses_reserved, ?)"
               " WHERE key_id = ?")

        def write(db: Database) -> None:
            with db.atomic():
                db.conn.executemany(sql, [(uses, reserved, key_id)
                                          for key_id, uses, reserved in counters])
        await self._run(write)

    async def stale(self, key_ref: str, after_key_id: str, limit: int) -> list[KeyRecord]:
        """Keys not wrapped by ``key_ref``, in key-id order after ``after_key_id``."""
        return await self._run(lambda db: _rows(
            db, "key_ref != ? AND key_id > ?", (key_ref, after_key_id), order="key_id",
            limit=limit))

    async def replace_wraps(self, updates: Sequence[tuple[KeyRecord, WrappedKey]]) -> int:
        """Store new wraps of keys, each only if its wrap did not change meanwhile.

        :returns: how many rows were updated.
        """
        if not updates:
            return 0

        def write(db: Database) -> int:
            changed = 0
            with db.atomic():
                for old, new in updates:
                    cursor = db.execute(
                        f"UPDATE {TABLE} SET kms = ?, key_ref = ?, blob = ? WHERE key_id = ?"
                        " AND kms = ? AND key_ref = ? AND blob = ?",
                        [new.kms, new.key_ref, new.blob, old.key_id, old.wrapped.kms,
                         old.wrapped.key_ref, old.wrapped.blob])
                    changed += cursor.rowcount
            return changed
        return await self._run(write)

    async def delete_owner(self, org_id: str, user_id: str) -> int:
        """Delete every key of an owner (crypto-shredding); returns the number deleted."""
        def write(db: Database) -> int:
            with db.atomic():
                return db.execute(f"DELETE FROM {TABLE} WHERE org_id = ? AND user_id = ?",
                                  [org_id, user_id]).rowcount
        return await self._run(write)

    async def delete_retired(self, before: datetime) -> int:
        """Delete data keys retired before ``before`` (no row may still use them)."""
        def write(db: Database) -> int:
            with db.atomic():
                return db.execute(f"DELETE FROM {TABLE} WHERE purpose = ? AND retired_at"
                                  " IS NOT NULL AND retired_at < ?",
                                  [PURPOSE_DATA, _ts(before)]).rowcount
        return await self._run(write)

    async def count_by_key_ref(self) -> dict[str, int]:
        """How many stored keys each key-encryption key version wraps."""
        def read(db: Database) -> dict[str, int]:
            return {ref: count for ref, count in db.execute(
                f"SELECT key_ref, count(*) FROM {TABLE} GROUP BY key_ref").fetchall()}
        return await self._run(read)
