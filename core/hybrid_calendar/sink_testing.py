"""The conformance suite of sink plugins (``deliver_notification``), like ``KeyStoreTests``.

A sink proves it keeps the delivery contract by subclassing :class:`SinkTests` and
writing one fixture, ``sink_world``, that returns a :class:`SinkWorld`: a gateway with the
sink enabled (store open) and a way to observe and disturb the remote the sink delivers
to (an emulator on loopback, or an ``httpx.MockTransport``), never the sink itself::

    class TestMySink(SinkTests):
        @pytest.fixture
        def sink_world(self, ...) -> SinkWorld: ...

Every call goes through the real hook machinery, one sink at a time, as the core's outbox
calls it.
"""

from __future__ import annotations

from typing import Any, Protocol

import pytest

from hybrid_calendar.engine import notify
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.models import (
    DeliveryReceipt,
    DeliveryState,
    DeliveryStatus,
    Notification,
    NotificationKind,
    User,
)


class SinkWorld(Protocol):
    """A sink under test and the remote it delivers to."""

    gateway: Gateway
    """A gateway with the sink enabled and its store open."""
    sink: str
    """The sink's plugin name."""
    person: User
    """Someone the sink reaches (stored in the gateway's store)."""
    unserved: User
    """Someone the sink does not serve (e.g. no account at the remote)."""

    def received(self, user: User) -> int:
        """How many messages reached ``user`` at the remote, over every channel."""
        ...

    def fail_transiently(self, retry_after: float | None) -> None:
        """Make the remote fail as it does when overloaded (429/503, with ``Retry-After``
        seconds when given) until :meth:`restore`."""
        ...

    def refuse_permanently(self) -> None:
        """Make the remote refuse for good (e.g. a revoked permission) until
        :meth:`restore`."""
        ...

    def restore(self) -> None:
        """Make the remote work again."""
        ...


def sample_notification(kind: NotificationKind, user: User, key: str) -> Notification:
    """A realistic notification of ``kind`` as the core builds it."""
    payloads: dict[NotificationKind, dict[str, Any]] = {
        NotificationKind.JOIN_BUTTON: {
            "event_id": "conformance-event", "title": "Conformance standup",
            "start": "2026-11-27T09:00:00+00:00", "end": "2026-11-27T09:30:00+00:00",
            "join": {"provider": "webex", "url": "https://example.webex.com/meet/conformance",
                     "source": "location", "dial": "conformance@example.webex.com",
                     "meeting_id": None, "passcode": None, "extra": {}}},
        NotificationKind.PRESENCE: {"out_of_office": True,
                                    "until": "2026-12-04T00:00:00+00:00"},
        NotificationKind.MEETINGS_CHANGED: {"full_sync": False},
        NotificationKind.JOIN_BUTTON_WITHDRAWN: {
            "event_id": "conformance-event", "button": "conformance-button-key",
            "start": "2026-11-27T09:00:00+00:00", "end": "2026-11-27T09:30:00+00:00",
            "reason": "cancelled"},
    }
    return Notification(kind=kind, user=user, payload=payloads[kind], key=key)


