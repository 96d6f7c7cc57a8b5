"""The notification outbox on SQLite: Join buttons, presence and list changes, per-sink state.

Rows of ``scheduled_notifications`` are notifications (payload sealed under the user's
data key); ``notification_deliveries`` holds each sink's attempts and reason (sealed too:
a remote's error text may quote an address). Deleting a notification deletes its
per-sink rows (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import json
import sqlite3
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
from hybrid_calendar.store.sqlite_base import SqliteConnection, dt, transaction, ts
from hybrid_calendar.withdrawal_notices import withdrawn_button

_TABLE = "scheduled_notifications"
IN_CHUNK = 500
"""Event ids per ``IN (...)`` list (far below SQLite's limit on bound parameters)."""
_INSERT = (f"INSERT INTO {_TABLE} (key, user_id, event_id, due_at, start_at, end_at, payload, "
           "kind, state, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?) ")


_UPSERT_DELIVERY = (
    "INSERT INTO notification_deliveries (key, sink, state, attempts, reason, next_attempt_at,"
    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key, sink) DO UPDATE SET "
    "state=excluded.state, attempts=excluded.attempts, reason=excluded.reason, "
    "next_attempt_at=excluded.next_attempt_at, updated_at=excluded.updated_at")
_UPDATE_STATE = (f"UPDATE {_TABLE} SET state=?, next_attempt_at=?, sent_at=COALESCE(sent_at, ?)"
                 " WHERE key=?")


