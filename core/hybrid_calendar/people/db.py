"""Running SQL on the store's connection, serialized with every other store operation."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.exceptions import HTTPException

from hybrid_calendar.errors import StoreError

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.store.base import FieldCipher, Sealer

T = TypeVar("T")


async def run(gateway: Gateway, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``fn(connection)`` in the store's worker (the people tables live in its file)."""
    result: T = await gateway.store.call(lambda db: fn(db.conn))
    return result


def rows(conn: sqlite3.Connection, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    """Run a query; rows as dicts of column name to value."""
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


async def sealer(gateway: Gateway, org_id: str, user_id: str | None) -> Sealer:
    """The sealer of a user's (or, with None, the organisation's) data key.

    The people tables are sealed with the same cipher as the store's own rows.
    """
    cipher: FieldCipher | None = getattr(gateway, "cipher", None)
    if cipher is None:
        raise StoreError("the gateway has no field cipher")
    return await cipher.sealer(org_id, user_id)


def json_object(data: Any) -> dict[str, Any]:
    """Check that a parsed request body is a JSON object (400 otherwise)."""
    if not isinstance(data, dict):
        raise HTTPException(400, "body must be a JSON object")
    return data
