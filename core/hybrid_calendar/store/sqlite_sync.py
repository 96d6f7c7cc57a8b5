"""A sync's writes on SQLite: meetings, cursor, Join buttons, announcement and the
withdrawals of delivered Join buttons it undoes in one operation of the store's worker
thread (one hand-off, one commit per page).

A meeting whose stored row already says the same (the clear columns equal, the keyed
digest of the sealed text equal, the token made with the current data key) is left alone:
no seal and no write, and its Join button is not sealed or written again either when the
stored one is due at the same time. A row stored before migration ``m017`` has no digest:
its token is opened and compared instead (and the row written once, with its digest).
The first sync of a user compares nothing (no row is stored yet). docs/performance.md
has the measurements.

Only meetings whose content changed count as upserted (:class:`ApplyResult`): a new one,
or one whose clear columns or sealed text differ. A row written again only to seal it
with the current key (or to give it its digest) says the same as before and is not
counted, so a sync that changed nothing announces nothing.

The stored row keeps times as instants: an event whose start or end is written in
another time zone but is the same instant keeps its button (keyed by the start's instant)
and the button's payload as it was, with the times in the earlier zone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from hybrid_calendar.errors import DecryptionError
from hybrid_calendar.models import Meeting, User
from hybrid_calendar.store import codec
from hybrid_calendar.store.base import (
    ApplyResult,
    Sealer,
    SyncWrite,
    SyncWriteResult,
    announcement_failed,
)
from hybrid_calendar.store.health_rows import SYNC_SUCCESS, sync_success_params
from hybrid_calendar.store.sqlite_base import SqliteConnection, transaction, ts
from hybrid_calendar.store.sqlite_outbox import (
    IN_CHUNK,
    enqueue_row,
    schedule_rows,
    withdraw_rows,
)

_COMPARED = codec.PLAIN_COLUMNS[2:]
"""Clear columns compared with the stored row (after user and event id)."""
_SELECT_STORED = (f"SELECT event_id, {', '.join(_COMPARED)}, {codec.ROW_COLUMN}, "
                  f"{codec.DIGEST_COLUMN} FROM meetings WHERE user_id = ?")
_COLUMNS = (*codec.PLAIN_COLUMNS, *codec.MEETING_SEALED, codec.ROW_COLUMN, codec.DIGEST_COLUMN)
_UPSERT = (f"INSERT INTO meetings ({', '.join(_COLUMNS)}) VALUES "
           f"({', '.join('?' for _ in codec.PLAIN_COLUMNS)}, "
           f"{', '.join(chr(39) * 2 for _ in codec.MEETING_SEALED)}, ?, ?) "
           f"ON CONFLICT(user_id, event_id) DO UPDATE "
           f"SET {', '.join(f'{c}=excluded.{c}' for c in _COLUMNS[2:])}")
"""The meetings upsert: :data:`codec.PLAIN_COLUMNS`, the token and its digest bound by
position, the
empty per-field columns of the one-token format written as literals (the same row as
:func:`codec.meeting_to_row` gives, ≈ 3 µs less per row than binding a dict by name)."""

Stored = Mapping[str, tuple[Any, ...]]
"""Event id to the stored row's compared columns, sealed token and digest."""


class SqliteSyncWrites(SqliteConnection):
    """:meth:`Store.apply_changes` and :meth:`Store.write_sync` in one transaction each."""

    async def apply_changes(self, user: User, upserts: Sequence[Meeting],
                            deleted_event_ids: Sequence[str], cursor: str | None, *,
                            full_sync: bool, synced_at: datetime) -> ApplyResult:
        sealer = await self.cipher.sealer(user.org_id, user.id)

        def work() -> ApplyResult:
            with transaction(self._conn_or_fail()) as conn:
                return apply_meetings(conn, sealer, user, upserts, deleted_event_ids, cursor,
                                      full_sync=full_sync, synced_at=synced_at)[0]
        return await self._run(work)

    async def write_sync(self, write: SyncWrite) -> SyncWriteResult:
        user = write.user
        sealer = await self.cipher.sealer(user.org_id, user.id)

        def work() -> SyncWriteResult:
            with transaction(self._conn_or_fail()) as conn:
                withdrawn = ([] if write.withdraw is None  # first: the pending ones go below
                             else withdraw_rows(conn, sealer, write))
                applied, unchanged, changed, deleted = apply_meetings(
                    conn, sealer, user, write.upserts, write.deleted_event_ids, write.cursor,
                    full_sync=write.full_sync, synced_at=write.synced_at)
                touched = write.touched_event_ids
                if write.buttons or touched:
                    schedule_rows(conn, sealer, user, write.buttons, touched,
                                  unchanged=unchanged)
                announced = False
                item = write.announcement
                if item is not None and applied.upserted + applied.deleted:
                    try:
                        with transaction(conn):  # a savepoint: a failure undoes only this
                            announced = enqueue_row(conn, sealer, user, item, supersede=True,
                                                    next_at=write.announce_at or item.due_at)
                    except Exception as err:  # a hint: the sync's own writes stand
                        if isinstance(err, sqlite3.Error) and not conn.in_transaction:
                            raise
                        announcement_failed(write, err)
                if write.health is not None:
                    conn.execute(SYNC_SUCCESS, sync_success_params(user.id, write.health))
            return SyncWriteResult(applied, announced, frozenset(changed),
                                   health_recorded=write.health is not None,
                                   deleted_event_ids=frozenset(deleted),
                                   withdrawn=tuple(withdrawn))
        return await self._run(work)


