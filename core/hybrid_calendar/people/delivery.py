"""The webhook worker: sends queued messages, signed, with retries and a dead letter.

Each attempt uses the endpoint's checked address (:mod:`.ssrf`, re-checked every
:data:`CHECK_SECONDS`), connects to the checked address
(with the endpoint's host name for ``Host`` and TLS), never follows redirects, and signs
with a fresh timestamp under the message's stable ``webhook-id``. A 2xx answer delivers;
anything else is retried after capped exponential backoff with full jitter
(``people.webhook_backoff_*``), until ``people.webhook_max_attempts`` make it ``dead``
with the last reason kept. A refused address or ``410 Gone`` is dead at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from hybrid_calendar.models import User
from hybrid_calendar.people import webhooks
from hybrid_calendar.people.http1 import Http1Client, WebhookTransportError
from hybrid_calendar.people.signing import signed_headers
from hybrid_calendar.people.ssrf import RefusedEndpoint, Target, check_endpoint

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)
LEASE_SECONDS = 120.0
BATCH = 500
ENDPOINT_CACHE_SECONDS = 30.0
CHECK_SECONDS = 10.0
"""How long a resolved and checked endpoint address is reused (the request still goes to
that checked address, so a DNS change cannot slip a private address in)."""
Outcome = tuple[str, str, int, str | None, Any]


class WebhookWorker:
    """Queues messages for an organisation's endpoints and sends them."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        cfg = gateway.config
        self.max_attempts = int(cfg.get("people", "webhook_max_attempts"))
        self.base = float(cfg.get("people", "webhook_backoff_base_seconds"))
        self.cap = float(cfg.get("people", "webhook_backoff_cap_seconds"))
        self.allow_http = bool(cfg.get("people", "webhook_allow_http"))
        self._limit = asyncio.Semaphore(int(cfg.get("people", "webhook_concurrency")))
        self._timeout = float(cfg.get("people", "webhook_timeout_seconds"))
        self._client: Http1Client | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._endpoints: dict[str, tuple[float, list[webhooks.Endpoint]]] = {}
        self._targets: dict[str, tuple[float, str, Target]] = {}

    # queueing ----------------------------------------------------------------------
    def forget_endpoints(self, org_id: str) -> None:
        """Drop the cached endpoint list of an organisation (after a change)."""
        self._endpoints.pop(org_id, None)

    async def _org_endpoints(self, org_id: str) -> list[webhooks.Endpoint]:
        cached = self._endpoints.get(org_id)
        if cached is not None and time.monotonic() - cached[0] < ENDPOINT_CACHE_SECONDS:
            return cached[1]
        found = await webhooks.endpoints(self.gateway, org_id=org_id)
        self._endpoints[org_id] = (time.monotonic(), found)
        return found

    async def messages_for(self, user: User, name: str, key: str, data: dict[str, Any]
                           ) -> list[tuple[Any, ...]]:
        """Sealed delivery rows for every endpoint of the user's organisation that wants
        ``name`` (insert them with :func:`webhooks.insert_deliveries`, then :meth:`wake`)."""
        wanted = [e for e in await self._org_endpoints(user.org_id) if name in e.events]
        if not wanted:
            return []
        event_type = webhooks.EVENT_TYPES[name]
        body = json.dumps({"type": event_type,
                           "timestamp": self.gateway.clock.now().isoformat(),
                           "data": {"user_id": user.id, "user_email": user.email, **data}},
                          separators=(",", ":")).encode()
        return await webhooks.prepare_deliveries(self.gateway, user.org_id,
                                                 [(e, key, event_type, body) for e in wanted])

    def wake(self) -> None:
        """Tell the send loop new messages are queued."""
        self._wake.set()

    # sending -------------------------------------------------------------------------
    async def start(self) -> None:
        """Release leases a stopped process held, then run the send loop."""
        await webhooks.release_leases(self.gateway)
        self._task = asyncio.create_task(self._loop(), name="people-webhooks")

    async def stop(self) -> None:
        """Stop the loop and close the HTTP client."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def run_once(self) -> int:
        """Send every message due now (in batches); return how many were attempted."""
        total = 0
        while True:
            due = await webhooks.claim_due(self.gateway, self.gateway.clock.now(), BATCH,
                                           LEASE_SECONDS)
            if not due:
                return total
            total += len(due)
            targets = {d.endpoint_id: None for d in due}
            by_id = {e.id: e for eid in targets
                     for e in await webhooks.endpoints(self.gateway, endpoint_id=eid)}
            outcomes = await asyncio.gather(*(self._attempt(d, by_id.get(d.endpoint_id))
                                              for d in due))
            await webhooks.record(self.gateway, list(outcomes))

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
                next_due = await webhooks.next_due_at(self.gateway)
            except Exception:
                log.exception("webhook send loop failed; retrying")
                next_due = None
            wait = 1.0 if next_due is None else min(1.0, max(
                0.0, (next_due - self.gateway.clock.now()).total_seconds()))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    def _client_or_new(self) -> Http1Client:
        if self._client is None:
            self._client = Http1Client(timeout=self._timeout,
                                       user_agent="hybrid-calendar-webhooks/1")
        return self._client

    async def _attempt(self, delivery: webhooks.Delivery, endpoint: webhooks.Endpoint | None
                       ) -> Outcome:
        attempts = delivery.attempts + 1
        if endpoint is None:
            return delivery.id, "dead", attempts, "endpoint removed", None
        async with self._limit:
            try:
                error = await self._send(delivery, endpoint)
            except RefusedEndpoint as err:
                return delivery.id, "dead", attempts, f"refused: {err}", None
        if error is None:
            return delivery.id, "delivered", attempts, None, None
        if error.startswith("HTTP 410") or attempts >= self.max_attempts:
            log.warning("webhook %s to endpoint %s dead after %d attempt(s): %s",
                        delivery.id, endpoint.id, attempts, error)
            return delivery.id, "dead", attempts, error, None
        delay = random.uniform(0, min(self.cap, self.base * 2 ** attempts))
        return (delivery.id, "pending", attempts, error,
                self.gateway.clock.now() + timedelta(seconds=delay))

    async def _checked(self, endpoint: webhooks.Endpoint) -> Target:
        """The endpoint's checked address, re-checked every :data:`CHECK_SECONDS`."""
        cached = self._targets.get(endpoint.id)
        if cached is not None and time.monotonic() - cached[0] < CHECK_SECONDS \
                and cached[1] == endpoint.url:
            return cached[2]
        target = await check_endpoint(endpoint.url, allow_host=endpoint.allow_host,
                                      allow_http=self.allow_http)
        self._targets[endpoint.id] = (time.monotonic(), endpoint.url, target)
        return target

    async def _send(self, delivery: webhooks.Delivery, endpoint: webhooks.Endpoint
                    ) -> str | None:
        target = await self._checked(endpoint)
        headers = {"Content-Type": "application/json",
                   **signed_headers(endpoint.secret, delivery.id, self.gateway.clock.now(),
                                    delivery.body)}
        try:
            status = await self._client_or_new().post(
                target.scheme, target.address, target.port, target.host, target.path,
                headers, delivery.body)
        except WebhookTransportError as err:
            return f"could not reach the endpoint: {err}"
        if 200 <= status < 300:
            return None
        if 300 <= status < 400:
            return f"HTTP {status}: redirects are not followed"
        return f"HTTP {status}"
