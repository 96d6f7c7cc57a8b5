"""A sync's writes to PostgreSQL as one statement: meetings gone and their pending Join
buttons deleted, a page of meetings upserted, the cursor saved.

Each part is a data-modifying ``WITH`` query of one ``INSERT``/``DELETE`` statement, so the
whole apply is atomic on its own, without ``BEGIN``/``COMMIT`` (every statement costs the
gateway ≈ 130-180 µs of CPU in psycopg). One statement may not touch a row twice, so when
an incremental sync both deletes and upserts an event id, :func:`apply_statements` gives
the same work as separate statements instead, in the order they ran before.

The upsert leaves a stored meeting alone when it already says the same: its clear columns
and the keyed digest of its sealed text (:data:`codec.DIGEST_COLUMN`) equal, its token
sealed with the current data key. Only the rows written come back from it, and
``changed`` keeps those whose content differs from the row the statement started from
(every part of a statement reads the same snapshot, so a join with ``meetings`` sees the
rows as they were): new meetings and changed ones count as upserted, a row only sealed
again under a newer key does not. A sync that changed nothing writes no meeting and
announces nothing, still in one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hybrid_calendar.store import codec
from hybrid_calendar.store.health_rows import SYNC_SUCCESS_PG
from hybrid_calendar.store.postgres.outbox import (
    OFFERED,
    offered_params,
    sync_notification_parts,
)

Statement = tuple[str, list[Any]]

_ARRAY_TYPES = {"start_at": "float8[]", "end_at": "float8[]", "all_day": "int4[]"}

_SAVE_CURSOR = (
    "INSERT INTO sync_state (user_id, cursor, last_sync_at) VALUES (%s, %s, %s) "
    "ON CONFLICT (user_id) DO UPDATE SET cursor=excluded.cursor, "
    "last_sync_at=excluded.last_sync_at")

COMPARED = (*codec.PLAIN_COLUMNS[2:], codec.DIGEST_COLUMN)
"""The columns that say whether a stored meeting changed (the clear ones after user and
event id, and the sealed text's digest)."""


def _row(alias: str) -> str:
    return f"({', '.join(f'{alias}.{c}' for c in COMPARED)})"


def upsert_meetings(rows: Sequence[dict[str, Any]], current_prefix: str) -> Statement:
    """Upsert meetings rows in one statement: a column array per column, ``unnest``-ed on
    the server (a page of events is one parameter set instead of one per row). A key that
    occurs twice is upserted once, with its last row. A stored row is updated only when
    one of :data:`COMPARED` differs or its token does not start with ``current_prefix``
    (sealed with an older key, or a row of before ``m010``); the statement returns the
    rows it wrote (``event_id`` and :data:`COMPARED`)."""
    latest = list({row["event_id"]: row for row in rows}.values())
    columns = list(latest[0])
    updates = ", ".join(f"{c}=excluded.{c}" for c in columns
                        if c not in ("user_id", "event_id"))
    arrays = ", ".join(f"%b::{_ARRAY_TYPES.get(c, 'text[]')}" for c in columns)
    return (f"INSERT INTO meetings ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
            f"ON CONFLICT (user_id, event_id) DO UPDATE SET {updates} "
            f"WHERE {_row('meetings')} IS DISTINCT FROM {_row('excluded')} OR NOT "
            f"COALESCE(starts_with(meetings.{codec.ROW_COLUMN}, %s), FALSE) "
            f"RETURNING event_id, {', '.join(COMPARED)}",
            [*([row[c] for row in latest] for c in columns), current_prefix])


_CHANGED = (f"changed AS (SELECT u.event_id FROM upserted u LEFT JOIN meetings m ON "
            f"m.user_id = %s AND m.event_id = u.event_id "
            f"WHERE {_row('m')} IS DISTINCT FROM {_row('u')})")
"""The rows ``upserted`` wrote whose content differs from the stored row before the
statement (or that had none)."""


def upsert_counting(user_id: str, rows: Sequence[dict[str, Any]], current_prefix: str
                    ) -> Statement:
    """:func:`upsert_meetings` as a statement whose one row is ``upserted`` (how many
    meetings it added or changed) and ``changed_ids`` (their event ids, or ``NULL``), for
    :func:`apply_statements`."""
    sql, params = upsert_meetings(rows, current_prefix)
    return (f"WITH upserted AS ({sql}), {_CHANGED} SELECT count(*) AS upserted, "
            "array_agg(event_id) AS changed_ids FROM changed", [*params, user_id])


def apply_statement(user_id: str, rows: Sequence[dict[str, Any]],
                    deleted_event_ids: Sequence[str], cursor: str | None, synced_at: float | None,
                    *, full_sync: bool, current_prefix: str) -> Statement | None:
    """The apply as one statement whose one row is ``deleted`` (meetings removed),
    ``upserted`` (meetings added or changed), ``changed_ids`` and ``gone_ids`` (their
    event ids, or ``NULL``), or ``None`` when it cannot be one (an incremental sync
    deleting an id it also upserts).

    A full sync deletes the user's meetings not in ``rows`` and the pending Join buttons
    of exactly those; an incremental one deletes ``deleted_event_ids`` and their pending
    Join buttons (stored or not).
    """
    parts = apply_parts(user_id, rows, deleted_event_ids, cursor, synced_at,
                        full_sync=full_sync, current_prefix=current_prefix)
    if parts is None:
        return None
    return ("WITH " + ", ".join(parts[0]) + " SELECT (SELECT count(*) FROM gone) AS deleted, "
            f"{_upserted(rows)} AS upserted, {_changed_ids(rows)} AS changed_ids, "
            "(SELECT array_agg(event_id) FROM gone) AS gone_ids", parts[1])


def _upserted(rows: Sequence[dict[str, Any]]) -> str:
    """The SQL count of meetings added or changed (no ``changed`` part without rows)."""
    return "(SELECT count(*) FROM changed)" if rows else "0"


def _changed_ids(rows: Sequence[dict[str, Any]]) -> str:
    """The SQL array of the event ids of meetings added or changed, or ``NULL``."""
    return "(SELECT array_agg(event_id) FROM changed)" if rows else "NULL"


def apply_parts(user_id: str, rows: Sequence[dict[str, Any]],
                deleted_event_ids: Sequence[str], cursor: str | None, synced_at: float | None,
                *, full_sync: bool, current_prefix: str
                ) -> tuple[list[str], list[Any]] | None:
    """:func:`apply_statement`'s ``WITH`` parts and their parameters (``gone`` returns the
    deleted meetings' ids, ``dropped`` deletes their pending Join buttons, ``upserted``
    returns the meetings written and ``changed`` those of them added or changed; the last
    two only with ``rows``), for a bigger statement (:func:`sync_write_statement`);
    ``None`` as there."""
    upserted_ids = [row["event_id"] for row in rows]
    if not full_sync and set(deleted_event_ids) & set(upserted_ids):
        return None
    params: list[Any] = [user_id, upserted_ids if full_sync else list(deleted_event_ids)]
    parts = ["gone AS (DELETE FROM meetings WHERE user_id = %s AND "
             + ("NOT (event_id = ANY(%b::text[]))" if full_sync
                else "event_id = ANY(%b::text[])")
             + " RETURNING event_id)"]
    if full_sync:
        parts.append("dropped AS (DELETE FROM scheduled_notifications WHERE user_id = %s "
                     "AND event_id IN (SELECT event_id FROM gone) AND kind = 'join_button' "
                     "AND state = 'pending')")
        params.append(user_id)
    elif deleted_event_ids:
        parts.append("dropped AS (DELETE FROM scheduled_notifications WHERE user_id = %s "
                     "AND event_id = ANY(%b::text[]) AND kind = 'join_button' "
                     "AND state = 'pending')")
        params += [user_id, list(deleted_event_ids)]
    if rows:
        sql, arrays = upsert_meetings(rows, current_prefix)
        parts += [f"upserted AS ({sql})", _CHANGED]
        params += [*arrays, user_id]
    parts.append(f"saved AS ({_SAVE_CURSOR})")
    params += [user_id, cursor, synced_at]
    return parts, params


def sync_write_statement(user_id: str, rows: Sequence[dict[str, Any]],
                         deleted_event_ids: Sequence[str], cursor: str | None,
                         synced_at: float | None, *, full_sync: bool, current_prefix: str,
                         buttons: Sequence[tuple[Any, ...]],
                         announcement: tuple[Any, ...] | None,
                         health: Sequence[Any] | None = None,
                         offered_after: float | None = None) -> Statement | None:
    """A whole sync write (``Store.write_sync``) as one statement returning one row,
    ``deleted`` (meetings removed), ``upserted`` (meetings added or changed),
    ``changed_ids`` (their event ids, or ``NULL``), ``gone_ids`` (the removed meetings'
    event ids, or ``NULL``) and ``announced`` (1 when the
    announcement went in), or ``None`` when the apply cannot be one statement.

    The apply's parts (:func:`apply_parts`) come first; then the Join buttons' and the
    announcement's (:func:`.outbox.sync_notification_parts`; ``buttons`` and
    ``announcement`` are ``scheduled_notifications`` rows). No row is touched twice:
    ``dropped`` deletes every pending row of the meetings deleted (a full sync's ``gone``,
    an incremental sync's deleted ids), so the buttons' ``replaced`` deletion covers the
    other touched events only, and the announcement (no event) is neither. It goes in
    when the sync added, changed or deleted a meeting (``changed`` or ``gone`` has a row),
    never for a sync that found everything as stored. With ``health`` (the parameters of
    :data:`.health_rows.SYNC_SUCCESS`), the sync's health record is a part too. With
    ``offered_after``, the row also has ``offered``: the user's Join buttons a sink may
    show whose meeting ends after it (:data:`.outbox.OFFERED`: delivered, or due and
    pending), as the statement found them before its deletions (JSON objects, or
    ``NULL``), for the withdrawals (:func:`.outbox.withdraw_in`).
    """
    apply = apply_parts(user_id, rows, deleted_event_ids, cursor, synced_at,
                        full_sync=full_sync, current_prefix=current_prefix)
    if apply is None:
        return None
    parts, params = apply
    upserted_ids = [row["event_id"] for row in rows]
    more, more_params = sync_notification_parts(
        user_id, buttons, upserted_ids + list(deleted_event_ids) if full_sync else upserted_ids,
        spare_gone=full_sync, announcement=announcement,
        announce_when=("(EXISTS (SELECT 1 FROM changed) OR EXISTS (SELECT 1 FROM gone))"
                       if rows else "EXISTS (SELECT 1 FROM gone)"))
    if health is not None:
        more.append(f"health AS ({SYNC_SUCCESS_PG})")
        more_params = [*more_params, *health]
    offered = ""
    if offered_after is not None:
        more.append(f"offered AS ({OFFERED})")
        more_params = [*more_params, *offered_params(user_id, offered_after)]
        offered = ", (SELECT json_agg(o) FROM offered o) AS offered"
    announced = "(SELECT count(*) FROM announced)" if announcement is not None else "0"
    return ("WITH " + ", ".join(parts + more) + " SELECT (SELECT count(*) FROM gone) AS "
            f"deleted, {_upserted(rows)} AS upserted, "
            f"{_changed_ids(rows)} AS changed_ids, "
            f"(SELECT array_agg(event_id) FROM gone) AS gone_ids, {announced} AS announced"
            + offered, params + more_params)


def apply_statements(user_id: str, rows: Sequence[dict[str, Any]],
                     deleted_event_ids: Sequence[str], cursor: str | None,
                     synced_at: float | None, current_prefix: str
                     ) -> tuple[list[Statement], Statement | None]:
    """An incremental apply as separate statements, for one transaction: the deletion
    (its ``RETURNING`` rows count as deleted), the notifications and the cursor; then,
    with rows, the upsert, whose one row is ``upserted`` (:func:`upsert_counting`). The
    upsert runs after the deletion, so an id both deleted and upserted counts as added."""
    statements: list[Statement] = [
        ("DELETE FROM meetings WHERE user_id = %s AND event_id = ANY(%s) RETURNING event_id",
         [user_id, list(deleted_event_ids)]),
        ("DELETE FROM scheduled_notifications WHERE user_id = %s AND event_id = ANY(%s) "
         "AND kind = 'join_button' AND state = 'pending'", [user_id, list(deleted_event_ids)]),
        (_SAVE_CURSOR, [user_id, cursor, synced_at])]
    return statements, upsert_counting(user_id, rows, current_prefix) if rows else None
