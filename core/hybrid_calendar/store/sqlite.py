"""The embedded SQLite backend of :class:`~hybrid_calendar.store.base.Store`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hybrid_calendar.crypto.repository import (
    INSERT_FIRST_GENERATION,
    KeyRepository,
    KeyStorage,
    first_generation_values,
)
from hybrid_calendar.errors import NotFoundError
from hybrid_calendar.models import (
    Channel,
    Meeting,
    Organisation,
    SyncState,
    User,
    UserState,
)
from hybrid_calendar.store import codec
from hybrid_calendar.store.base import USER_TABLES, Store, UserContext
from hybrid_calendar.store.sqlite_activation import (
    PUT_CHANNEL,
    RESET_CURSOR,
    SET_OUT_OF_OFFICE,
    UPSERT_USER,
    SqliteActivationWrites,
    channel_row,
)
from hybrid_calendar.store.sqlite_base import transaction, ts
from hybrid_calendar.store.sqlite_budget import SqliteBudgets
from hybrid_calendar.store.sqlite_outbox import SqliteOutbox
from hybrid_calendar.store.sqlite_queue import SqliteQueue
from hybrid_calendar.store.sqlite_sync import SqliteSyncWrites

if TYPE_CHECKING:
    from hybrid_calendar.crypto.cipher import FirstKey

_USER_COLUMNS = ", ".join(codec.USER_COLUMNS)


PUT_ORG_SECRET = ("INSERT INTO org_secrets (org_id, name, value) VALUES (?, ?, ?) "
                  "ON CONFLICT(org_id, name) DO UPDATE SET value=excluded.value")
"""An organisation secret's upsert (``put_org_secret``, ``update_org_secret``)."""
GET_ORG_SECRET = "SELECT value FROM org_secrets WHERE org_id=? AND name=?"
"""An organisation secret's read (``get_org_secret``, ``update_org_secret``)."""


