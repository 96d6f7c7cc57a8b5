"""The notification outbox on PostgreSQL: the SQLite outbox's rules, shared by processes.

A claim (:meth:`PostgresOutbox.due_notifications`) locks the due rows with ``FOR UPDATE
SKIP LOCKED`` and moves their next attempt a lease ahead in the same transaction, so two
processes never take the same notification: each is delivered once across processes.
Payloads and sinks' reasons are sealed as in SQLite.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from hybrid_calendar.models import (
    DeliveryState,
    NotificationKind,
    ScheduledNotification,
    SinkDelivery,
    User,
)
from hybrid_calendar.store import codec
from hybrid_calendar.store.base import (
    DeliveryRecord,
    Sealer,
    SyncWrite,
    undone_buttons,
    withdrawal_notices,
)
from hybrid_calendar.store.codec import USER_COLUMNS
from hybrid_calendar.store.delivery_rows import (
    notification_row,
    sealed_deliveries,
    state_row,
)
from hybrid_calendar.store.postgres.connection import Conn, PostgresConnection, Row
from hybrid_calendar.store.sqlite_base import dt, ts
from hybrid_calendar.withdrawal_notices import PREFIX

_TABLE = "scheduled_notifications"
_INSERT = (f"INSERT INTO {_TABLE} (key, user_id, event_id, due_at, start_at, end_at, payload, "
           "kind, state, next_attempt_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'pending', "
           "%s) ")

_INSERT_SELECT = (f"INSERT INTO {_TABLE} (key, user_id, event_id, due_at, start_at, end_at, "
                  "payload, kind, state, next_attempt_at) SELECT %s::text, %s::text, "
                  "%s::text, %s::float8, %s::float8, %s::float8, %s::text, %s::text, "
                  "'pending', %s::float8")
"""``_INSERT`` as a ``SELECT``, so that a ``WHERE`` may follow."""


class PostgresOutbox(PostgresConnection):
    """Scheduled and immediate notifications with their per-sink delivery state."""

    async def schedule(self, user: User, items: Sequence[ScheduledNotification],
                       *, replace_for_events: Sequence[str] = ()) -> None:
        sealer = await self.cipher.sealer(user.org_id, user.id)
        statement = schedule_statement(sealer, user, items, replace_for_events)
        if statement is not None:
            await self.execute(*statement)

    async def enqueue_notification(self, user: User, item: ScheduledNotification, *,
                                   supersede: bool = False,
                                   next_attempt_at: datetime | None = None) -> bool:
        sealer = await self.cipher.sealer(user.org_id, user.id)
        return bool(await self.fetch_written(*enqueue_statement(
            sealer, user, item, supersede=supersede, next_at=next_attempt_at or item.due_at)))

    async def due_notifications(self, now: datetime, kinds: Collection[NotificationKind],
                                *, limit: int = 100, lease_seconds: float = 120.0
                                ) -> list[tuple[User, ScheduledNotification]]:
        return await self._claim(
            "n.next_attempt_at <= %s AND (n.end_at IS NULL OR n.end_at > %s)",
            (ts(now), ts(now)), kinds, limit, now.timestamp() + lease_seconds)

    async def ended_notifications(self, now: datetime, kinds: Collection[NotificationKind],
                                  *, limit: int = 100
                                  ) -> list[tuple[User, ScheduledNotification]]:
        return await self._claim("n.end_at IS NOT NULL AND n.end_at <= %s", (ts(now),),
                                 kinds, limit, None)

    async def _claim(self, condition: str, params: tuple[Any, ...],
                     kinds: Collection[NotificationKind], limit: int, lease_until: float | None
                     ) -> list[tuple[User, ScheduledNotification]]:
        """Pending notifications of ``kinds`` meeting ``condition``, locked against other
        processes; their next attempt moves to ``lease_until`` when given."""
        if not kinds:
            return []
        user_columns = ", ".join(f"u.{c} AS u_{c}" for c in USER_COLUMNS)

        async def work(conn: Conn) -> tuple[list[Row], dict[str, list[tuple[Any, ...]]]]:
            cursor = await conn.execute(
                f"SELECT n.*, {user_columns} FROM {_TABLE} n JOIN users u ON u.id = n.user_id "
                f"WHERE n.state = 'pending' AND n.kind = ANY(%s) AND {condition} "
                "ORDER BY n.next_attempt_at LIMIT %s FOR UPDATE OF n SKIP LOCKED",
                ([str(kind) for kind in kinds], *params, limit))
            rows = await cursor.fetchall()
            if lease_until is not None and rows:
                await conn.execute(f"UPDATE {_TABLE} SET next_attempt_at = %s "
                                   "WHERE key = ANY(%s)", (lease_until, [r["key"] for r in rows]))
            return rows, await _delivery_rows(conn, [row["key"] for row in rows])
        rows, deliveries = await self.write(work)
        result = []
        for row in rows:
            row["deliveries"] = deliveries.get(row["key"], [])
            org_sealer = await self.cipher.sealer(row["u_org_id"], None)
            user = codec.row_to_user(org_sealer, {c: row["u_" + c] for c in USER_COLUMNS})
            sealer = await self.cipher.sealer(user.org_id, user.id)
            result.append((user, _notification(sealer, row)))
        return result

    async def record_deliveries(self, user: User, key: str, deliveries: Sequence[SinkDelivery],
                                state: DeliveryState, next_attempt_at: datetime | None,
                                at: datetime) -> None:
        await self.record_many_deliveries(
            [DeliveryRecord(user, key, deliveries, state, next_attempt_at, at)])

    async def record_many_deliveries(self, records: Sequence[DeliveryRecord]) -> None:
        if not records:
            return
        rows = {r.key: await sealed_deliveries(self.cipher, r) for r in records}
        states = {r.key: state_row(r) for r in records}
        async def work(conn: Conn) -> None:
            cursor = await conn.execute(  # in key order: two batches never deadlock
                f"SELECT key FROM {_TABLE} WHERE key = ANY(%s) ORDER BY key FOR UPDATE",
                (sorted(rows),))
            present = [row["key"] for row in await cursor.fetchall()]  # others superseded
            if not present:
                return
            async with conn.cursor() as cur:
                upserts = [row for key in present for row in rows[key]]
                if upserts:
                    await cur.executemany(
                        "INSERT INTO notification_deliveries (key, sink, state, attempts, "
                        "reason, next_attempt_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, "
                        "%s) ON CONFLICT (key, sink) DO UPDATE SET state = excluded.state, "
                        "attempts = excluded.attempts, reason = excluded.reason, "
                        "next_attempt_at = excluded.next_attempt_at, "
                        "updated_at = excluded.updated_at", upserts)
                await cur.executemany(
                    f"UPDATE {_TABLE} SET state = %s, next_attempt_at = %s, "
                    "sent_at = COALESCE(sent_at, %s) WHERE key = %s",
                    [states[key] for key in present])
        await self.write(work)

    async def list_notifications(self, user: User, *, state: DeliveryState | None = None,
                                 kind: NotificationKind | None = None
                                 ) -> list[ScheduledNotification]:
        clauses, params = ["user_id = %s"], [user.id]
        if state is not None:
            clauses.append("state = %s")
            params.append(str(state))
        if kind is not None:
            clauses.append("kind = %s")
            params.append(str(kind))
        async with self.connection() as conn:
            cursor = await conn.execute(
                f"SELECT * FROM {_TABLE} WHERE {' AND '.join(clauses)} ORDER BY due_at, key",
                tuple(params))
            rows = await cursor.fetchall()
            deliveries = await _delivery_rows(conn, [row["key"] for row in rows])
        sealer = await self.cipher.sealer(user.org_id, user.id)
        for row in rows:
            row["deliveries"] = deliveries.get(row["key"], [])
        return [_notification(sealer, row) for row in rows]


    async def delivered_join_buttons(self, user: User, event_ids: Collection[str] | None,
                                     *, ending_after: datetime
                                     ) -> list[ScheduledNotification]:
        if event_ids is None:
            rows = await self.fetch(DELIVERED + " ORDER BY key", (user.id, ts(ending_after)))
            return [_delivered_button(user, row) for row in rows]
        wanted = list(dict.fromkeys(event_ids))
        if not wanted:
            return []
        rows = await self.fetch(DELIVERED + " AND event_id = ANY(%s) ORDER BY key",
                                (user.id, ts(ending_after), wanted))
        return [_delivered_button(user, row) for row in rows]

    async def forget_notifications(self, user: User, keys: Collection[str]) -> int:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return 0
        return await self.execute(  # one statement; per-sink rows go with ON DELETE CASCADE
            f"DELETE FROM {_TABLE} WHERE user_id = %s AND key = ANY(%s)", (user.id, wanted))


DELIVERED = (f"SELECT key, event_id, due_at, start_at, end_at, sent_at, state FROM {_TABLE} "
             "WHERE user_id = %s AND kind = 'join_button' AND state = 'delivered' AND "
             "end_at > %s")
"""A user's delivered Join buttons whose meeting ends after a time (the index on
``user_id, kind, state``: a handful of rows)."""

OFFERED = (f"{DELIVERED} UNION ALL SELECT key, event_id, due_at, start_at, end_at, sent_at, "
           f"state FROM {_TABLE} WHERE user_id = %s AND kind = 'join_button' AND "
           "state = 'pending' AND end_at > %s AND due_at <= %s")
"""A user's Join buttons a sink may show, their meeting not ended after a time: delivered,
or due by that time and still pending (parameters: user, time, user, time, time)."""


def offered_params(user_id: str, at: float) -> list[Any]:
    """:data:`OFFERED`'s parameters."""
    return [user_id, at, user_id, at, at]


