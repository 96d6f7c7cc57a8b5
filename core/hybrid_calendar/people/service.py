"""The people channels' running parts, one set per gateway: the stream hub, the outbox
writer, the webhook sender, the outbox retention loop and, on PostgreSQL, the listener
that wakes streams for events any process recorded (:mod:`.listener`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from hybrid_calendar.errors import GatewayError
from hybrid_calendar.models import Notification, NotificationKind
from hybrid_calendar.people import outbox, webhooks
from hybrid_calendar.people.delivery import WebhookSender
from hybrid_calendar.people.hub import StreamHub
from hybrid_calendar.people.listener import follow_outbox
from hybrid_calendar.people.writer import OutboxWriter
from hybrid_calendar.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)
LISTEN_TIMEOUT_SECONDS = 15.0

STATE_KEY = "people"
EVENT_NAMES = {NotificationKind.MEETINGS_CHANGED: "meetings",
               NotificationKind.JOIN_BUTTON: "join_button",
               NotificationKind.JOIN_BUTTON_WITHDRAWN: "join_button_withdrawn",
               NotificationKind.PRESENCE: "presence"}
"""Stream event name (and webhook event name) of each notification kind."""


class PeopleService:
    """Everything the people channels keep while a gateway runs."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.hub = StreamHub(direct=isinstance(gateway.store, SqliteStore))
        self.writer = OutboxWriter(gateway, self.hub)
        self.webhooks = WebhookSender(gateway)
        self._tasks: list[asyncio.Task[Any]] = []

    async def deliver(self, notification: Notification) -> outbox.OutboxEvent | None:
        """Record a notification in the stream outbox and hand it to open streams.

        :returns: the new event, or None when this key was recorded before (or the kind
            is not one the stream carries).
        """
        name = EVENT_NAMES.get(notification.kind)
        if name is None:
            return None
        return await self.writer.submit(notification.user, name, notification.key,
                                        dict(notification.payload))

    async def start(self) -> None:
        """On PostgreSQL, start listening for other processes' events; start the outbox
        retention loop (unless ``people.run_workers`` is off).

        :raises GatewayError: the store is neither SQLite nor PostgreSQL, or the listener
            could not connect.
        """
        if not self.hub.direct:
            await self._listen()
        if not self.gateway.config.get("people", "run_workers"):
            return
        self._tasks.append(asyncio.create_task(self._retention_loop(),
                                               name="people-retention"))

    async def _listen(self) -> None:
        from hybrid_calendar.store.postgres.store import PostgresStore

        store = self.gateway.store
        if not isinstance(store, PostgresStore):
            raise GatewayError(f"the people channels need a SQLite or PostgreSQL store, not "
                               f"{type(store).__name__}")
        listening = asyncio.Event()
        task = asyncio.create_task(follow_outbox(store.url, self.hub, listening),
                                   name="people-listener")
        self._tasks.append(task)
        try:
            await asyncio.wait_for(listening.wait(), LISTEN_TIMEOUT_SECONDS)
        except TimeoutError as err:
            task.cancel()
            raise GatewayError("the people channels could not LISTEN on the PostgreSQL "
                               f"store within {LISTEN_TIMEOUT_SECONDS:.0f} s") from err

    async def stop(self) -> None:
        """Stop background tasks and close webhook connections."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.webhooks.aclose()

    async def purge_outbox(self) -> int:
        """Drop stream events older than ``people.outbox_retention_hours``, and webhook
        messages older than the retention window's past (``sync.retention_past_days``);
        returns the stream events dropped."""
        config, now = self.gateway.config, self.gateway.clock.now()
        days = int(config.get("sync", "retention_past_days"))
        messages = await webhooks.purge_before(self.gateway, now - timedelta(days=days))
        if messages:
            log.info("purged %d webhook message(s) past retention", messages)
        hours = float(config.get("people", "outbox_retention_hours"))
        return await outbox.purge_before(self.gateway, now - timedelta(hours=hours))

    async def _retention_loop(self) -> None:
        while True:
            try:
                removed = await self.purge_outbox()
                if removed:
                    log.info("purged %d stream event(s) past retention", removed)
            except Exception:
                log.exception("stream outbox purge failed")
            await asyncio.sleep(600)


def people_service(gateway: Gateway) -> PeopleService:
    """The gateway's :class:`PeopleService`, created on first use."""
    return gateway.state.get_or_create(STATE_KEY, PeopleService,
                                       lambda: PeopleService(gateway))
