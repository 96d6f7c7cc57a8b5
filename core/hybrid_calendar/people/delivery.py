"""The webhook sink's one attempt per call: signed POSTs to the organisation's endpoints.

The core's outbox calls the sink (``people.webhook_sink``) for each notification and is
the only layer that retries (``notifications.retry_*``, ``notifications.max_attempts``).
One call sends the message to every subscribed endpoint that has not had it yet, each
under its stable ``webhook-id`` (:func:`~.webhooks.message_id`) with a fresh timestamp and
signature, then stores every outcome in one group-committed write (a message's row is
written with its first outcome: the stable id makes storing it before the first POST
unnecessary), and answers:

==================================  ===============================================
outcome                             receipt
==================================  ===============================================
no endpoint wants this kind         ``None`` (not served)
every endpoint answered 2xx         ``delivered()`` (also when repeated)
some endpoint failed, may recover   ``retry_later(reason)``
the rest can never be delivered     ``failed(reason)``: refused address, ``410 Gone``,
                                    or the core's last attempt
==================================  ===============================================

Each attempt uses the endpoint's checked address (:mod:`.ssrf`, re-checked every
:data:`CHECK_SECONDS`), connects to it with the host name for ``Host`` and TLS, and never
follows redirects (:mod:`.http1`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING

from hybrid_calendar.models import DeliveryReceipt, Notification
from hybrid_calendar.people import webhooks
from hybrid_calendar.people.group_commit import GroupCommit
from hybrid_calendar.people.http1 import Http1Client, WebhookTransportError
from hybrid_calendar.people.retry_after import parse_retry_after
from hybrid_calendar.people.signing import signed_headers
from hybrid_calendar.people.ssrf import RefusedEndpoint, Target, check_endpoint

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)
ENDPOINT_CACHE_SECONDS = 30.0
CHECK_SECONDS = 10.0
"""How long a resolved and checked endpoint address is reused (the request still goes to
that checked address, so a DNS change cannot slip a private address in)."""


class WebhookSender:
    """Sends one notification to the endpoints of its user's organisation."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        cfg = gateway.config
        self.max_attempts = int(cfg.get("notifications", "max_attempts"))
        self.allow_http = bool(cfg.get("people", "webhook_allow_http"))
        self._limit = asyncio.Semaphore(int(cfg.get("people", "webhook_concurrency")))
        self._client = Http1Client(timeout=float(cfg.get("people", "webhook_timeout_seconds")),
                                   user_agent="hybrid-calendar-webhooks/1")
        self._endpoints: dict[str, tuple[float, list[webhooks.Endpoint]]] = {}
        self._commits = GroupCommit(gateway)
        self._targets: dict[str, tuple[float, str, Target]] = {}

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

    async def attempt(self, notification: Notification, name: str) -> DeliveryReceipt | None:
        """One attempt for every endpoint still owed this notification; the receipt."""
        user = notification.user
        subscription, event_type = webhooks.subscription_and_type(name)
        wanted = [e for e in await self._org_endpoints(user.org_id)
                  if subscription in e.events]
        if not wanted:
            return None
        body = json.dumps({"type": event_type,
                           "timestamp": self.gateway.clock.now().isoformat(),
                           "data": {"user_id": user.id, "user_email": user.email,
                                    **dict(notification.payload)}},
                          separators=(",", ":")).encode()
        by_id = {e.id: e for e in wanted}
        source_key, stored = await self._commits.run(  # read with others' (one store call)
            lambda handle: webhooks.message_rows(handle, name, notification.key, list(by_id)))
        made = {d.endpoint_id: d for d in await webhooks.open_deliveries(self.gateway, stored)}
        now = self.gateway.clock.now()
        fresh = {e.id for e in wanted if e.id not in made}
        for endpoint_id in fresh:  # first attempt: the row is written with its outcome
            made[endpoint_id] = webhooks.Delivery(
                webhooks.message_id(by_id[endpoint_id], source_key), endpoint_id,
                user.org_id, event_type, body, 0, "pending", None, now)
        owed = [d for d in made.values() if d.state == "pending" and d.endpoint_id in by_id]
        tried = await asyncio.gather(*(self._one(d, by_id[d.endpoint_id]) for d in owed))
        outcomes = [webhooks.Outcome(
            d, source_key, state, attempts, error,
            await webhooks.seal_body(self.gateway, d) if d.endpoint_id in fresh else None)
            for d, (state, attempts, error, _wait) in zip(owed, tried, strict=True)]
        if outcomes:
            await self._commits.run(
                lambda handle: webhooks.save_outcomes(handle, outcomes, now))
        states = {d.endpoint_id: d.state for d in made.values()}
        states.update((o.delivery.endpoint_id, o.state) for o in outcomes)
        errors = [o.error for o in outcomes if o.error]
        waits = [wait for *_result, wait in tried if wait is not None]
        if all(states.get(e.id) == "delivered" for e in wanted):
            return DeliveryReceipt.delivered()
        if any(states.get(e.id) == "pending" for e in wanted):
            return DeliveryReceipt.retry_later(errors[0] if errors else "endpoint pending",
                                               max(waits) if waits else None)
        return DeliveryReceipt.failed(errors[0] if errors else "an endpoint refused it")

    async def _one(self, delivery: webhooks.Delivery, endpoint: webhooks.Endpoint
                   ) -> tuple[str, int, str | None, float | None]:
        """One POST: ``(state, attempts, error, retry_after)``."""
        attempts = delivery.attempts + 1
        async with self._limit:
            try:
                error, wait = await self._send(delivery, endpoint)
            except RefusedEndpoint as err:
                return "dead", attempts, f"refused: {err}", None
        if error is None:
            return "delivered", attempts, None, None
        if error.startswith("HTTP 410") or attempts >= self.max_attempts:
            log.warning("webhook %s to endpoint %s dead after %d attempt(s): %s",
                        delivery.id, endpoint.id, attempts, error)
            return "dead", attempts, error, None
        return "pending", attempts, error, wait

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
                    ) -> tuple[str | None, float | None]:
        """Post one message: the error (None when delivered) and the endpoint's
        ``Retry-After`` in seconds, if it gave one."""
        target = await self._checked(endpoint)
        headers = {"Content-Type": "application/json",
                   **signed_headers(endpoint.secret, delivery.id, self.gateway.clock.now(),
                                    delivery.body)}
        try:
            status, retry_after = await self._client.post(
                target.scheme, target.address, target.port, target.host, target.path,
                headers, delivery.body)
        except WebhookTransportError as err:
            return f"could not reach the endpoint: {err}", None
        if 200 <= status < 300:
            return None, None
        wait = parse_retry_after(retry_after, self.gateway.clock.now())
        if 300 <= status < 400:
            return f"HTTP {status}: redirects are not followed", wait
        return f"HTTP {status}", wait

    async def aclose(self) -> None:
        """Close kept connections."""
        await self._client.aclose()