async def withdraw_in(conn: Conn, sealer: Sealer, write: SyncWrite,
                      offered: Sequence[Row]) -> list[ScheduledNotification]:
    """:attr:`SyncWrite.withdraw` on ``conn``, in the sync write's transaction, after
    its meetings and buttons (``offered``: the user's Join buttons of :data:`OFFERED` as
    read before them; the pending ones are gone with the write's replaced buttons): each
    it undoes deleted with its per-sink records (``ON DELETE CASCADE``), its withdrawal
    notice enqueued; returns those of the delivered ones that went in. No statement when
    nothing is undone."""
    plan, user = write.withdraw, write.user
    assert plan is not None
    undone = undone_buttons(write, [_delivered_button(user, row) for row in offered])
    if not undone:
        return []
    await conn.execute(f"DELETE FROM {_TABLE} WHERE user_id = %s AND key = ANY(%s)",
                       (user.id, [button.key for button in undone]))
    withdrawn = []
    for button, notice in zip(undone, withdrawal_notices(write, undone), strict=True):
        sql, row = enqueue_statement(sealer, user, notice, supersede=False,
                                     next_at=plan.first_attempt)
        if await (await conn.execute(sql, row)).fetchall() \
                and button.state is DeliveryState.DELIVERED:
            withdrawn.append(notice)
    return withdrawn