class SqliteStore(SqliteActivationWrites, SqliteSyncWrites, SqliteQueue, SqliteOutbox,
                  SqliteBudgets, Store):
    """Store on one SQLite file (WAL mode), sensitive columns encrypted."""

    def key_storage(self) -> KeyStorage:
        return KeyRepository(self.call_grouped, run_alone=self.call)

    # organisations -----------------------------------------------------------
    async def put_organisation(self, org: Organisation) -> None:
        row = {"id": org.id, "name": org.name, "domain": org.domain, "provider": org.provider,
               "settings": json.dumps(dict(org.settings)), "created_at": time.time()}
        await self._run(lambda: self.execute(
            "INSERT INTO organisations (id, name, domain, provider, settings, created_at) "
            "VALUES (:id, :name, :domain, :provider, :settings, :created_at) "
            "ON CONFLICT(id) DO UPDATE SET name=excluded.name, domain=excluded.domain, "
            "provider=excluded.provider, settings=excluded.settings", row))

    async def add_organisation(self, org: Organisation) -> bool:
        row = {"id": org.id, "name": org.name, "domain": org.domain, "provider": org.provider,
               "settings": json.dumps(dict(org.settings)), "created_at": time.time()}
        return bool(await self._run(lambda: self.execute(
            "INSERT INTO organisations (id, name, domain, provider, settings, created_at) "
            "VALUES (:id, :name, :domain, :provider, :settings, :created_at) "
            "ON CONFLICT(id) DO NOTHING", row).rowcount))

    async def get_organisation(self, org_id: str) -> Organisation | None:
        rows = await self._select("SELECT * FROM organisations WHERE id = ?", (org_id,))
        return codec.row_to_org(rows[0]) if rows else None

    async def list_organisations(self) -> list[Organisation]:
        return [codec.row_to_org(row) for row in await self._select("SELECT * FROM organisations "
                                                        "ORDER BY id")]

    async def put_org_secret(self, org_id: str, name: str, value: str) -> None:
        sealer = await self.cipher.sealer(org_id, None)
        sealed = sealer.seal(value, table="org_secrets", row_id=f"{org_id}/{name}",
                             column="value")
        await self._run(lambda: self.execute(PUT_ORG_SECRET, (org_id, name, sealed)))

    async def get_org_secret(self, org_id: str, name: str) -> str | None:
        rows = await self._select(GET_ORG_SECRET, (org_id, name))
        if not rows:
            return None
        sealer = await self.cipher.sealer(org_id, None)
        return sealer.open(rows[0]["value"], table="org_secrets", row_id=f"{org_id}/{name}",
                           column="value")

    async def update_org_secret(self, org_id: str, name: str,
                                change: Callable[[str | None], str | None]) -> str | None:
        """One operation of the worker thread: read, open, change, seal and upsert in one
        ``BEGIN IMMEDIATE`` transaction (which also holds off other processes on the
        file until it commits)."""
        sealer = await self.cipher.sealer(org_id, None)
        row_id = f"{org_id}/{name}"

        def work() -> str | None:
            with transaction(self._conn_or_fail()) as conn:
                row = conn.execute(GET_ORG_SECRET, (org_id, name)).fetchone()
                current = None if row is None else sealer.open(
                    row[0], table="org_secrets", row_id=row_id, column="value")
                new = change(current)
                if new is None:
                    return current
                conn.execute(PUT_ORG_SECRET, (org_id, name, sealer.seal(
                    new, table="org_secrets", row_id=row_id, column="value")))
                return new
        return await self._run(work)

    # users -------------------------------------------------------------------
    async def put_user(self, user: User) -> None:
        row = await codec.sealed_user_row(self.cipher, user, time.time())
        await self._run(lambda: self.execute(UPSERT_USER, row))

    async def add_users(self, users: Sequence[User]) -> list[User]:
        """One transaction for the whole list: per address one ``INSERT … ON
        CONFLICT(org_id, email_index) DO UPDATE`` of the state and reason, ``RETURNING``
        the stored row."""
        new = await codec.new_user_rows(self.cipher, users, time.time())

        def work() -> dict[tuple[str, str], dict[str, Any]]:
            stored = {}
            with transaction(self._conn_or_fail()) as conn:
                for key, row in new.rows.items():
                    cursor = conn.execute(
                        "INSERT INTO users (id, org_id, email, email_index, state, reason,"
                        " provider, locale, timezone, created_at, updated_at) VALUES (:id,"
                        " :org_id, :email, :email_index, :state, :reason, :provider, :locale,"
                        " :timezone, :created_at, :updated_at) ON CONFLICT(org_id, email_index)"
                        " DO UPDATE SET state=excluded.state, reason=excluded.reason,"
                        f" updated_at=excluded.updated_at RETURNING {_USER_COLUMNS}", row)
                    names = [d[0] for d in cursor.description]
                    stored[key] = dict(zip(names, cursor.fetchall()[0], strict=True))
            return stored
        stored = await self._run(work)
        return [codec.row_to_user(new.sealers[key[0]], stored[key]) for key in new.keys]

    async def get_user(self, user_id: str) -> User | None:
        users = await self._users(f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", (user_id,))
        return users[0] if users else None

    async def get_user_context(self, user_id: str) -> UserContext | None:
        """One statement: the user joined with their organisation and sync state."""
        rows = await self._select(f"{codec.USER_CONTEXT_SELECT} WHERE u.id = ?", (user_id,))
        if not rows:
            return None
        return codec.row_to_user_context(await self.cipher.sealer(rows[0]["org_id"], None),
                                         rows[0])

    async def start_validation(self, user_id: str, first_key: FirstKey | None = None
                               ) -> UserContext | None:
        """One transaction: the context read, the state written and a new user's first
        key inserted together."""
        def work() -> tuple[dict[str, Any] | None, bool]:
            with transaction(self._conn_or_fail()) as conn:
                row = self.first_row(
                    conn.execute(f"{codec.USER_CONTEXT_SELECT} WHERE u.id = ?", (user_id,)))
                if row is None or row["state"] == str(UserState.INACTIVE):
                    return None, False
                conn.execute("UPDATE users SET state = ?, reason = NULL, updated_at = ? "
                             "WHERE id = ?", (str(UserState.VALIDATING), time.time(), user_id))
                stored = (first_key is not None and first_key.record.org_id == row["org_id"]
                          and bool(conn.execute(INSERT_FIRST_GENERATION, first_generation_values(
                              first_key.record)).rowcount))
                return row, stored
        row, stored = await self._run(work)
        if first_key is not None:
            await self.cipher.settle_first_key(first_key, stored=stored)
        if row is None:
            return None
        return codec.row_to_user_context(await self.cipher.sealer(row["org_id"], None), row)

    async def find_user(self, org_id: str, email: str) -> User | None:
        index = await self.cipher.blind_index(org_id, email)
        users = await self._users(f"SELECT {_USER_COLUMNS} FROM users WHERE org_id = ? AND "
                                  "email_index = ?", (org_id, index))
        return users[0] if users else None

    async def list_users(self, *, state: UserState | None = None, org_id: str | None = None
                         ) -> list[User]:
        clauses: list[str] = []
        params: list[Any] = []
        if state is not None:
            clauses.append("state = ?")
            params.append(str(state))
        if org_id is not None:
            clauses.append("org_id = ?")
            params.append(org_id)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return await self._users(f"SELECT {_USER_COLUMNS} FROM users{where} ORDER BY id",
                                 tuple(params))

    async def list_user_ids(self, *, state: UserState | None = None) -> list[str]:
        """One query of the ids alone (no address decrypted)."""
        where, params = ("WHERE state = ? ", (str(state),)) if state is not None else ("", ())
        return [str(row["id"]) for row in await self._select(
            f"SELECT id FROM users {where}ORDER BY id", params)]

    async def set_user_state(self, user_id: str, state: UserState, reason: str | None = None
                             ) -> User:
        """One statement: the write returns the row it changed (no read back)."""
        users = await self._users(
            "UPDATE users SET state = ?, reason = ?, updated_at = ? WHERE id = ? "
            f"RETURNING {_USER_COLUMNS}", (str(state), reason, time.time(), user_id))
        if not users:
            raise NotFoundError(f"no user with id {user_id}")
        return users[0]

    async def set_user_settings(self, user_id: str, locale: str | None,
                                timezone: str | None) -> bool:
        return bool(await self._run(lambda: self.execute(
            "UPDATE users SET locale = ?, timezone = ?, updated_at = ? WHERE id = ? "
            "AND (locale IS NOT ? OR timezone IS NOT ?)",
            (locale, timezone, time.time(), user_id, locale, timezone)).rowcount))

    async def forget_user_data(self, user_id: str) -> None:
        def work() -> None:
            with transaction(self._conn_or_fail()) as conn:
                for table in USER_TABLES:
                    conn.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
        await self._run(work)

    async def _users(self, sql: str, params: tuple[Any, ...]) -> list[User]:
        rows = await self._select(sql, params)
        sealers = {org: await self.cipher.sealer(org, None) for org in {r["org_id"] for r in rows}}
        return [codec.row_to_user(sealers[row["org_id"]], row) for row in rows]

    # sync ---------------------------------------------------------------------
    async def get_sync_state(self, user_id: str) -> SyncState:
        rows = await self._select("SELECT * FROM sync_state WHERE user_id = ?", (user_id,))
        return codec.row_to_sync_state(rows[0]) if rows else SyncState(user_id=user_id)

    async def list_sync_states(self) -> list[SyncState]:
        return [codec.row_to_sync_state(row)
                for row in await self._select("SELECT * FROM sync_state")]

    async def reset_cursor(self, user_id: str) -> None:
        await self._run(lambda: self.execute(RESET_CURSOR, (user_id,)))

    async def set_out_of_office(self, user_id: str, enabled: bool) -> bool | None:
        previous = (await self.get_sync_state(user_id)).out_of_office
        await self._run(lambda: self.execute(SET_OUT_OF_OFFICE, (user_id, int(enabled))))
        return previous

    # meetings ----------------------------------------------------------------
    async def list_meetings(self, user: User, start: datetime, end: datetime) -> list[Meeting]:
        rows = await self._select(
            "SELECT * FROM meetings WHERE user_id = ? AND start_at < ? AND end_at > ? "
            "ORDER BY start_at, event_id", (user.id, ts(end), ts(start)))
        sealer = await self.cipher.sealer(user.org_id, user.id)
        return [codec.row_to_meeting(sealer, row) for row in rows]

    async def get_meeting(self, user: User, event_id: str) -> Meeting | None:
        rows = await self._select("SELECT * FROM meetings WHERE user_id = ? AND event_id = ?",
                                  (user.id, event_id))
        if not rows:
            return None
        return codec.row_to_meeting(await self.cipher.sealer(user.org_id, user.id), rows[0])

    async def purge_outside(self, keep_from: datetime, keep_until: datetime) -> int:
        def work() -> int:
            with transaction(self._conn_or_fail()) as conn:
                conn.execute("DELETE FROM scheduled_notifications WHERE end_at < ? OR "
                             "start_at > ? OR (end_at IS NULL AND due_at < ?)",
                             (ts(keep_from), ts(keep_until), ts(keep_from)))
                return conn.execute("DELETE FROM meetings WHERE end_at < ? OR start_at > ?",
                                    (ts(keep_from), ts(keep_until))).rowcount
        return int(await self._run(work))

    # channels ------------------------------------------------------------------
    async def put_channel(self, channel: Channel) -> None:
        row = channel_row(channel)
        await self._run(lambda: self.execute(PUT_CHANNEL, row))

    async def get_channel(self, channel_id: str) -> Channel | None:
        rows = await self._select("SELECT * FROM channels WHERE id = ?", (channel_id,))
        return codec.row_to_channel(rows[0]) if rows else None

    async def list_channels(self, *, user_id: str | None = None,
                            expiring_before: datetime | None = None) -> list[Channel]:
        clauses: list[str] = ["1=1"]
        params: list[Any] = []
        if user_id is not None:
            clauses.append("user_id = ?")
            params.append(user_id)
        if expiring_before is not None:
            clauses.append("expires_at < ?")
            params.append(ts(expiring_before))
        rows = await self._select(f"SELECT * FROM channels WHERE {' AND '.join(clauses)} "
                                  "ORDER BY expires_at", tuple(params))
        return [codec.row_to_channel(row) for row in rows]

    async def delete_channel(self, channel_id: str) -> None:
        await self._run(lambda: self.execute("DELETE FROM channels WHERE id = ?", (channel_id,)))


