"""The built-in plugin ``people``: the gateway's own channels to people and room displays.

It declares the ``[people]`` settings, mounts the personal API, page, feed and stream,
the administrator's access and webhook routes, adds the ``access`` CLI group, and is the
stream sink: every notification goes into the durable stream outbox. Its second module,
``people.webhook_sink`` (:mod:`.webhook_sink`), is the signed-webhook sink.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.routing import BaseRoute

from hybrid_calendar import hookimpl
from hybrid_calendar.config import SettingSpec
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.models import DeliveryReceipt, Notification, NotificationKind
from hybrid_calendar.people import route_docs
from hybrid_calendar.people.admin import access_admin_routes
from hybrid_calendar.people.api import api_routes
from hybrid_calendar.people.commands import Configure, Run, register_access_commands
from hybrid_calendar.people.feed import feed_routes
from hybrid_calendar.people.page import page_routes
from hybrid_calendar.people.service import EVENT_NAMES, people_service
from hybrid_calendar.people.settings import PEOPLE_SETTINGS
from hybrid_calendar.people.signin import signin_routes
from hybrid_calendar.people.stream import stream_routes
from hybrid_calendar.people.webhook_admin import webhook_admin_routes


@hookimpl
def register_settings(register: Callable[[SettingSpec], None]) -> None:
    """Declare the ``[people]`` keys."""
    for spec in PEOPLE_SETTINGS:
        register(spec)


@hookimpl
def register_routes(gateway: Gateway, register: Callable[[BaseRoute], None]) -> None:
    """Mount the personal and the administrator's routes."""
    for route in (*api_routes(gateway), *signin_routes(gateway),
                  *feed_routes(gateway), *stream_routes(gateway), *page_routes(gateway),
                  *access_admin_routes(gateway), *webhook_admin_routes(gateway)):
        register(route)


@hookimpl
def describe_routes(register: Callable[[str, str, dict[str, Any]], None]) -> None:
    """Describe those routes for ``/openapi.json``."""
    for path, method, operation in route_docs.routes():
        register(path, method, operation)


@hookimpl
def register_commands(register: Callable[[str, str, Configure, Run], None]) -> None:
    """Add ``access issue|list|revoke``."""
    register_access_commands(register)


@hookimpl
def register_delivery_kinds(register: Callable[[NotificationKind], None]) -> None:
    """The stream carries Join buttons, meetings changes and presence."""
    for kind in EVENT_NAMES:
        register(kind)


@hookimpl
async def deliver_notification(gateway: Gateway, notification: Notification
                               ) -> DeliveryReceipt | None:
    """Record the notification in the stream outbox (durably, once per key) and hand it
    to open streams: delivered, also when the key was recorded before."""
    if notification.kind not in EVENT_NAMES:
        return None
    await people_service(gateway).deliver(notification)
    return DeliveryReceipt.delivered()


@hookimpl
async def startup(gateway: Gateway) -> None:
    """Start the outbox retention loop and, on PostgreSQL, the stream listener.

    :raises GatewayError: the store is neither SQLite nor PostgreSQL, or the listener
        could not connect.
    """
    await people_service(gateway).start()


@hookimpl
async def shutdown(gateway: Gateway) -> None:
    """Stop them."""
    await people_service(gateway).stop()
