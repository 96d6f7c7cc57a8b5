"""Webhook endpoints of an organisation and their durable delivery rows.

An endpoint has a URL and a signing secret (both sealed under the organisation's key), the
event types it wants (``join_button``, ``meetings``, ``presence``; an endpoint taking Join
buttons also gets ``join_button.withdrawn``) and optionally one host
an administrator allowed despite resolving to a non-public address. Each notification
becomes one delivery row per subscribed endpoint, unique per (endpoint, notification) and
written with the outcome of its first attempt, so a notification offered twice to the sink
is still sent once per endpoint, under one ``webhook-id`` (:func:`message_id`, the same in
every process). Rows are ``pending`` (to be retried), ``delivered``, or ``dead`` (refused
address, ``410 Gone``, or the core's last attempt) with the last reason.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hybrid_calendar.people.db import Handle, execute, execute_many, rows, run, sealer, write
from hybrid_calendar.people.redelivery import JOIN_BUTTON, record_key, withdrawals_between
from hybrid_calendar.people.signing import new_secret
from hybrid_calendar.store.sqlite_base import dt, ts

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

EVENT_TYPES = {"join_button": "join_button.due", "meetings": "meetings.changed",
               "presence": "presence.changed"}
"""Subscribable event name → webhook ``type``."""
FOLLOW_UPS = {"join_button_withdrawn": ("join_button", "join_button.withdrawn")}
"""Stream event names an endpoint gets with the subscription they follow up: one that
takes Join buttons also hears when a delivered one is withdrawn (subscription, ``type``)."""


def subscription_and_type(name: str) -> tuple[str, str]:
    """The subscription that carries stream event ``name`` and its webhook ``type``."""
    return FOLLOW_UPS.get(name) or (name, EVENT_TYPES[name])


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


async def purge_before(gateway: Gateway, cutoff: datetime) -> int:
    """Delete the messages created before ``cutoff``, in any state: their bodies hold
    meetings' titles and links, which the gateway keeps no longer than its retention
    window (and a message still ``pending`` that old belongs to a notification the core
    gave up or forgot long ago)."""
    def work(handle: Handle) -> int:
        with write(handle):
            return int(execute(handle, "DELETE FROM people_webhook_deliveries WHERE "
                               "created_at < ?", (ts(cutoff),)).rowcount)
    return int(await run(gateway, work))


def message_id(endpoint: Endpoint, source_key: str) -> str:
    """The ``webhook-id`` of a notification's message to an endpoint: the same on every
    attempt, in every process, even before its row is stored (keyed by the endpoint's
    secret, so it reveals nothing and cannot be guessed)."""
    mac = hmac.new(endpoint.secret.encode(), source_key.encode(), hashlib.sha256)
    return "msg_" + mac.hexdigest()[:32]


def message_rows(handle: Handle, name: str, key: str, endpoint_ids: list[str]
                 ) -> tuple[str, list[dict[str, Any]]]:
    """The source key of a notification (stream event ``name``, the notification's
    ``key``) to these endpoints, and its stored messages. A Join button's names the
    latest withdrawal of it these endpoints were sent (:mod:`.redelivery`): one offered
    again after a withdrawal is a new message."""
    marks = ", ".join("?" for _ in endpoint_ids)
    latest = None
    if name == JOIN_BUTTON and endpoint_ids:
        first, below = withdrawals_between(key)
        latest = execute(handle, "SELECT max(source_key) FROM people_webhook_deliveries "
                         f"WHERE endpoint_id IN ({marks}) AND source_key >= ? AND "
                         "source_key < ?", (*endpoint_ids, first, below)).fetchone()[0]
    source_key = record_key(name, key, latest)
    if not endpoint_ids:
        return source_key, []
    return source_key, rows(handle, "SELECT * FROM people_webhook_deliveries WHERE "
                            f"endpoint_id IN ({marks}) AND source_key = ?",
                            (*endpoint_ids, source_key))


@dataclass(frozen=True, slots=True)
class Outcome:
    """One attempt's result for one message, as stored after it."""

    delivery: Delivery
    source_key: str
    state: str
    attempts: int
    error: str | None
    sealed_body: str | None
    """The body sealed for a message not stored yet (None for a stored one)."""


async def seal_body(gateway: Gateway, delivery: Delivery) -> str:
    """A new message's body sealed under its organisation's key, bound to its id."""
    seal = await sealer(gateway, delivery.org_id, None)
    return seal.seal(delivery.body.decode(), table="people_webhook_deliveries",
                     row_id=delivery.id, column="payload")


def save_outcomes(handle: Handle, outcomes: list[Outcome], now: datetime) -> None:
    """Store attempt outcomes (inside the caller's transaction): a message seen for the
    first time is inserted with its sealed body; a stored one gets its new state."""
    stamp = ts(now)
    execute_many(
        handle, "INSERT INTO people_webhook_deliveries (id, endpoint_id, org_id, source_key,"
        " event_type, payload, state, attempts, next_attempt_at, last_error, created_at,"
        " delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)"
        " ON CONFLICT (endpoint_id, source_key) DO UPDATE SET state = excluded.state,"
        " attempts = excluded.attempts, last_error = excluded.last_error,"
        " next_attempt_at = NULL, leased_until = NULL, delivered_at = excluded.delivered_at",
        [(o.delivery.id, o.delivery.endpoint_id, o.delivery.org_id, o.source_key,
          o.delivery.event_type, o.sealed_body or "", o.state, o.attempts, o.error,
          ts(o.delivery.created_at) or stamp, stamp if o.state == "delivered" else None)
         for o in outcomes])


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