@pytest.mark.anyio
class SinkTests:
    """What every sink plugin must do. Subclass and provide ``sink_world``."""

    @pytest.fixture
    def sink_world(self) -> SinkWorld:
        """Override: return a :class:`SinkWorld` for the sink under test."""
        raise NotImplementedError("subclasses provide the `sink_world` fixture")

    @staticmethod
    def kinds(world: SinkWorld) -> frozenset[NotificationKind]:
        """The kinds the sink declared through ``register_delivery_kinds``."""
        return world.gateway.hooks.sink_kinds().get(world.sink, frozenset())

    @staticmethod
    async def deliver(world: SinkWorld, notification: Notification
                      ) -> DeliveryReceipt | None:
        """One delivery attempt through the hook, as the outbox makes it."""
        return await world.gateway.hooks.deliver_notification(world.gateway, notification,
                                                              world.sink)

    async def test_hook_register_delivery_kinds_names_what_it_delivers(
            self, sink_world: SinkWorld) -> None:
        assert sink_world.sink in sink_world.gateway.hooks.sink_kinds(), (
            "the sink must implement deliver_notification")
        assert self.kinds(sink_world), "the sink must declare kinds (register_delivery_kinds)"

    @pytest.mark.parametrize("kind", list(NotificationKind))
    async def test_hook_deliver_notification_per_kind_delivered_or_not_served(
            self, sink_world: SinkWorld, kind: NotificationKind) -> None:
        before = sink_world.received(sink_world.person)
        receipt = await self.deliver(sink_world, sample_notification(
            kind, sink_world.person, f"conformance-{kind}-1"))
        if kind in self.kinds(sink_world):
            assert receipt == DeliveryReceipt.delivered()
            if kind is NotificationKind.JOIN_BUTTON_WITHDRAWN:  # of a button never sent:
                # a channel of messages tells it (one more), a sink of cards has none to
                # delete (as many as before)
                assert sink_world.received(sink_world.person) in (before, before + 1)
            else:
                assert sink_world.received(sink_world.person) == before + 1
        else:
            assert receipt is None, f"{kind} is not declared, so it must not be served"
            assert sink_world.received(sink_world.person) == before

    async def test_the_same_key_reaches_the_person_once(self, sink_world: SinkWorld) -> None:
        kind = min(self.kinds(sink_world))
        notification = sample_notification(kind, sink_world.person, "conformance-once")
        before = sink_world.received(sink_world.person)
        assert await self.deliver(sink_world, notification) == DeliveryReceipt.delivered()
        assert await self.deliver(sink_world, notification) == DeliveryReceipt.delivered()
        assert sink_world.received(sink_world.person) == before + 1
        other = sample_notification(kind, sink_world.person, "conformance-once-more")
        assert await self.deliver(sink_world, other) == DeliveryReceipt.delivered()
        assert sink_world.received(sink_world.person) == before + 2  # a new key is new

    async def test_a_person_it_does_not_serve_gets_none(self, sink_world: SinkWorld) -> None:
        for kind in self.kinds(sink_world):
            notification = sample_notification(kind, sink_world.unserved, f"unserved-{kind}")
            assert await self.deliver(sink_world, notification) is None

    @pytest.mark.parametrize("retry_after", [None, 7.0])
    async def test_a_transient_failure_asks_to_retry(self, sink_world: SinkWorld,
                                                     retry_after: float | None) -> None:
        kind = min(self.kinds(sink_world))
        notification = sample_notification(kind, sink_world.person, "conformance-retry")
        before = sink_world.received(sink_world.person)
        sink_world.fail_transiently(retry_after)
        receipt = await self.deliver(sink_world, notification)  # a receipt, not an exception
        assert receipt is not None and receipt.status is DeliveryStatus.RETRY
        assert receipt.reason and sink_world.person.email not in receipt.reason
        assert receipt.retry_after == retry_after
        sink_world.restore()
        assert await self.deliver(sink_world, notification) == DeliveryReceipt.delivered()
        assert sink_world.received(sink_world.person) == before + 1

    async def test_a_permanent_refusal_fails_with_a_reason(self, sink_world: SinkWorld
                                                           ) -> None:
        kind = min(self.kinds(sink_world))
        notification = sample_notification(kind, sink_world.person, "conformance-refused")
        before = sink_world.received(sink_world.person)
        sink_world.refuse_permanently()
        receipt = await self.deliver(sink_world, notification)
        assert receipt is not None and receipt.status is DeliveryStatus.FAILED
        assert receipt.reason and sink_world.person.email not in receipt.reason
        assert sink_world.received(sink_world.person) == before

    async def test_the_outbox_marks_delivered_on_its_receipt(self, sink_world: SinkWorld
                                                            ) -> None:
        gateway, person = sink_world.gateway, sink_world.person
        for kind in sorted(self.kinds(sink_world)):
            state = await notify.notify_now(gateway, person, kind,
                                            sample_notification(kind, person, "-").payload,
                                            f"conformance-outbox-{kind}")
            assert state is DeliveryState.DELIVERED
            [stored] = await gateway.store.list_notifications(person, kind=kind)
            assert stored.deliveries[sink_world.sink].state is DeliveryState.DELIVERED
            assert stored.sent_at is not None
