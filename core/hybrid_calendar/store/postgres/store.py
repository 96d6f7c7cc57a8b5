"""The PostgreSQL backend of :class:`~hybrid_calendar.store.base.Store`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg

from hybrid_calendar.crypto.repository import KeyStorage
from hybrid_calendar.errors import NotFoundError
from hybrid_calendar.models import Channel, Meeting, Organisation, SyncState, User, UserState
from hybrid_calendar.store import codec
from hybrid_calendar.store.base import (
    USER_TABLES,
    ActivationWrite,
    ActivationWriteResult,
    ApplyResult,
    Sealer,
    Store,
    SyncWrite,
    SyncWriteResult,
    UserContext,
)
from hybrid_calendar.store.delivery_rows import notification_row
from hybrid_calendar.store.health_rows import SYNC_SUCCESS_PG, sync_success_params
from hybrid_calendar.store.postgres.activation_write import (
    PUT_CHANNEL,
    UPSERT_USER,
    UPSERT_USER_COLUMNS,
    activation_statement,
    channel_params,
)
from hybrid_calendar.store.postgres.budget import PostgresBudgets
from hybrid_calendar.store.postgres.connection import Conn, Row
from hybrid_calendar.store.postgres.group_commit import WriteFn
from hybrid_calendar.store.postgres.keys import (
    INSERT_FIRST_GENERATION,
    PostgresKeyRepository,
    first_generation_values,
)
from hybrid_calendar.store.postgres.leases import PostgresLeases
from hybrid_calendar.store.postgres.outbox import (
    OFFERED,
    PostgresOutbox,
    enqueue_statement,
    offered_params,
    schedule_statement,
    withdraw_in,
)
from hybrid_calendar.store.postgres.queue import PostgresQueue
from hybrid_calendar.store.postgres.sync_write import (
    Statement,
    apply_statement,
    apply_statements,
    sync_write_statement,
)
from hybrid_calendar.store.sqlite_base import ts

if TYPE_CHECKING:
    from hybrid_calendar.crypto.cipher import FirstKey

_USER_COLUMNS = ", ".join(codec.USER_COLUMNS)

ADD_USERS_COLUMNS = ("id", "org_id", "email", "email_index", "state", "reason", "provider",
                     "locale", "timezone")
"""The ``users`` columns :data:`ADD_USERS` takes as arrays (``created_at`` and
``updated_at`` come first, one value each)."""
ADD_USERS = (
    f"INSERT INTO users ({', '.join(ADD_USERS_COLUMNS)}, created_at, updated_at) "
    f"SELECT v.*, %s, %s FROM unnest({', '.join(['%b::text[]'] * len(ADD_USERS_COLUMNS))}) "
    f"AS v({', '.join(ADD_USERS_COLUMNS)}) "
    "ON CONFLICT (org_id, email_index) DO UPDATE SET state = excluded.state, "
    "reason = excluded.reason, updated_at = excluded.updated_at "
    f"RETURNING {_USER_COLUMNS}, email_index")
"""``Store.add_users`` in one statement (:meth:`PostgresStore.add_users`)."""


PUT_ORG_SECRET = ("INSERT INTO org_secrets (org_id, name, value) VALUES (%s, %s, %s) "
                  "ON CONFLICT (org_id, name) DO UPDATE SET value=excluded.value")
"""An organisation secret's upsert (``put_org_secret``, ``update_org_secret``)."""
GET_ORG_SECRET = "SELECT value FROM org_secrets WHERE org_id=%s AND name=%s"
"""An organisation secret's read (``get_org_secret``, ``update_org_secret``)."""


