"""The notification outbox: Join buttons, presence and meetings-list changes, delivered
only on a sink's receipt (policy in :mod:`hybrid_calendar.engine.delivery`).

* A Join button (One Button To Push) is a row keyed ``user|event|start``, due at start
  minus the lead time; rows that fell due while the process was down fire at once if the
  meeting has not ended, and never after it ended.
* Presence and meetings-list changes go in as they happen and are tried at once; a newer
  one supersedes an older one still pending for the same user.
* A notification is offered to all its sinks at once; every attempt and its outcome per
  sink is stored (group-committed with others', :mod:`.recorder`) before the attempt
  counts, so a restart keeps the attempt count; the outbox loop (:func:`deliver_due`)
  retries what is due.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hybrid_calendar.admin.metrics import count_delivery
from hybrid_calendar.engine.delivery import (
    delivery_retry_policy,
    overall_state,
    record_receipt,
    sinks_by_kind,
)
from hybrid_calendar.engine.recorder import delivery_recorder
from hybrid_calendar.models import (
    DeliveryReceipt,
    DeliveryState,
    Meeting,
    Notification,
    NotificationKind,
    ScheduledNotification,
    SinkDelivery,
    User,
)
from hybrid_calendar.store.base import DeliveryRecord
from hybrid_calendar.store.codec import join_to_json

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)

LEASE_SECONDS = 120.0
"""How long a claimed notification is left to the process that took it, at most (see
:func:`claim_seconds`)."""
BATCH = 500
"""Due notifications claimed per query."""
DELIVERY_CONCURRENCY = 64
"""Notifications being delivered at once."""


MIN_LEASE_SECONDS = 30.0
"""No notification claim is shorter: a slow delivery is not taken over mid-flight."""


def claim_seconds(gateway: Gateway) -> float:
    """The lease of a claimed notification: ``sync.lease_seconds`` between
    :data:`MIN_LEASE_SECONDS` and :data:`LEASE_SECONDS`, so a dead process's claims
    return about when its jobs do, and a slow delivery is never taken over."""
    lease = float(gateway.config.get("sync", "lease_seconds"))
    return min(LEASE_SECONDS, max(MIN_LEASE_SECONDS, lease))


def sink_timeout(gateway: Gateway) -> float:
    """How long one sink may take to answer one delivery
    (``notifications.sink_timeout_seconds``), at most half the claim's lease
    (:func:`claim_seconds`): a sink that hangs costs a retry, not a delivery slot for good,
    and its notification is recorded before another process could claim it again."""
    configured = float(gateway.config.get("notifications", "sink_timeout_seconds"))
    return min(configured, claim_seconds(gateway) / 2)


def join_button_key(user: User, meeting: Meeting) -> str:
    """Unique key of a meeting's Join button for one recipient and start time (the
    start as an instant: in UTC, whatever offset the calendar wrote it with)."""
    return _button_key(user.id, meeting.event_id, meeting.start.astimezone(UTC).isoformat())


def _button_key(user_id: str, event_id: str, start_text: str) -> str:
    """:func:`join_button_key` from its parts (the start already in UTC, in ISO form)."""
    return f"{user_id}|{event_id}|{start_text}"


def join_button_items(gateway: Gateway, user: User, meetings: Sequence[Meeting]
                      ) -> list[ScheduledNotification]:
    """The Join buttons of ``meetings`` (those :meth:`Meeting.joinable_by` the user: join
    information, not cancelled, not all-day, not declined by the user), due the
    configured lead time before each start (keyed and timed by the start's instant,
    :func:`join_button_key`).

    Runs for every page of every sync: a loop that writes each start once in ISO form
    as written (the payload's) and once in UTC (the key :func:`join_button_key` makes)
    and passes the item's fields positionally; ``tests/engine/test_sync_conversion.py``
    pins their order and holds the result equal to the straightforward version."""
    lead = timedelta(minutes=float(gateway.config.get("notifications",
                                                      "join_button_lead_minutes")))
    user_id, email = user.id, user.email
    items = []
    for meeting in meetings:
        join = meeting.join
        if join is None or not meeting.joinable_by(email):
            continue
        event_id, start, end = meeting.event_id, meeting.start, meeting.end
        start_text = start.isoformat()
        # the key and the due time from the instant: the same meeting written with
        # another offset keeps its key, and a zone's DST change moves no due time
        instant = start.astimezone(UTC)
        items.append(ScheduledNotification(
            _button_key(user_id, event_id, instant.isoformat()), user_id, event_id,
            instant - lead, start, end,
            {"event_id": event_id, "title": meeting.title, "start": start_text,
             "end": end.isoformat(), "join": join_to_json(join)}))
    return items


async def schedule_join_buttons(gateway: Gateway, user: User, meetings: Sequence[Meeting],
                                deleted_event_ids: Sequence[str] = ()) -> None:
    """(Re)schedule Join buttons for meetings with join information, on their own. A
    sync does not call this: its buttons go into the same store write as its meetings
    (:meth:`Store.write_sync` with :func:`join_button_items`); this is for meetings
    stored some other way (tests, benchmarks, a plugin seeding its own)."""
    items = join_button_items(gateway, user, meetings)
    touched = [m.event_id for m in meetings] + list(deleted_event_ids)
    if items or touched:
        await gateway.store.schedule(user, items, replace_for_events=touched)


def immediate(gateway: Gateway, user: User, kind: NotificationKind,
              payload: Mapping[str, Any], key: str
              ) -> tuple[ScheduledNotification, datetime, Sequence[str]]:
    """A notification to try at once: the outbox item, its first attempt (a lease ahead
    when a sink will try it now, so the outbox loop does not also take it) and the sinks
    that deliver its kind. Enqueue it superseding, then call :func:`try_enqueued`."""
    now = gateway.clock.now()
    sinks = sinks_by_kind(gateway.hooks)[kind]
    item = ScheduledNotification(key=key, user_id=user.id, event_id=None, due_at=now,
                                 start=None, end=None, payload=payload, kind=kind)
    claimed = now + timedelta(seconds=claim_seconds(gateway)) if sinks else now
    return item, claimed, sinks


async def try_enqueued(gateway: Gateway, user: User, item: ScheduledNotification,
                       sinks: Sequence[str], added: bool) -> DeliveryState:
    """Try a notification of :func:`immediate` that was just enqueued (``added``: it was
    not in the outbox already); returns where it stands."""
    if not added:
        return DeliveryState.PENDING  # the same key is already in the outbox
    if not sinks:  # DEBUG: start-up warns once per kind no sink delivers (delivery.py)
        log.debug("%s notification for user %s stays pending: no enabled sink delivers it",
                  item.kind, user.id)
        return DeliveryState.PENDING
    return await attempt(gateway, user, item, sinks)


async def notify_now(gateway: Gateway, user: User, kind: NotificationKind,
                     payload: Mapping[str, Any], key: str) -> DeliveryState:
    """Put a notification in the outbox (superseding the user's pending one of the same
    kind) and try it at once; returns where it stands. Never raises for a sink's sake."""
    item, claimed, sinks = immediate(gateway, user, kind, payload, key)
    added = await gateway.store.enqueue_notification(user, item, supersede=True,
                                                     next_attempt_at=claimed)
    return await try_enqueued(gateway, user, item, sinks, added)


async def deliver_due(gateway: Gateway) -> None:
    """Try every notification whose next attempt is due, and give up those whose meeting
    ended undelivered (the outbox loop's body); returns when none is due or in flight.

    Due notifications are claimed (at most :data:`BATCH` in flight) and tried
    concurrently (at most :data:`DELIVERY_CONCURRENCY` at once). While some are in
    flight, what fell due meanwhile is claimed every ``notifications.poll_seconds``
    without waiting for the slowest, so a minute with thousands of Join buttons keeps
    time. Their records are group-committed (:mod:`.recorder`).
    """
    sinks = sinks_by_kind(gateway.hooks)
    served = [kind for kind, names in sinks.items() if names]
    now = gateway.clock.now()
    for user, item in await gateway.store.ended_notifications(now, served, limit=BATCH):
        await _ended(gateway, user, item, sinks[item.kind])
    poll = float(gateway.config.get("notifications", "poll_seconds"))
    slots = asyncio.Semaphore(DELIVERY_CONCURRENCY)
    in_flight: dict[str, asyncio.Task[None]] = {}
    claimed_at, full = None, True

    async def one(user: User, item: ScheduledNotification) -> None:
        async with slots:
            try:
                await attempt(gateway, user, item, sinks[item.kind])
            except Exception as err:  # the store failed: the lease expires, tried again
                log.error("%s notification %s for user %s not recorded: %s: %s",
                          item.kind, item.key, user.id, type(err).__name__, err)

    try:
        while True:
            now = gateway.clock.now()
            room = BATCH - len(in_flight)
            if room > 0 and (full or now != claimed_at):  # more due, or time moved on
                claimed = await gateway.store.due_notifications(
                    now, served, limit=room, lease_seconds=claim_seconds(gateway))
                claimed_at, full = now, len(claimed) >= room
                for user, item in claimed:
                    if item.key not in in_flight:  # never the same one twice at once
                        in_flight[item.key] = asyncio.create_task(one(user, item),
                                                                  name="notify-attempt")
            if not in_flight:
                return
            await asyncio.wait(in_flight.values(), timeout=poll)
            for key in [key for key, task in in_flight.items() if task.done()]:
                del in_flight[key]
    finally:
        if in_flight:  # a claim failed: let those in flight finish
            await asyncio.gather(*in_flight.values(), return_exceptions=True)


async def _ended(gateway: Gateway, user: User, item: ScheduledNotification,
                 sinks: Sequence[str]) -> None:
    """A Join button whose meeting ended before a sink delivered it: a dead letter for
    every sink that still owed it. (A kind no sink delivers is never given up.)"""
    now = gateway.clock.now()
    records = dict(item.deliveries)
    changed = []
    for sink in sinks:
        previous = records.get(sink)
        if previous is not None and previous.state is not DeliveryState.PENDING:
            continue
        last = f" (last attempt: {previous.reason})" if previous and previous.reason else ""
        records[sink] = SinkDelivery(sink, DeliveryState.DEAD,
                                     previous.attempts if previous else 0,
                                     f"the meeting ended before delivery{last}",
                                     updated_at=now)
        changed.append(records[sink])
    state, next_at = overall_state(records, sinks)
    await delivery_recorder(gateway).record(
        DeliveryRecord(user, item.key, changed, state, next_at, now))
    log.warning("%s notification %s for user %s: the meeting ended before delivery",
                item.kind, item.key, user.id)


async def attempt(gateway: Gateway, user: User, item: ScheduledNotification,
                  sinks: Sequence[str]) -> DeliveryState:
    """Offer a notification to each of ``sinks`` that still owes it (all at once), record
    every receipt and the notification's new state."""
    now = gateway.clock.now()
    policy = delivery_retry_policy(gateway)
    notification = Notification(kind=item.kind, user=user, payload=item.payload, key=item.key)
    records: dict[str, SinkDelivery] = dict(item.deliveries)
    deadline = sink_timeout(gateway)

    async def ask(sink: str, attempts: int) -> SinkDelivery:
        limit = asyncio.timeout(deadline)
        try:
            async with limit:
                receipt = await gateway.hooks.deliver_notification(gateway, notification,
                                                                   sink)
        except Exception as err:  # a sink's bug, outage or silence: retried like retry_later
            if limit.expired():
                log.warning("sink %s did not answer delivering %s %s to user %s within %g s",
                            sink, item.kind, item.key, user.id, deadline)
                receipt = DeliveryReceipt.retry_later(
                    f"the sink did not answer within {deadline:g} s")
            else:
                log.warning("sink %s raised delivering %s %s to user %s: %s: %s", sink,
                            item.kind, item.key, user.id, type(err).__name__, err)
                receipt = DeliveryReceipt.retry_later(f"{type(err).__name__}: {err}")
        record = record_receipt(sink, receipt, attempts, now, policy)
        count_delivery(gateway, sink, str(item.kind), str(record.state))
        if record.state is DeliveryState.DEAD:
            log.warning("%s notification %s for user %s is a dead letter at sink %s: %s",
                        item.kind, item.key, user.id, sink, record.reason)
        return record

    owed: list[tuple[str, int]] = []
    for sink in sinks:
        previous = records.get(sink)
        if previous is not None and (previous.state is not DeliveryState.PENDING or (
                previous.next_attempt_at is not None and previous.next_attempt_at > now)):
            continue  # done, or another sink's retry is what fell due
        owed.append((sink, (previous.attempts if previous else 0) + 1))
    changed = list(await asyncio.gather(*(ask(sink, n) for sink, n in owed)))
    records.update((record.sink, record) for record in changed)
    state, next_at = overall_state(records, sinks)
    await delivery_recorder(gateway).record(
        DeliveryRecord(user, item.key, changed, state, next_at, now))
    return state
