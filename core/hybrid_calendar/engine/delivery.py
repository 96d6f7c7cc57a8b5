"""Delivery policy: which sinks deliver which kinds, and what a receipt means for the outbox.

Sinks declare their kinds with ``register_delivery_kinds``; a kind no enabled sink
declares stays pending (never marked delivered) and is reported by ``/readyz``,
``hybrid-calendar plugins`` and the start-up log. For each sink and notification:

==========================  ==========================================================
receipt                     record
==========================  ==========================================================
``delivered()``             ``delivered``; the sink is never called again for the key
``None``                    ``skipped``: the sink does not serve this notification
``retry_later`` / raised    ``pending``, next attempt after a capped full-jitter backoff
                            (at least ``retry_after``); ``dead`` after ``max_attempts``
``failed(reason)``          ``dead`` with the reason (a dead letter)
==========================  ==========================================================

A notification is ``delivered`` once a sink delivered it and no sink is pending, ``dead``
when none delivered and one failed, ``skipped`` when no sink served it. A Join button
whose meeting ended while a sink still owed it is ``dead`` for that sink.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from hybrid_calendar.engine.retries import RetryPolicy
from hybrid_calendar.models import (
    DeliveryReceipt,
    DeliveryState,
    DeliveryStatus,
    NotificationKind,
    SinkDelivery,
)

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.hooks import Hooks

log = logging.getLogger(__name__)


def sinks_by_kind(hooks: Hooks) -> dict[NotificationKind, tuple[str, ...]]:
    """Every notification kind and the names of the enabled sinks that declared it."""
    found: dict[NotificationKind, list[str]] = {kind: [] for kind in NotificationKind}
    for sink, kinds in hooks.declared_sink_kinds().items():
        for kind in kinds:
            found[kind].append(sink)
    return {kind: tuple(sorted(sinks)) for kind, sinks in found.items()}


def delivery_coverage(hooks: Hooks) -> dict[str, Any]:
    """Which sinks deliver each kind, and the kinds no enabled plugin delivers (for
    ``/readyz``, ``hybrid-calendar plugins`` and the start-up log)."""
    by_kind = sinks_by_kind(hooks)
    return {"sinks": {str(kind): list(sinks) for kind, sinks in by_kind.items()},
            "kinds_without_sink": [str(kind) for kind, sinks in by_kind.items()
                                   if not sinks]}


def log_delivery_coverage(gateway: Gateway) -> None:
    """Say at start-up which kinds of notification no enabled plugin delivers, and which
    plugins implement ``deliver_notification`` but declared no kind (they get nothing)."""
    for sink, kinds in gateway.hooks.sink_kinds().items():
        if not kinds:
            log.warning("plugin %s implements deliver_notification but declares no kinds "
                        "with register_delivery_kinds: it is never called", sink)
    missing = delivery_coverage(gateway.hooks)["kinds_without_sink"]
    withdrawn = str(NotificationKind.JOIN_BUTTON_WITHDRAWN)
    if withdrawn in missing:  # not made without a sink: nothing waits for one
        missing.remove(withdrawn)
        if str(NotificationKind.JOIN_BUTTON) not in missing:
            log.warning("no enabled plugin delivers notifications of kind %s: a delivered "
                        "Join button stays where it was delivered when its meeting is "
                        "cancelled, moved or declined", withdrawn)
    if missing:
        log.warning("no enabled plugin delivers notifications of kind %s: they stay pending "
                    "until a sink for them is enabled", ", ".join(missing))


def delivery_retry_policy(gateway: Gateway) -> RetryPolicy:
    """The engine's retry policy (:mod:`hybrid_calendar.engine.retries`) with the outbox's
    own figures: ``notifications.max_attempts``, ``retry_base_seconds``,
    ``retry_cap_seconds``."""
    config = gateway.config
    return RetryPolicy(max_attempts=int(config.get("notifications", "max_attempts")),
                       base_seconds=float(config.get("notifications", "retry_base_seconds")),
                       cap_seconds=float(config.get("notifications", "retry_cap_seconds")))


def retry_delay(policy: RetryPolicy, attempts: int, retry_after: float | None) -> timedelta:
    """The wait after failed attempt number ``attempts``: capped full jitter, or the sink's
    ``retry_after`` when that is longer (never more than the cap)."""
    delay = policy.delay(attempts)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, timedelta(seconds=min(retry_after, policy.cap_seconds)))
    return delay


def record_receipt(sink: str, receipt: DeliveryReceipt | None, attempts: int,
                   now: datetime, policy: RetryPolicy) -> SinkDelivery:
    """Turn one sink's answer to attempt number ``attempts`` into its delivery record."""
    if receipt is None:
        return SinkDelivery(sink, DeliveryState.SKIPPED, attempts, updated_at=now)
    if receipt.status is DeliveryStatus.DELIVERED:
        return SinkDelivery(sink, DeliveryState.DELIVERED, attempts, updated_at=now)
    reason = receipt.reason or "no reason given"
    if receipt.status is DeliveryStatus.FAILED:
        return SinkDelivery(sink, DeliveryState.DEAD, attempts, reason, updated_at=now)
    if attempts >= policy.max_attempts:
        return SinkDelivery(sink, DeliveryState.DEAD, attempts,
                            f"gave up after {attempts} attempts: {reason}", updated_at=now)
    return SinkDelivery(sink, DeliveryState.PENDING, attempts, reason,
                        next_attempt_at=now + retry_delay(policy, attempts, receipt.retry_after),
                        updated_at=now)


def overall_state(records: Mapping[str, SinkDelivery], sinks: Iterable[str]
                  ) -> tuple[DeliveryState, datetime | None]:
    """A notification's state from the records of the sinks that deliver its kind, and
    when to try again (the earliest pending sink's next attempt)."""
    current = [records[sink] for sink in sinks if sink in records]
    pending = [r.next_attempt_at for r in current if r.state is DeliveryState.PENDING]
    if pending:
        return DeliveryState.PENDING, min((p for p in pending if p is not None), default=None)
    states = {r.state for r in current}
    for state in (DeliveryState.DELIVERED, DeliveryState.DEAD):
        if state in states:
            return state, None
    return DeliveryState.SKIPPED, None