class PostgresStore(PostgresQueue, PostgresOutbox, PostgresBudgets, PostgresLeases, Store):
    """Store on a PostgreSQL database shared by any number of gateway processes."""

    def key_storage(self) -> KeyStorage:
        return PostgresKeyRepository(self)

    # organisations -----------------------------------------------------------
    async def put_organisation(self, org: Organisation) -> None:
        await self.execute(
            "INSERT INTO organisations (id, name, domain, provider, settings, created_at) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
            "name=excluded.name, domain=excluded.domain, provider=excluded.provider, "
            "settings=excluded.settings",
            (org.id, org.name, org.domain, org.provider, json.dumps(dict(org.settings)),
             time.time()))

    async def add_organisation(self, org: Organisation) -> bool:
        return bool(await self.execute(
            "INSERT INTO organisations (id, name, domain, provider, settings, created_at) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
            (org.id, org.name, org.domain, org.provider, json.dumps(dict(org.settings)),
             time.time())))

    async def get_organisation(self, org_id: str) -> Organisation | None:
        rows = await self.fetch("SELECT * FROM organisations WHERE id = %s", (org_id,))
        return codec.row_to_org(rows[0]) if rows else None

    async def list_organisations(self) -> list[Organisation]:
        return [codec.row_to_org(row) for row in await self.fetch("SELECT * FROM organisations "
                                                      "ORDER BY id")]

    async def put_org_secret(self, org_id: str, name: str, value: str) -> None:
        sealer = await self.cipher.sealer(org_id, None)
        sealed = sealer.seal(value, table="org_secrets", row_id=f"{org_id}/{name}",
                             column="value")
        await self.execute(PUT_ORG_SECRET, (org_id, name, sealed))

    async def get_org_secret(self, org_id: str, name: str) -> str | None:
        rows = await self.fetch(GET_ORG_SECRET, (org_id, name))
        if not rows:
            return None
        sealer = await self.cipher.sealer(org_id, None)
        return sealer.open(rows[0]["value"], table="org_secrets", row_id=f"{org_id}/{name}",
                           column="value")

    async def update_org_secret(self, org_id: str, name: str,
                                change: Callable[[str | None], str | None]) -> str | None:
        """One group-committed write: ``pg_advisory_xact_lock`` on the secret (held until
        the commit, so another process's update of it waits, then reads this one's
        value), the read, the change in Python and the upsert. A missing row cannot be
        locked with ``FOR UPDATE``, hence the advisory lock."""
        sealer = await self.cipher.sealer(org_id, None)
        row_id = f"{org_id}/{name}"

        async def work(conn: Conn) -> str | None:
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                               ("org_secret:" + row_id,))
            cursor = await conn.execute(GET_ORG_SECRET, (org_id, name))
            row = await cursor.fetchone()
            current = None if row is None else sealer.open(
                row["value"], table="org_secrets", row_id=row_id, column="value")
            new = change(current)
            if new is None:
                return current
            await conn.execute(PUT_ORG_SECRET, (org_id, name, sealer.seal(
                new, table="org_secrets", row_id=row_id, column="value")))
            return new
        return await self.write(work)

    # users -------------------------------------------------------------------
    async def put_user(self, user: User) -> None:
        row = await codec.sealed_user_row(self.cipher, user, time.time())
        await self.execute(UPSERT_USER, [row[column] for column in UPSERT_USER_COLUMNS])

    async def write_activation(self, write: ActivationWrite, *, notify: bool = True
                               ) -> ActivationWriteResult:
        """One statement (:func:`.activation_write.activation_statement`), group-committed
        with other writes."""
        user = write.user
        now = time.time()
        row = await codec.sealed_user_row(self.cipher, user, now)
        presence_row = None
        if write.presence is not None:
            sealer = await self.cipher.sealer(user.org_id, user.id)
            presence_row = notification_row(sealer, user, write.presence,
                                            write.presence_at or write.presence.due_at)
        found = (await self.fetch_written(*activation_statement(
            write, row, presence_row, now, self.notify_source if notify else None)))[0]
        return ActivationWriteResult(bool(found["added"]), bool(found["queued"]))

    async def add_users(self, users: Sequence[User]) -> list[User]:
        """One statement for the whole list: an ``unnest`` of the new rows (binary column
        arrays) inserted with ``ON CONFLICT (org_id, email_index) DO UPDATE`` of the state
        and reason, returning every stored row (two processes adding one address at once
        end with one user: the unique index decides)."""
        if not users:
            return []
        now = time.time()
        new = await codec.new_user_rows(self.cipher, users, now)
        ordered = [new.rows[key] for key in sorted(new.rows)]  # one lock order for concurrent adds
        found = await self.fetch_written(ADD_USERS, (
            now, now, *([row[column] for row in ordered] for column in ADD_USERS_COLUMNS)))
        by_key = {(row["org_id"], row["email_index"]): codec.row_to_user(
            new.sealers[row["org_id"]], row) for row in found}
        return [by_key[key] for key in new.keys]

    async def get_user(self, user_id: str) -> User | None:
        users = await self._users(f"SELECT {_USER_COLUMNS} FROM users WHERE id = %s",
                                  (user_id,))
        return users[0] if users else None

    async def get_user_context(self, user_id: str) -> UserContext | None:
        """One statement: the user joined with their organisation and sync state."""
        rows = await self.fetch(f"{codec.USER_CONTEXT_SELECT} WHERE u.id = %s", (user_id,))
        if not rows:
            return None
        return codec.row_to_user_context(await self.cipher.sealer(rows[0]["org_id"], None),
                                         rows[0])

    async def start_validation(self, user_id: str, first_key: FirstKey | None = None
                               ) -> UserContext | None:
        """One statement: the context as it was (``before``, its row locked), the state
        written (``marked``) and a new user's first key (``keyed``, only when the row was
        marked and the user owns no key); nothing comes back unless the row was marked
        (a user made inactive before the lock was granted is not)."""
        keyed, key_values = "", ()
        if first_key is not None:  # the key's insert runs only once the mark is made
            keyed = (f", keyed AS ({INSERT_FIRST_GENERATION} AND EXISTS (SELECT 1 FROM "
                     "marked JOIN before ON before.id = marked.id WHERE before.org_id = %s) "
                     "ON CONFLICT DO NOTHING RETURNING key_id)")
            key_values = (*first_generation_values(first_key.record), first_key.record.org_id)
        rows = await self.fetch_written(
            f"WITH before AS ({codec.USER_CONTEXT_SELECT} WHERE u.id = %s FOR UPDATE OF u), "
            "marked AS (UPDATE users SET state = %s, reason = NULL, updated_at = %s "
            "WHERE id = %s AND state <> %s AND EXISTS (SELECT 1 FROM before) RETURNING id)"
            f"{keyed} SELECT before.*"
            f"{', (SELECT count(*) FROM keyed) AS first_key_stored' if keyed else ''} "
            "FROM before JOIN marked ON marked.id = before.id",
            (user_id, str(UserState.VALIDATING), time.time(), user_id,
             str(UserState.INACTIVE), *key_values))
        if first_key is not None:
            await self.cipher.settle_first_key(
                first_key, stored=bool(rows) and bool(rows[0]["first_key_stored"]))
        if not rows:
            return None
        return codec.row_to_user_context(await self.cipher.sealer(rows[0]["org_id"], None),
                                         rows[0])

    async def find_user(self, org_id: str, email: str) -> User | None:
        index = await self.cipher.blind_index(org_id, email)
        users = await self._users(f"SELECT {_USER_COLUMNS} FROM users WHERE org_id = %s AND "
                                  "email_index = %s", (org_id, index))
        return users[0] if users else None

    async def list_users(self, *, state: UserState | None = None, org_id: str | None = None
                         ) -> list[User]:
        clauses: list[str] = []
        params: list[Any] = []
        if state is not None:
            clauses.append("state = %s")
            params.append(str(state))
        if org_id is not None:
            clauses.append("org_id = %s")
            params.append(org_id)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return await self._users(f"SELECT {_USER_COLUMNS} FROM users{where} ORDER BY id",
                                 tuple(params))

    async def list_user_ids(self, *, state: UserState | None = None) -> list[str]:
        """One query of the ids alone (no address decrypted)."""
        where, params = ("WHERE state = %s ", (str(state),)) if state is not None else ("", ())
        return [str(row["id"]) for row in await self.fetch(
            f"SELECT id FROM users {where}ORDER BY id", params)]

    async def set_user_state(self, user_id: str, state: UserState, reason: str | None = None
                             ) -> User:
        users = await self._users(  # one statement: the update returns the row
            f"UPDATE users SET state = %s, reason = %s, updated_at = %s WHERE id = %s "
            f"RETURNING {_USER_COLUMNS}", (str(state), reason, time.time(), user_id),
            writes=True)
        if not users:
            raise NotFoundError(f"no user with id {user_id}")
        return users[0]

    async def set_user_settings(self, user_id: str, locale: str | None,
                                timezone: str | None) -> bool:
        return bool(await self.execute(
            "UPDATE users SET locale = %s, timezone = %s, updated_at = %s WHERE id = %s "
            "AND (locale IS DISTINCT FROM %s OR timezone IS DISTINCT FROM %s)",
            (locale, timezone, time.time(), user_id, locale, timezone)))

    async def forget_user_data(self, user_id: str) -> None:
        async def work(conn: Conn) -> None:
            for table in USER_TABLES:
                await conn.execute(f"DELETE FROM {table} WHERE user_id = %s",
                                   (user_id,))
        await self.write(work)

    async def _users(self, sql: str, params: tuple[Any, ...], *, writes: bool = False
                     ) -> list[User]:
        rows = await (self.fetch_written if writes else self.fetch)(sql, params)
        sealers = {org: await self.cipher.sealer(org, None) for org in {r["org_id"] for r in rows}}
        return [codec.row_to_user(sealers[row["org_id"]], row) for row in rows]

    # sync ---------------------------------------------------------------------
    async def get_sync_state(self, user_id: str) -> SyncState:
        rows = await self.fetch("SELECT * FROM sync_state WHERE user_id = %s", (user_id,))
        return codec.row_to_sync_state(rows[0]) if rows else SyncState(user_id=user_id)

    async def list_sync_states(self) -> list[SyncState]:
        return [codec.row_to_sync_state(row)
                for row in await self.fetch("SELECT * FROM sync_state")]

    async def apply_changes(self, user: User, upserts: Sequence[Meeting],
                            deleted_event_ids: Sequence[str], cursor: str | None, *,
                            full_sync: bool, synced_at: datetime) -> ApplyResult:
        sealer = await self.cipher.sealer(user.org_id, user.id)
        rows = [codec.meeting_to_row(sealer, meeting) for meeting in upserts]

        one = apply_statement(user.id, rows, deleted_event_ids, cursor, ts(synced_at),
                              full_sync=full_sync, current_prefix=sealer.current_prefix)

        async def work(conn: Conn) -> ApplyResult:
            if one is not None:  # the usual case: one statement
                found = await (await conn.execute(*one)).fetchone()
                assert found is not None
                return ApplyResult(upserted=int(found["upserted"]),
                                   deleted=int(found["deleted"]),
                                   changed_event_ids=frozenset(found["changed_ids"] or ()),
                                   deleted_event_ids=frozenset(found["gone_ids"] or ()))
            return (await _apply_separately(conn, apply_statements(
                user.id, rows, deleted_event_ids, cursor, ts(synced_at),
                sealer.current_prefix)))[0]
        return await (self.execute_one(work) if one is not None else self.write(work))

    async def write_sync(self, write: SyncWrite) -> SyncWriteResult:
        """Usually one statement (:func:`.sync_write.sync_write_statement`: the apply, the
        Join buttons and the announcement as parts of one ``WITH``); when the apply cannot
        be one statement, one transaction of the separate statements. Both are
        group-committed with other writes. Should it fail, the write runs again as
        separate operations (:meth:`Store.write_sync`'s default), where a failure to queue
        the announcement, a hint, is logged and undoes nothing else. (A savepoint around
        the announcement would cost two statements on every sync.) Meetings found as
        stored are not written or counted, and a sync that added, changed and deleted
        nothing queues no announcement (:mod:`.sync_write`)."""
        user = write.user
        sealer = await self.cipher.sealer(user.org_id, user.id)
        rows = [codec.meeting_to_row(sealer, meeting) for meeting in write.upserts]
        synced_at = ts(write.synced_at)
        item = write.announcement
        announce_row = None if item is None else notification_row(
            sealer, user, item, write.announce_at or item.due_at)
        health = (None if write.health is None
                  else sync_success_params(user.id, write.health))
        one = sync_write_statement(
            user.id, rows, write.deleted_event_ids, write.cursor, synced_at,
            full_sync=write.full_sync, current_prefix=sealer.current_prefix,
            announcement=announce_row,
            buttons=[notification_row(sealer, user, button, button.due_at)
                     for button in write.buttons], health=health,
            offered_after=None if write.withdraw is None else ts(write.withdraw.at))
        try:
            if write.withdraw is not None:
                return await self.write(self._withdrawing_sync(sealer, write, one, rows,
                                                               synced_at))
            if one is not None:
                applied, changed, gone, announced = _one_result(
                    (await self.fetch_written(*one))[0])
            else:
                applied, changed, deleted, announced = await self.write(
                    self._sync_transaction(sealer, write, rows, synced_at))
                gone = frozenset(deleted)
        except psycopg.DatabaseError:  # nothing of it is kept: again, one part at a time
            return await super().write_sync(write)
        return SyncWriteResult(applied, announced, frozenset(changed),
                               health_recorded=health is not None, deleted_event_ids=gone)

    def _withdrawing_sync(self, sealer: Sealer, write: SyncWrite, one: Statement | None,
                          rows: list[dict[str, Any]], synced_at: float | None
                          ) -> WriteFn[SyncWriteResult]:
        """A sync write with :attr:`SyncWrite.withdraw`, as one transaction: the write
        (its one statement, which also reads the Join buttons a sink may show; or that
        read, then the separate statements), then the withdrawals
        (:func:`.outbox.withdraw_in`: a delete and an insert per button, only when the
        write undid one)."""
        separate = None if one is not None else self._sync_transaction(sealer, write, rows,
                                                                      synced_at)
        assert write.withdraw is not None
        at = write.withdraw.at.timestamp()

        async def work(conn: Conn) -> SyncWriteResult:
            if one is not None:
                found = (await (await conn.execute(*one)).fetchall())[0]
                applied, changed, gone, announced = _one_result(found)
                offered = found["offered"] or []
            else:
                assert separate is not None
                offered = await (await conn.execute(
                    OFFERED, offered_params(write.user.id, at))).fetchall()
                applied, changed, deleted, announced = await separate(conn)
                gone = frozenset(deleted)
            withdrawn = await withdraw_in(conn, sealer, write, offered)
            return SyncWriteResult(applied, announced, frozenset(changed),
                                   health_recorded=write.health is not None,
                                   deleted_event_ids=gone, withdrawn=tuple(withdrawn))
        return work

    def _sync_transaction(self, sealer: Sealer, write: SyncWrite, rows: list[dict[str, Any]],
                          synced_at: float | None
                          ) -> WriteFn[tuple[ApplyResult, list[str], list[str], bool]]:
        """A sync write whose apply cannot be one statement (an incremental sync deleting
        an id it also upserts), as one transaction: the apply's separate statements, the
        Join buttons' one statement and the announcement's one statement (only when the
        apply added, changed or deleted a meeting)."""
        user = write.user
        touched = write.touched_event_ids
        buttons = (schedule_statement(sealer, user, write.buttons, touched)
                   if write.buttons or touched else None)
        item = write.announcement
        announce = None if item is None else enqueue_statement(
            sealer, user, item, supersede=True, next_at=write.announce_at or item.due_at)

        async def work(conn: Conn) -> tuple[ApplyResult, list[str], list[str], bool]:
            applied, changed, deleted = await _apply_separately(conn, apply_statements(
                user.id, rows, write.deleted_event_ids, write.cursor, synced_at,
                sealer.current_prefix))
            if buttons is not None:
                await conn.execute(*buttons)
            if write.health is not None:
                await conn.execute(SYNC_SUCCESS_PG,
                                   sync_success_params(user.id, write.health))
            if announce is None or not applied.upserted + applied.deleted:
                return applied, changed, deleted, False
            return applied, changed, deleted, bool(
                await (await conn.execute(*announce)).fetchall())
        return work

    async def reset_cursor(self, user_id: str) -> None:
        await self.execute("UPDATE sync_state SET cursor = NULL WHERE user_id = %s", (user_id,))

    async def set_out_of_office(self, user_id: str, enabled: bool) -> bool | None:
        """One statement (migration ``m013``): the function reads the previous state with
        ``FOR UPDATE``, then upserts the new one, as a transaction of those two statements
        did (four round trips with ``BEGIN``/``COMMIT``)."""
        rows = await self.fetch_written(
            "SELECT previous FROM hybrid_calendar_set_out_of_office(%s, %s)",
            (user_id, int(enabled)))
        previous = rows[0]["previous"] if rows else None
        return None if previous is None else bool(previous)

    # meetings ----------------------------------------------------------------
    async def list_meetings(self, user: User, start: datetime, end: datetime) -> list[Meeting]:
        rows = await self.fetch(
            "SELECT * FROM meetings WHERE user_id = %s AND start_at < %s AND end_at > %s "
            "ORDER BY start_at, event_id", (user.id, ts(end), ts(start)))
        sealer = await self.cipher.sealer(user.org_id, user.id)
        return [codec.row_to_meeting(sealer, row) for row in rows]

    async def get_meeting(self, user: User, event_id: str) -> Meeting | None:
        rows = await self.fetch("SELECT * FROM meetings WHERE user_id = %s AND event_id = %s",
                                (user.id, event_id))
        if not rows:
            return None
        return codec.row_to_meeting(await self.cipher.sealer(user.org_id, user.id), rows[0])

    async def purge_outside(self, keep_from: datetime, keep_until: datetime) -> int:
        async def work(conn: Conn) -> int:
            await conn.execute("DELETE FROM scheduled_notifications WHERE end_at < %s OR "
                               "start_at > %s OR (end_at IS NULL AND due_at < %s)",
                               (ts(keep_from), ts(keep_until), ts(keep_from)))
            cursor = await conn.execute("DELETE FROM meetings WHERE end_at < %s OR "
                                        "start_at > %s", (ts(keep_from), ts(keep_until)))
            return cursor.rowcount
        return await self.write(work)

    # channels ------------------------------------------------------------------
    async def put_channel(self, channel: Channel) -> None:
        await self.execute(PUT_CHANNEL, channel_params(channel))

    async def get_channel(self, channel_id: str) -> Channel | None:
        rows = await self.fetch("SELECT * FROM channels WHERE id = %s", (channel_id,))
        return codec.row_to_channel(rows[0]) if rows else None

    async def list_channels(self, *, user_id: str | None = None,
                            expiring_before: datetime | None = None) -> list[Channel]:
        clauses: list[str] = ["TRUE"]
        params: list[Any] = []
        if user_id is not None:
            clauses.append("user_id = %s")
            params.append(user_id)
        if expiring_before is not None:
            clauses.append("expires_at < %s")
            params.append(ts(expiring_before))
        rows = await self.fetch(f"SELECT * FROM channels WHERE {' AND '.join(clauses)} "
                                "ORDER BY expires_at", tuple(params))
        return [codec.row_to_channel(row) for row in rows]

    async def delete_channel(self, channel_id: str) -> None:
        await self.execute("DELETE FROM channels WHERE id = %s", (channel_id,))


