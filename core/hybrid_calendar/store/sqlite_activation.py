"""A successful activation's writes on SQLite: one transaction (``Store.write_activation``)."""

from __future__ import annotations

import json
import time
from typing import Any

from hybrid_calendar.models import Channel
from hybrid_calendar.store import codec
from hybrid_calendar.store.base import ActivationWrite, ActivationWriteResult, hash_channel_token
from hybrid_calendar.store.sqlite_base import transaction, ts
from hybrid_calendar.store.sqlite_outbox import enqueue_row
from hybrid_calendar.store.sqlite_queue import INSERT_JOB, SqliteQueue

UPSERT_USER = (
    "INSERT INTO users (id, org_id, email, email_index, state, reason, provider, locale,"
    " timezone, created_at, updated_at) VALUES (:id, :org_id, :email, :email_index,"
    " :state, :reason, :provider, :locale, :timezone, :created_at, :updated_at) "
    "ON CONFLICT(id) DO UPDATE SET email=excluded.email, email_index=excluded.email_index,"
    " state=excluded.state, reason=excluded.reason, provider=excluded.provider,"
    " locale=excluded.locale, timezone=excluded.timezone, updated_at=excluded.updated_at")
"""A user's row, inserted or replaced (``Store.put_user``); named parameters of
:func:`~hybrid_calendar.store.codec.user_to_row`."""


SET_OUT_OF_OFFICE = ("INSERT INTO sync_state (user_id, out_of_office) VALUES (?, ?) "
                     "ON CONFLICT(user_id) DO UPDATE SET out_of_office=excluded.out_of_office")
"""A user's out-of-office state stored (``Store.set_out_of_office``)."""

RESET_CURSOR = "UPDATE sync_state SET cursor = NULL WHERE user_id = ?"
"""A user's cursor forgotten (``Store.reset_cursor``)."""

PUT_CHANNEL = ("INSERT OR REPLACE INTO channels (id, user_id, resource_id, token_hash,"
               " expires_at, provider) VALUES (?, ?, ?, ?, ?, ?)")
"""A push channel's row (``Store.put_channel``), the values of :func:`channel_row`."""


def channel_row(channel: Channel) -> tuple[Any, ...]:
    """A channel's :data:`PUT_CHANNEL` values, its token as the stored digest."""
    return (channel.id, channel.user_id, channel.resource_id,
            hash_channel_token(channel.token), ts(channel.expires_at), channel.provider)


class SqliteActivationWrites(SqliteQueue):
    """``Store.write_activation`` as one transaction on the store's worker thread: the
    user's row, the presence notification and out-of-office state, the cursor, the push
    channel and the sync job commit together or not at all."""

    async def write_activation(self, write: ActivationWrite, *, notify: bool = True
                               ) -> ActivationWriteResult:
        user = write.user
        now = time.time()
        row = await codec.sealed_user_row(self.cipher, user, now)
        sealer = (await self.cipher.sealer(user.org_id, user.id)
                  if write.presence is not None else None)
        job = write.sync_job

        def work() -> ActivationWriteResult:
            with transaction(self._conn_or_fail()) as conn:
                conn.execute(UPSERT_USER, row)
                added = False
                if write.presence is not None and sealer is not None:
                    added = enqueue_row(conn, sealer, user, write.presence, supersede=True,
                                        next_at=write.presence_at or write.presence.due_at)
                    conn.execute(SET_OUT_OF_OFFICE, (user.id, int(write.out_of_office)))
                if write.reset_cursor:
                    conn.execute(RESET_CURSOR, (user.id,))
                if write.channel is not None:
                    conn.execute(PUT_CHANNEL, channel_row(write.channel))
                queued = conn.execute(INSERT_JOB, (
                    job.kind, job.key, job.lane or job.key, json.dumps(dict(job.payload)),
                    ts(job.run_at), now)).rowcount
            return ActivationWriteResult(added, bool(queued))
        result = await self._run(work)
        if result.sync_queued and notify:
            self.wake_others()
        return result
