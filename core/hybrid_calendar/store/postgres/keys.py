"""The cipher's wrapped keys and counters on PostgreSQL (table ``crypto_keys``).

The twin of SQLite's :class:`~hybrid_calendar.crypto.repository.KeyRepository`: the same
columns (created by the ``crypto`` migration set of :mod:`.migrations`), the same rules.
Only wrapped keys are stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from psycopg import errors as pg_errors

from hybrid_calendar.crypto.repository import (
    PURPOSE_DATA,
    TABLE,
    KeyRaceLostError,
    KeyRecord,
)
from hybrid_calendar.models import WrappedKey
from hybrid_calendar.store.postgres.connection import Conn, PostgresConnection

INSERT_FIRST_GENERATION = (
    f"INSERT INTO {TABLE} (key_id, org_id, user_id, purpose, generation, kms, key_ref,"
    " blob, created_at, retired_at, uses, uses_reserved) SELECT %s, %s, %s, %s, %s, %s, %s,"
    f" %s, %s, NULL, %s, %s WHERE NOT EXISTS (SELECT 1 FROM {TABLE} WHERE org_id = %s AND"
    " user_id = %s AND purpose = %s)")
"""An owner's first key unless the owner has a key of its purpose; with ``ON CONFLICT DO
NOTHING`` after it, a generation 1 another process inserts meanwhile makes this one wait
for its commit, then do nothing. The values of :func:`first_generation_values`."""


def first_generation_values(record: KeyRecord) -> tuple[Any, ...]:
    """The values of :data:`INSERT_FIRST_GENERATION` for ``record``."""
    return (record.key_id, record.org_id, record.user_id, record.purpose, record.generation,
            record.wrapped.kms, record.wrapped.key_ref, record.wrapped.blob,
            _ts(record.created_at), record.uses, record.uses_reserved, record.org_id,
            record.user_id, record.purpose)


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
        uses=int(row["uses"]), uses_reserved=int(row["uses_reserved"]))


class PostgresKeyRepository:
    """:class:`~hybrid_calendar.crypto.repository.KeyStorage` on a PostgreSQL store.

    :param db: the open store's connection (its pool).
    """

    def __init__(self, db: PostgresConnection) -> None:
        self._db = db

    async def migrate(self) -> None:
        """Nothing to do: the store's ``crypto`` migration set made the table."""

    async def _rows(self, where: str, params: Sequence[Any], order: str = "generation",
                    limit: int | None = None) -> list[KeyRecord]:
        sql = f"SELECT * FROM {TABLE} WHERE {where} ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_record(row) for row in await self._db.fetch(sql, params)]

    async def generations(self, org_id: str, user_id: str, purpose: str) -> list[KeyRecord]:
        """Every stored generation of an owner's keys of one purpose, oldest first."""
        return await self._rows("org_id = %s AND user_id = %s AND purpose = %s",
                                (org_id, user_id, purpose))

    async def add_generation(self, record: KeyRecord) -> None:
        """Insert a new current generation and retire the previous one, atomically.

        :raises KeyManagementError: that generation already exists (a lost race).
        """
        try:  # one statement: the retirement and the new generation commit together
            await self._db.execute(
                f"WITH retired AS (UPDATE {TABLE} SET retired_at = %s WHERE org_id = %s AND "
                "user_id = %s AND purpose = %s AND retired_at IS NULL) "
                f"INSERT INTO {TABLE} (key_id, org_id, user_id, purpose, generation, kms,"
                " key_ref, blob, created_at, retired_at, uses, uses_reserved) VALUES"
                " (%s, %s, %s, %s, %s, %s, %s, %s, %s, NULL, %s, %s)",
                (_ts(record.created_at), record.org_id, record.user_id, record.purpose,
                 record.key_id, record.org_id, record.user_id, record.purpose,
                 record.generation, record.wrapped.kms, record.wrapped.key_ref,
                 record.wrapped.blob, _ts(record.created_at), record.uses,
                 record.uses_reserved))
        except pg_errors.UniqueViolation as err:
            raise KeyRaceLostError from err

    async def add_first_generation(self, record: KeyRecord) -> bool:
        """Insert ``record`` unless its owner has a key of its purpose: one ``INSERT …
        SELECT … WHERE NOT EXISTS … ON CONFLICT DO NOTHING`` (a generation 1 another
        process inserts meanwhile makes this one wait for its commit, then do nothing).
        True when it was inserted."""
        return bool(await self._db.execute(
            f"{INSERT_FIRST_GENERATION} ON CONFLICT DO NOTHING",
            first_generation_values(record)))

    async def current(self, purpose: str = PURPOSE_DATA) -> list[KeyRecord]:
        """Every non-retired key of one purpose (candidates for age/use rotation)."""
        return await self._rows("purpose = %s AND retired_at IS NULL", (purpose,),
                                order="key_id")

    async def save_counters(self, counters: Sequence[tuple[str, int, int]], *,
                            exact: bool = False) -> None:
        """Persist ``(key_id, uses, uses_reserved)`` triples in one transaction (only
        growing, unless ``exact``)."""
        if not counters:
            return
        merged: dict[str, tuple[int, int]] = {}  # one row per key, as if one by one
        for key_id, uses, reserved in counters:
            before = merged.get(key_id)
            merged[key_id] = ((uses, reserved) if exact or before is None
                              else (max(before[0], uses), max(before[1], reserved)))
        values = ("v.uses", "v.reserved") if exact else (
            "GREATEST(k.uses, v.uses)", "GREATEST(k.uses_reserved, v.reserved)")
        await self._db.execute(  # one statement, atomic on its own
            f"UPDATE {TABLE} k SET uses = {values[0]}, uses_reserved = {values[1]} "
            "FROM unnest(%b::text[], %b::int8[], %b::int8[]) AS v(key_id, uses, reserved) "
            "WHERE k.key_id = v.key_id",
            (list(merged), [u for u, _ in merged.values()], [r for _, r in merged.values()]))

    async def stale(self, key_ref: str, after_key_id: str, limit: int) -> list[KeyRecord]:
        """Keys not wrapped by ``key_ref``, in key-id order after ``after_key_id``."""
        return await self._rows("key_ref <> %s AND key_id > %s", (key_ref, after_key_id),
                                order="key_id", limit=limit)

    async def replace_wraps(self, updates: Sequence[tuple[KeyRecord, WrappedKey]]) -> int:
        """Store new wraps of keys, each only if its wrap did not change meanwhile."""
        async def work(conn: Conn) -> int:
            changed = 0
            for old, new in updates:
                cursor = await conn.execute(
                    f"UPDATE {TABLE} SET kms = %s, key_ref = %s, blob = %s WHERE key_id = %s"
                    " AND kms = %s AND key_ref = %s AND blob = %s",
                    (new.kms, new.key_ref, new.blob, old.key_id, old.wrapped.kms,
                     old.wrapped.key_ref, old.wrapped.blob))
                changed += cursor.rowcount
            return changed
        return await self._db.write(work)

    async def delete_owner(self, org_id: str, user_id: str) -> int:
        """Delete every key of an owner (crypto-shredding); returns the number deleted."""
        return await self._db.execute(f"DELETE FROM {TABLE} WHERE org_id = %s AND "
                                      "user_id = %s", (org_id, user_id))

    async def delete_retired(self, before: datetime) -> int:
        """Delete data keys retired before ``before`` (no row may still use them)."""
        return await self._db.execute(f"DELETE FROM {TABLE} WHERE purpose = %s AND "
                                      "retired_at IS NOT NULL AND retired_at < %s",
                                      (PURPOSE_DATA, _ts(before)))

    async def count_by_key_ref(self) -> dict[str, int]:
        """How many stored keys each key-encryption key version wraps."""
        rows = await self._db.fetch(f"SELECT key_ref, count(*) AS n FROM {TABLE} "
                                    "GROUP BY key_ref")
        return {row["key_ref"]: int(row["n"]) for row in rows}