def _delivered_button(user: User, row: Row) -> ScheduledNotification:
    due = dt(row["due_at"])
    assert due is not None
    return ScheduledNotification(row["key"], user.id, row["event_id"], due,
                                 dt(row["start_at"]), dt(row["end_at"]), {},
                                 sent_at=dt(row["sent_at"]), state=DeliveryState(row["state"]))

REPLACED = (
    "state = 'pending' AND ((kind = 'join_button' AND NOT (key = ANY(%b::text[]))) OR "
    f"(kind = 'join_button_withdrawn' AND substring(key from {len(PREFIX) + 1} for "
    f"length(key) - {len(PREFIX)} - position('|' in reverse(key))) = ANY(%b::text[])))")
"""Which pending rows of the touched events a sync's Join buttons (their keys, given
twice) replace: Join buttons not among them (a moved meeting's), and withdrawals of one
of them (``withdrawn|<button key>|<time>``: the meeting holds again), as
:func:`~hybrid_calendar.withdrawal_notices.withdrawn_button` reads the key."""


def schedule_statement(sealer: Sealer, user: User, items: Sequence[ScheduledNotification],
                       replace_for_events: Sequence[str]) -> tuple[str, list[Any]] | None:
    """:meth:`PostgresOutbox.schedule` as one statement (``None``: nothing to do): the
    deletion of the replaced pending Join buttons and the upsert commit together."""
    rows = [notification_row(sealer, user, item, item.due_at) for item in items]
    keys = [item.key for item in items]
    parts: list[str] = []
    params: list[Any] = []
    if replace_for_events:  # the keys deleted and the keys upserted never overlap
        parts.append(f"DELETE FROM {_TABLE} WHERE user_id = %s AND event_id = ANY(%b::text[]) "
                     f"AND {REPLACED}")
        params += [user.id, list(replace_for_events), keys, keys]
    if rows:
        parts.append(_UPSERT_ARRAYS)
        params += _merged_columns(rows)
    if not parts:
        return None
    return (parts[0] if len(parts) == 1 else f"WITH replaced AS ({parts[0]}) {parts[1]}",
            params)