class SqliteOutbox(SqliteConnection):
    """Scheduled and immediate notifications with their per-sink delivery state."""

    async def schedule(self, user: User, items: Sequence[ScheduledNotification],
                       *, replace_for_events: Sequence[str] = ()) -> None:
        sealer = await self.cipher.sealer(user.org_id, user.id)

        def work() -> None:
            with transaction(self._conn_or_fail()) as conn:
                schedule_rows(conn, sealer, user, items, replace_for_events)
        await self._run(work)

    async def enqueue_notification(self, user: User, item: ScheduledNotification, *,
                                   supersede: bool = False,
                                   next_attempt_at: datetime | None = None) -> bool:
        sealer = await self.cipher.sealer(user.org_id, user.id)

        def work() -> bool:
            with transaction(self._conn_or_fail()) as conn:
                return enqueue_row(conn, sealer, user, item, supersede=supersede,
                                   next_at=next_attempt_at or item.due_at)
        return bool(await self._run(work))

    async def due_notifications(self, now: datetime, kinds: Collection[NotificationKind],
                                *, limit: int = 100, lease_seconds: float = 120.0
                                ) -> list[tuple[User, ScheduledNotification]]:
        """Claim pending notifications of ``kinds`` whose next attempt is due and whose
        meeting (if any) has not ended: their next attempt moves ``lease_seconds`` ahead,
        so another worker or process does not take them meanwhile."""
        return await self._claim(
            "n.next_attempt_at <= ? AND (n.end_at IS NULL OR n.end_at > ?)", (ts(now), ts(now)),
            kinds, limit, now.timestamp() + lease_seconds)

    async def ended_notifications(self, now: datetime, kinds: Collection[NotificationKind],
                                  *, limit: int = 100
                                  ) -> list[tuple[User, ScheduledNotification]]:
        return await self._claim("n.end_at IS NOT NULL AND n.end_at <= ?", (ts(now),),
                                 kinds, limit, None)

    async def _claim(self, condition: str, params: tuple[Any, ...],
                     kinds: Collection[NotificationKind], limit: int, lease_until: float | None
                     ) -> list[tuple[User, ScheduledNotification]]:
        """Pending notifications of ``kinds`` meeting ``condition``, with their users and
        deliveries; their next attempt moves to ``lease_until`` when given."""
        if not kinds:
            return []
        marks = ", ".join("?" for _ in kinds)
        user_columns = ", ".join(f"u.{c} AS u_{c}" for c in USER_COLUMNS)

        def work() -> list[dict[str, Any]]:
            with transaction(self._conn_or_fail()) as conn:
                cursor = conn.execute(
                    f"SELECT n.*, {user_columns} FROM {_TABLE} n JOIN users u ON "
                    f"u.id = n.user_id WHERE n.state='pending' AND n.kind IN ({marks}) AND "
                    f"{condition} ORDER BY n.next_attempt_at LIMIT ?",
                    (*map(str, kinds), *params, limit))
                names = [d[0] for d in cursor.description]
                rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
                if lease_until is not None:
                    conn.executemany(f"UPDATE {_TABLE} SET next_attempt_at=? WHERE key=?",
                                     [(lease_until, r["key"]) for r in rows])
                for row in rows:
                    row["deliveries"] = _delivery_rows(conn, row["key"])
            return rows
        result = []
        for row in await self._run(work):
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
        prepared = [(r.key, await sealed_deliveries(self.cipher, r), state_row(r))
                    for r in records]

        def work() -> None:
            with transaction(self._conn_or_fail()) as conn:
                for key, rows, state_row in prepared:
                    if not conn.execute(f"SELECT 1 FROM {_TABLE} WHERE key=?",
                                        (key,)).fetchone():
                        continue  # superseded or forgotten meanwhile
                    conn.executemany(_UPSERT_DELIVERY, rows)
                    conn.execute(_UPDATE_STATE, state_row)
        if prepared:
            await self._run(work)

    async def list_notifications(self, user: User, *, state: DeliveryState | None = None,
                                 kind: NotificationKind | None = None
                                 ) -> list[ScheduledNotification]:
        clauses, params = ["user_id = ?"], [user.id]
        if state is not None:
            clauses.append("state = ?")
            params.append(str(state))
        if kind is not None:
            clauses.append("kind = ?")
            params.append(str(kind))

        def work() -> list[dict[str, Any]]:
            cursor = self.execute(f"SELECT * FROM {_TABLE} WHERE {' AND '.join(clauses)} "
                                  "ORDER BY due_at, key", tuple(params))
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
            for row in rows:
                row["deliveries"] = _delivery_rows(self._conn_or_fail(), row["key"])
            return rows
        sealer = await self.cipher.sealer(user.org_id, user.id)
        return [_notification(sealer, row) for row in await self._run(work)]

    async def delivered_join_buttons(self, user: User, event_ids: Collection[str] | None,
                                     *, ending_after: datetime
                                     ) -> list[ScheduledNotification]:
        wanted = None if event_ids is None else list(dict.fromkeys(event_ids))

        def work() -> list[tuple[Any, ...]]:
            if wanted is None:
                return self.execute(_DELIVERED, (user.id, ts(ending_after))).fetchall()
            rows: list[tuple[Any, ...]] = []
            for first in range(0, len(wanted), IN_CHUNK):
                chunk = wanted[first:first + IN_CHUNK]
                rows += self.execute(
                    _DELIVERED + f" AND event_id IN ({', '.join('?' * len(chunk))})",
                    (user.id, ts(ending_after), *chunk)).fetchall()
            return rows
        return sorted((_delivered_button(user, row) for row in await self._run(work)),
                      key=lambda item: item.key)

    async def forget_notifications(self, user: User, keys: Collection[str]) -> int:
        wanted = list(dict.fromkeys(keys))

        def work() -> int:
            with transaction(self._conn_or_fail()) as conn:
                return sum(conn.execute(
                    f"DELETE FROM {_TABLE} WHERE user_id=? AND key=?", (user.id, key)).rowcount
                    for key in wanted)
        return await self._run(work) if wanted else 0


_DELIVERED = (f"SELECT key, event_id, due_at, start_at, end_at, sent_at, state FROM {_TABLE} "
              "WHERE user_id=? AND kind='join_button' AND state='delivered' AND end_at > ?")
"""A user's delivered Join buttons whose meeting ends after a time (the index on
``user_id, kind, state``: a handful of rows)."""

_DUE_PENDING = (f"SELECT key, event_id, due_at, start_at, end_at, sent_at, state FROM {_TABLE} "
                "WHERE user_id=? AND kind='join_button' AND state='pending' AND end_at > ? "
                "AND due_at <= ?")
"""A user's Join buttons due by a time and still pending, their meeting not ended."""