def apply_meetings(conn: sqlite3.Connection, sealer: Sealer, user: User,
                   upserts: Sequence[Meeting], deleted_event_ids: Sequence[str],
                   cursor: str | None, *, full_sync: bool, synced_at: datetime
                   ) -> tuple[ApplyResult, set[str], list[str], list[str]]:
    """Write a sync's meetings and cursor inside the open transaction ``conn``; returns
    what changed (new meetings and meetings whose content differs count as upserted), the
    event ids whose stored row already said the same (not written), the event ids of
    the meetings counted as upserted and those of the meetings deleted."""
    latest = {meeting.event_id: meeting for meeting in upserts}  # the last one wins
    if full_sync:
        stored: Stored = {row[0]: row[1:] for row in conn.execute(_SELECT_STORED, (user.id,))}
        gone = [(user.id, event_id) for event_id in stored if event_id not in latest]
    else:
        dropped = set(deleted_event_ids)  # deleted first, then written anew
        stored = _stored_rows(conn, user.id, [e for e in latest if e not in dropped])
        gone = [(user.id, event_id) for event_id in deleted_event_ids]
    rows: list[tuple[Any, ...]] = []
    unchanged: set[str] = set()
    changed: list[str] = []
    for meeting in latest.values():
        plain = codec.meeting_plain_values(meeting)
        clear = codec.meeting_clear(meeting)
        digest = codec.meeting_digest(sealer, meeting, clear)
        previous = stored.get(meeting.event_id)
        if previous is None or not _same_content(sealer, user.id, plain, clear, digest,
                                                 previous):
            changed.append(meeting.event_id)
        elif previous[-1] == digest and previous[-2] and sealer.is_current(previous[-2]):
            unchanged.add(meeting.event_id)
            continue  # says the same, under the current key, with its digest: left alone
        rows.append((*plain, codec.seal_meeting_clear(sealer, meeting, clear), digest))
    deleted: list[str] = []
    if gone:
        if full_sync:  # each of them is stored
            conn.executemany("DELETE FROM meetings WHERE user_id = ? AND event_id = ?", gone)
            deleted = [event_id for _user, event_id in gone]
        else:  # those of them that are stored
            deleted = [row[0] for pair in gone for row in conn.execute(
                "DELETE FROM meetings WHERE user_id = ? AND event_id = ? RETURNING event_id",
                pair).fetchall()]
        conn.executemany("DELETE FROM scheduled_notifications WHERE user_id = ? "
                         "AND event_id = ? AND kind = 'join_button' AND state = 'pending'",
                         gone)
    if rows:
        conn.executemany(_UPSERT, rows)
    conn.execute(
        "INSERT INTO sync_state (user_id, cursor, last_sync_at) VALUES (?, ?, ?) "
        "ON CONFLICT(user_id) DO UPDATE SET cursor=excluded.cursor, "
        "last_sync_at=excluded.last_sync_at", (user.id, cursor, ts(synced_at)))
    applied = ApplyResult(upserted=len(changed), deleted=len(deleted),
                          changed_event_ids=frozenset(changed),
                          deleted_event_ids=frozenset(deleted))
    return applied, unchanged, changed, deleted


def _stored_rows(conn: sqlite3.Connection, user_id: str, event_ids: Sequence[str]) -> Stored:
    stored: dict[str, tuple[Any, ...]] = {}
    for first in range(0, len(event_ids), IN_CHUNK):
        chunk = event_ids[first:first + IN_CHUNK]
        stored.update((row[0], row[1:]) for row in conn.execute(
            f"{_SELECT_STORED} AND event_id IN ({', '.join('?' * len(chunk))})",
            (user_id, *chunk)))
    return stored


def _same_content(sealer: Sealer, user_id: str, plain: tuple[Any, ...], clear: str,
                  digest: str, previous: Sequence[Any]) -> bool:
    """Whether the stored row (``previous``: compared columns, then the token and the
    digest) holds exactly ``plain`` (:func:`codec.meeting_plain_values`) and ``clear``:
    by the digest when the row has one, else by opening its token."""
    *columns, token, stored_digest = previous
    if tuple(columns) != plain[2:]:
        return False
    if stored_digest is not None:
        return bool(stored_digest == digest)
    if not token:
        return False  # a row of before m010 (one token per field): written again
    try:
        return codec.open_meeting_clear(sealer, user_id, plain[1], token) == clear
    except DecryptionError:
        return False  # damaged or moved: written again


__all__ = ["SqliteSyncWrites", "apply_meetings"]
