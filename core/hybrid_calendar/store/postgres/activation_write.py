"""A successful activation's writes to PostgreSQL as one statement
(``Store.write_activation``): the user's row, the presence notification and out-of-office
state, the cursor, the push channel and the first sync job.

Each part is a data-modifying ``WITH`` query, so the whole write is atomic on its own
without ``BEGIN``/``COMMIT``: one round trip where separate writes took four to six
(every statement costs the gateway ≈ 100-180 µs of CPU in psycopg, and the server a
parse, an execution and a commit). No row is touched twice: ``sync_state`` is written by
one part only.
"""

from __future__ import annotations

import json
from typing import Any

from hybrid_calendar.models import Channel
from hybrid_calendar.store.base import ActivationWrite, hash_channel_token
from hybrid_calendar.store.postgres.outbox import sync_notification_parts
from hybrid_calendar.store.postgres.queue import ENQUEUE, JOBS_CHANNEL
from hybrid_calendar.store.sqlite_base import ts

Statement = tuple[str, list[Any]]

UPSERT_USER_COLUMNS = ("id", "org_id", "email", "email_index", "state", "reason", "provider",
                "locale", "timezone", "created_at", "updated_at")
"""The ``users`` columns of the upsert, in the order of the row's values."""

UPSERT_USER = (
    f"INSERT INTO users ({', '.join(UPSERT_USER_COLUMNS)}) VALUES "
    f"({', '.join(['%s'] * len(UPSERT_USER_COLUMNS))}) "
    "ON CONFLICT (id) DO UPDATE SET email=excluded.email, email_index=excluded.email_index, "
    "state=excluded.state, reason=excluded.reason, provider=excluded.provider, "
    "locale=excluded.locale, timezone=excluded.timezone, updated_at=excluded.updated_at")
"""A user's row inserted or replaced (``Store.put_user``, and this write's first part);
positional parameters, the row's values in :data:`UPSERT_USER_COLUMNS` order."""


PUT_CHANNEL = (
    "INSERT INTO channels (id, user_id, resource_id, token_hash, expires_at, provider)"
    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
    "user_id=excluded.user_id, resource_id=excluded.resource_id, "
    "token_hash=excluded.token_hash, expires_at=excluded.expires_at, "
    "provider=excluded.provider")
"""A push channel's row inserted or replaced (``Store.put_channel``, and a part of the
activation); the values of :func:`channel_params`."""


def channel_params(channel: Channel) -> list[Any]:
    """A channel's :data:`PUT_CHANNEL` values, its token as the stored digest."""
    return [channel.id, channel.user_id, channel.resource_id,
            hash_channel_token(channel.token), ts(channel.expires_at), channel.provider]


def activation_statement(write: ActivationWrite, user_row: dict[str, Any],
                         presence_row: tuple[Any, ...] | None, created_at: float,
                         notify_source: str | None) -> Statement:
    """The activation as one statement returning one row: ``added`` (1 when the presence
    notification went in) and ``queued`` (1 when the sync job was added; with
    ``notify_source`` its ``NOTIFY`` is sent by the same statement, as
    ``PostgresQueue.enqueue`` sends it).

    :param user_row: the sealed ``users`` row (``codec.user_to_row`` plus ``created_at``).
    :param presence_row: the presence notification's ``scheduled_notifications`` row
        (``None`` when presence did not change).
    """
    user_id = write.user.id
    parts = ["account AS (" + UPSERT_USER + ")"]
    params: list[Any] = [user_row[column] for column in UPSERT_USER_COLUMNS]
    if presence_row is not None:
        more, more_params = sync_notification_parts(
            user_id, (), (), spare_gone=False, announcement=presence_row, announce_when="TRUE")
        parts += more
        params += more_params
    if presence_row is not None or write.reset_cursor:
        columns, values = ["user_id"], ["%s"]
        params.append(user_id)
        updates = []
        if presence_row is not None:
            columns.append("out_of_office")
            values.append("%s")
            params.append(int(write.out_of_office))
            updates.append("out_of_office = excluded.out_of_office")
        if write.reset_cursor:
            updates.append("cursor = NULL")
        parts.append(f"state AS (INSERT INTO sync_state ({', '.join(columns)}) VALUES "
                     f"({', '.join(values)}) ON CONFLICT (user_id) DO UPDATE SET "
                     f"{', '.join(updates)})")
    if write.channel is not None:
        parts.append(f"channel AS ({PUT_CHANNEL})")
        params += channel_params(write.channel)
    job = write.sync_job
    parts.append(f"queued AS ({ENQUEUE} RETURNING key)")
    params += [job.kind, job.key, job.lane or job.key, json.dumps(dict(job.payload)),
               ts(job.run_at), created_at]
    added = "(SELECT count(*) FROM announced)" if presence_row is not None else "0"
    select = f"SELECT {added} AS added, (SELECT count(*) FROM queued) AS queued"
    if notify_source is not None:
        select += ", (SELECT count(pg_notify(%s, %s || ' ' || key)) FROM queued) AS notified"
        params += [JOBS_CHANNEL, notify_source]
    return "WITH " + ", ".join(parts) + " " + select, params
