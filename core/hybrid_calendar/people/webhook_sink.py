"""``people.webhook_sink``: the signed-webhook sink of the ``people`` plugin.

A sink of its own (next to the stream sink ``people``), so the core's outbox keeps its
receipts, retries and dead letters apart from the stream's. See :mod:`.delivery`.
"""

from __future__ import annotations

from collections.abc import Callable

from hybrid_calendar import hookimpl
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.models import DeliveryReceipt, Notification, NotificationKind
from hybrid_calendar.people.service import EVENT_NAMES, people_service


@hookimpl
def register_delivery_kinds(register: Callable[[NotificationKind], None]) -> None:
    """Join buttons, meetings changes and presence go to the organisation's webhooks."""
    for kind in EVENT_NAMES:
        register(kind)


@hookimpl
async def deliver_notification(gateway: Gateway, notification: Notification
                               ) -> DeliveryReceipt | None:
    """One signed attempt per endpoint still owed the notification."""
    name = EVENT_NAMES.get(notification.kind)
    if name is None:
        return None
    return await people_service(gateway).webhooks.attempt(notification, name)
