"""A small sink plugin for a messaging service's REST API: the reference for SinkTests.

Test-only: it shows the contract a real sink (the Webex sink) keeps, and lets the suite
run through the real hook machinery. It delivers Join buttons and presence (not meetings
list changes) by ``POST {base_url}/messages`` with the notification key as
``Idempotency-Key``, and maps the service's answers to receipts:

==========================  ==========================================
answer                      receipt
==========================  ==========================================
200 / 201                   ``delivered()``
404 (no such person)        ``None``: the sink does not serve them
429 / 5xx, network error    ``retry_later(reason, Retry-After)``
other 4xx                   ``failed(reason)``
==========================  ==========================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from hybrid_calendar import hookimpl
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.models import DeliveryReceipt, Notification, NotificationKind

KINDS = (NotificationKind.JOIN_BUTTON, NotificationKind.PRESENCE)


class MessagingSink:
    """The plugin object; ``base_url`` is the messaging service's API root."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    @hookimpl
    def register_delivery_kinds(self, register: Callable[[NotificationKind], None]) -> None:
        """Join buttons and presence."""
        for kind in KINDS:
            register(kind)

    @hookimpl
    def deliver_notification(self, gateway: Gateway, notification: Notification
                             ) -> Any:
        """Post one message; ``None`` synchronously for kinds it does not deliver."""
        if notification.kind not in KINDS:
            return None
        return self._post(gateway, notification)

    async def _post(self, gateway: Gateway, notification: Notification
                    ) -> DeliveryReceipt | None:
        try:
            response = await gateway.http_client().post(
                f"{self.base_url}/messages",
                headers={"Idempotency-Key": notification.key},
                json={"to": notification.user.email, "kind": str(notification.kind),
                      "payload": dict(notification.payload)})
        except httpx.TransportError as err:
            return DeliveryReceipt.retry_later(f"messaging service unreachable: "
                                               f"{type(err).__name__}")
        status = response.status_code
        if status in (200, 201):
            return DeliveryReceipt.delivered()
        if status == 404:
            return None
        if status == 429 or status >= 500:
            header = response.headers.get("Retry-After")
            retry_after = float(header) if header and header.isdigit() else None
            return DeliveryReceipt.retry_later(f"messaging service answered {status}",
                                               retry_after)
        return DeliveryReceipt.failed(f"messaging service refused: HTTP {status}")