def sync_notification_parts(user_id: str, buttons: Sequence[tuple[Any, ...]],
                            replace_for: Sequence[str], *, spare_gone: bool,
                            announcement: tuple[Any, ...] | None, announce_when: str
                            ) -> tuple[list[str], list[Any]]:
    """A sync's Join buttons and announcement as ``WITH`` parts of the sync's one
    statement (:func:`.sync_write.sync_write_statement`), with their parameters.

    ``replaced`` deletes the pending Join buttons of the ``replace_for`` events whose keys
    are not among ``buttons`` and the pending withdrawals of those that are
    (:data:`REPLACED`; with ``spare_gone``, not those of events in the statement's
    ``gone``: its ``dropped`` deletes them), ``buttons`` upserts the Join buttons (as
    :func:`schedule_statement`); ``superseded`` and ``announced`` do what
    :func:`enqueue_statement` with ``supersede`` does, when the SQL condition
    ``announce_when`` holds (``announced`` returns the key it inserted).
    """
    parts: list[str] = []
    params: list[Any] = []
    if replace_for:
        parts.append(f"replaced AS (DELETE FROM {_TABLE} WHERE user_id = %s AND "
                     f"event_id = ANY(%b::text[]) AND {REPLACED}"
                     + (" AND event_id NOT IN (SELECT event_id FROM gone)" if spare_gone
                        else "") + ")")
        keys = [row[0] for row in buttons]
        params += [user_id, list(replace_for), keys, keys]
    if buttons:
        parts.append(f"buttons AS ({_UPSERT_ARRAYS})")
        params += _merged_columns(buttons)
    if announcement is not None:
        parts.append(f"superseded AS (DELETE FROM {_TABLE} WHERE user_id = %s AND kind = %s"
                     f" AND state = 'pending' AND key <> %s AND {announce_when})")
        params += [user_id, announcement[7], announcement[0]]
        parts.append(f"announced AS ({_INSERT_SELECT} WHERE {announce_when} "
                     "ON CONFLICT (key) DO NOTHING RETURNING key)")
        params += list(announcement)
    return parts, params