def withdraw_rows(conn: sqlite3.Connection, sealer: Sealer, write: SyncWrite
                  ) -> list[ScheduledNotification]:
    """:attr:`SyncWrite.withdraw` inside the sync write's open transaction ``conn``,
    before its meetings and buttons are written (which would drop the pending ones): each
    Join button it undoes that was delivered, or is due and pending, deleted with its
    per-sink records and its withdrawal notice enqueued; returns the notices of the
    delivered ones that went in."""
    plan, user = write.withdraw, write.user
    assert plan is not None
    at = ts(plan.at)
    offered = [_delivered_button(user, row) for row in (
        *conn.execute(_DELIVERED, (user.id, at)), *conn.execute(_DUE_PENDING,
                                                                (user.id, at, at)))]
    undone = undone_buttons(write, offered)
    withdrawn = []
    for button, notice in zip(undone, withdrawal_notices(write, undone), strict=True):
        conn.execute(f"DELETE FROM {_TABLE} WHERE user_id=? AND key=?", (user.id, button.key))
        if enqueue_row(conn, sealer, user, notice, supersede=False,
                       next_at=plan.first_attempt) \
                and button.state is DeliveryState.DELIVERED:
            withdrawn.append(notice)
    return withdrawn


def _delivered_button(user: User, row: Sequence[Any]) -> ScheduledNotification:
    key, event_id, due_at, start_at, end_at, sent_at, state = row
    due = dt(due_at)
    assert due is not None
    return ScheduledNotification(key, user.id, event_id, due, dt(start_at), dt(end_at), {},
                                 sent_at=dt(sent_at), state=DeliveryState(state))


def schedule_rows(conn: sqlite3.Connection, sealer: Sealer, user: User,
                  items: Sequence[ScheduledNotification], replace_for_events: Sequence[str],
                  *, unchanged: Collection[str] = ()) -> None:
    """:meth:`Store.schedule` inside the open transaction ``conn``. A Join button of an
    event in ``unchanged`` (its meeting row was found the same as stored, so its payload
    is too) is not sealed or written again when its row is there with the same due
    time."""
    keys = {item.key for item in items}
    events = list(dict.fromkeys(replace_for_events))
    stale: list[tuple[str]] = []
    due: dict[str, float] = {}
    for first in range(0, len(events), IN_CHUNK):  # one query per chunk
        chunk = events[first:first + IN_CHUNK]
        for key, kind, state, due_at in conn.execute(
                f"SELECT key, kind, state, due_at FROM {_TABLE} WHERE user_id=? AND "
                f"event_id IN ({', '.join('?' * len(chunk))})", (user.id, *chunk)):
            if state != "pending":
                continue
            if (key not in keys if kind == "join_button"
                    else kind == "join_button_withdrawn" and withdrawn_button(key) in keys):
                stale.append((key,))  # a moved button, or a withdrawal called off
            due[key] = due_at
    conn.executemany(f"DELETE FROM {_TABLE} WHERE key=?", stale)
    conn.executemany(
        _INSERT + "ON CONFLICT(key) DO UPDATE SET due_at=excluded.due_at, "
        "end_at=excluded.end_at, payload=excluded.payload WHERE state='pending'",
        [notification_row(sealer, user, item, item.due_at) for item in items
         if not (item.event_id in unchanged and due.get(item.key) == ts(item.due_at))])


def enqueue_row(conn: sqlite3.Connection, sealer: Sealer, user: User,
                item: ScheduledNotification, *, supersede: bool, next_at: datetime) -> bool:
    """:meth:`Store.enqueue_notification` inside the open transaction ``conn``."""
    if supersede:
        conn.execute(f"DELETE FROM {_TABLE} WHERE user_id=? AND kind=? AND state='pending' "
                     "AND key<>?", (user.id, str(item.kind), item.key))
    return bool(conn.execute(_INSERT + "ON CONFLICT(key) DO NOTHING",
                             notification_row(sealer, user, item, next_at)).rowcount)


def _delivery_rows(conn: Any, key: str) -> list[tuple[Any, ...]]:
    return list(conn.execute("SELECT sink, state, attempts, reason, next_attempt_at, "
                             "updated_at FROM notification_deliveries WHERE key=? "
                             "ORDER BY sink", (key,)).fetchall())


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
