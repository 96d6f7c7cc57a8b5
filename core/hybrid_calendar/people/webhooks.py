"""Webhook endpoints of an organisation and their durable delivery rows.

An endpoint has a URL and a signing secret (both sealed under the organisation's key), the
event types it wants (``join_button``, ``meetings``, ``presence``) and optionally one host
an administrator allowed despite resolving to a non-public address. Each notification
becomes one delivery row per subscribed endpoint, unique per (endpoint, notification), so
a notification offered twice to the sink is still sent once per endpoint, under one
``webhook-id``. Rows move ``pending`` → ``delivered``, or → ``dead`` (refused address,
``410 Gone``, or the core's last attempt) with the last reason.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hybrid_calendar.people.db import Handle, execute, execute_many, rows, run, sealer, write
from hybrid_calendar.people.signing import new_secret
from hybrid_calendar.store.sqlite_base import dt, ts

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

EVENT_TYPES = {"join_button": "join_button.due", "meetings": "meetings.changed",
               "presence": "presence.changed"}
"""Stream event name → webhook ``type``."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A registered webhook endpoint (secret and URL in clear, in memory only)."""

    id: str
    org_id: str
    url: str
    secret: str
    events: tuple[str, ...]
    allow_host: str | None

    def as_json(self) -> dict[str, Any]:
        """The endpoint as the admin API lists it (no secret)."""
        return {"id": self.id, "org_id": self.org_id, "url": self.url,
                "events": list(self.events), "allow_host": self.allow_host}


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message to one endpoint."""

    id: str
    endpoint_id: str
    org_id: str
    event_type: str
    body: bytes
    attempts: int
    state: str
    last_error: str | None
    created_at: datetime | None


async def add_endpoint(gateway: Gateway, org_id: str, url: str, events: tuple[str, ...],
                       allow_host: str | None) -> Endpoint:
    """Register an endpoint with a new secret."""
    endpoint = Endpoint("whe_" + uuid.uuid4().hex[:20], org_id, url, new_secret(), events,
                        allow_host)
    seal = await sealer(gateway, org_id, None)
    row = (endpoint.id, org_id,
           seal.seal(url, table="people_webhooks", row_id=endpoint.id, column="url"),
           seal.seal(endpoint.secret, table="people_webhooks", row_id=endpoint.id,
                     column="secret"),
           json.dumps(list(events)), allow_host, ts(gateway.clock.now()))
    await run(gateway, lambda handle: execute(
        handle, "INSERT INTO people_webhooks (id, org_id, url, secret, events, allow_host,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", row))
    return endpoint


async def endpoints(gateway: Gateway, *, org_id: str | None = None,
                    endpoint_id: str | None = None) -> list[Endpoint]:
    """Endpoints of an organisation, or one by id."""
    where, params = (("org_id = ?", (org_id,)) if org_id is not None
                     else ("id = ?", (endpoint_id,)))
    found = await run(gateway, lambda handle: rows(
        handle, f"SELECT * FROM people_webhooks WHERE {where} ORDER BY created_at", params))
    result = []
    for row in found:
        opener = await sealer(gateway, row["org_id"], None)
        result.append(Endpoint(
            row["id"], row["org_id"],
            opener.open(row["url"], table="people_webhooks", row_id=row["id"], column="url"),
            opener.open(row["secret"], table="people_webhooks", row_id=row["id"],
                        column="secret"),
            tuple(json.loads(row["events"])), row["allow_host"]))
    return result


async def remove_endpoint(gateway: Gateway, endpoint_id: str) -> bool:
    """Forget an endpoint and its undelivered messages."""
    def work(handle: Handle) -> int:
        with write(handle):
            execute(handle, "DELETE FROM people_webhook_deliveries WHERE endpoint_id = ? AND "
                    "state != 'delivered'", (endpoint_id,))
            return int(execute(handle, "DELETE FROM people_webhooks WHERE id = ?",
                               (endpoint_id,)).rowcount)
    return bool(await run(gateway, work))


async def prepare_deliveries(gateway: Gateway, org_id: str,
                             items: list[tuple[Endpoint, str, str, bytes]]
                             ) -> list[tuple[Any, ...]]:
    """Seal ``(endpoint, source_key, event_type, body)`` messages into delivery rows."""
    if not items:
        return []
    seal = await sealer(gateway, org_id, None)
    now = ts(gateway.clock.now())
    prepared = []
    for endpoint, source_key, event_type, body in items:
        msg_id = "msg_" + uuid.uuid4().hex
        prepared.append((msg_id, endpoint.id, org_id, source_key, event_type,
                         seal.seal(body.decode(), table="people_webhook_deliveries",
                                   row_id=msg_id, column="payload"), now, now))
    return prepared


def insert_deliveries(handle: Handle, prepared: list[tuple[Any, ...]]) -> None:
    """Queue prepared rows (inside the caller's transaction); duplicates are ignored."""
    execute_many(
        handle, "INSERT INTO people_webhook_deliveries (id, endpoint_id, org_id, "
        "source_key, event_type, payload, state, attempts, next_attempt_at, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT DO NOTHING", prepared)


def ensure_messages(handle: Handle, source_key: str,
                    prepared: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Add the prepared messages of a notification that are not there yet (inside the
    caller's transaction) and return its message rows for those endpoints."""
    if not prepared:
        return []
    insert_deliveries(handle, prepared)
    endpoint_ids = sorted({row[1] for row in prepared})
    marks = ", ".join("?" for _ in endpoint_ids)
    return rows(handle, "SELECT * FROM people_webhook_deliveries WHERE endpoint_id IN "
                f"({marks}) AND source_key = ?", (*endpoint_ids, source_key))


def record_outcomes(handle: Handle, results: list[tuple[str, str, int, str | None,
                                                         datetime | None]],
                    now: datetime) -> None:
    """Store attempt outcomes (inside the caller's transaction):
    ``(id, state, attempts, last_error, next_attempt_at)``."""
    execute_many(
        handle,
        "UPDATE people_webhook_deliveries SET state = ?, attempts = ?, last_error = ?,"
        " next_attempt_at = ?, leased_until = NULL, "
        "delivered_at = CASE WHEN ? = 'delivered' THEN ? END WHERE id = ?",
        [(state, attempts, error, ts(when), state, ts(now), msg_id)
         for msg_id, state, attempts, error, when in results])


async def list_deliveries(gateway: Gateway, endpoint_id: str, state: str | None
                          ) -> list[Delivery]:
    """An endpoint's messages, newest first (``state`` filters, e.g. ``dead``)."""
    clause = " AND state = ?" if state else ""
    params = (endpoint_id, state) if state else (endpoint_id,)
    found = await run(gateway, lambda handle: rows(
        handle, f"SELECT * FROM people_webhook_deliveries WHERE endpoint_id = ?{clause} "
              "ORDER BY created_at DESC LIMIT 500", params))
    return await open_deliveries(gateway, found)


async def open_deliveries(gateway: Gateway, found: list[dict[str, Any]]) -> list[Delivery]:
    result = []
    for row in found:
        opener = await sealer(gateway, row["org_id"], None)
        body = opener.open(row["payload"], table="people_webhook_deliveries", row_id=row["id"],
                           column="payload").encode()
        result.append(Delivery(row["id"], row["endpoint_id"], row["org_id"],
                               row["event_type"], body, row["attempts"], row["state"],
                               row["last_error"], dt(row["created_at"])))
    return result