def enqueue_statement(sealer: Sealer, user: User, item: ScheduledNotification, *,
                      supersede: bool, next_at: datetime) -> tuple[str, tuple[Any, ...]]:
    """:meth:`PostgresOutbox.enqueue_notification` as one statement returning one row
    when the item went in (with ``supersede``, the user's other pending items of its kind
    are deleted by the same statement)."""
    row = notification_row(sealer, user, item, next_at)
    if supersede:
        return (f"WITH gone AS (DELETE FROM {_TABLE} WHERE user_id = %s AND kind = %s AND "
                "state = 'pending' AND key <> %s) " + _INSERT + "ON CONFLICT (key) DO NOTHING "
                "RETURNING key", (user.id, str(item.kind), item.key, *row))
    return _INSERT + "ON CONFLICT (key) DO NOTHING RETURNING key", row


_UPSERT_ARRAYS = (
    f"INSERT INTO {_TABLE} (key, user_id, event_id, due_at, start_at, end_at, payload, kind, "
    "state, next_attempt_at) SELECT key, user_id, event_id, due_at, start_at, end_at, payload,"
    " kind, 'pending', next_attempt_at FROM unnest(%b::text[], %b::text[], %b::text[], "
    "%b::float8[], %b::float8[], %b::float8[], %b::text[], %b::text[], %b::float8[]) AS "
    "r(key, user_id, event_id, due_at, start_at, end_at, payload, kind, next_attempt_at) "
    "ON CONFLICT (key) DO UPDATE SET due_at = excluded.due_at, end_at = excluded.end_at, "
    f"payload = excluded.payload WHERE {_TABLE}.state = 'pending'")
"""Upsert a batch of notifications in one statement (a column array per column)."""

_UPDATED = (3, 5, 6)
"""Positions of ``due_at``, ``end_at`` and ``payload`` in a row: what a conflict updates."""


def _merged_columns(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    """The rows as column arrays, one row per key, as if upserted one after another: a
    key's first row is inserted and its later rows update only what a conflict updates
    (one statement may not touch a row twice)."""
    merged: dict[str, list[Any]] = {}
    for row in rows:
        kept = merged.get(row[0])
        if kept is None:
            merged[row[0]] = list(row)
        else:
            for index in _UPDATED:
                kept[index] = row[index]
    return [list(column) for column in zip(*merged.values(), strict=True)] or [
        [] for _ in range(9)]


async def _delivery_rows(conn: Conn, keys: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Per-sink delivery rows of ``keys``, by notification key, in sink order."""
    if not keys:
        return {}
    cursor = await conn.execute(
        "SELECT key, sink, state, attempts, reason, next_attempt_at, updated_at FROM "
        "notification_deliveries WHERE key = ANY(%s) ORDER BY key, sink", (keys,))
    found: dict[str, list[tuple[Any, ...]]] = {}
    for r in await cursor.fetchall():
        found.setdefault(r["key"], []).append((r["sink"], r["state"], r["attempts"],
                                               r["reason"], r["next_attempt_at"],
                                               r["updated_at"]))
    return found


def _notification(sealer: Sealer, row: Mapping[str, Any]) -> ScheduledNotification:
    key = row["key"]
    deliveries = {
        sink: SinkDelivery(
            sink=sink, state=DeliveryState(state), attempts=attempts,
            reason=None if reason is None else sealer.open(
                reason, table="notification_deliveries", row_id=f"{key}|{sink}",
                column="reason"),
            next_attempt_at=dt(next_at), updated_at=dt(updated))
        for sink, state, attempts, reason, next_at, updated in row["deliveries"]}
    due = dt(row["due_at"])
    assert due is not None
    return ScheduledNotification(
        key=key, user_id=row["user_id"], event_id=row["event_id"], due_at=due,
        start=dt(row["start_at"]), end=dt(row["end_at"]),
        payload=json.loads(sealer.open(row["payload"], table=_TABLE, row_id=key,
                                       column="payload")),
        sent_at=dt(row["sent_at"]), kind=NotificationKind(row["kind"]),
        state=DeliveryState(row["state"]), deliveries=deliveries)