async def _apply_separately(conn: Conn, statements: tuple[list[Statement], Statement | None]
                            ) -> tuple[ApplyResult, list[str], list[str]]:
    """Run :func:`.sync_write.apply_statements` in the open transaction ``conn``: the
    first statement's rows are the meetings deleted, the upsert's one row counts (and
    names) the meetings added or changed. Returns the counts, then the event ids of the
    meetings added or changed and of those deleted."""
    first, upsert = statements
    deleted = [row["event_id"] for row in await (await conn.execute(*first[0])).fetchall()]
    for statement in first[1:]:
        await conn.execute(*statement)
    if upsert is None:
        return ApplyResult(upserted=0, deleted=len(deleted), changed_event_ids=frozenset(),
                           deleted_event_ids=frozenset(deleted)), [], deleted
    found = await (await conn.execute(*upsert)).fetchone()
    changed: list[str] = [] if found is None else list(found["changed_ids"] or [])
    return ApplyResult(upserted=len(changed), deleted=len(deleted),
                       changed_event_ids=frozenset(changed),
                       deleted_event_ids=frozenset(deleted)), changed, deleted


def _one_result(found: Row) -> tuple[ApplyResult, list[str], frozenset[str], bool]:
    """What :func:`.sync_write.sync_write_statement`'s one row says: the apply's counts,
    the changed meetings' event ids, the deleted ones' and whether it announced."""
    return (ApplyResult(upserted=int(found["upserted"]), deleted=int(found["deleted"])),
            found["changed_ids"] or [], frozenset(found["gone_ids"] or ()),
            bool(found["announced"]))
