"""``GET /api/v1/me/stream``: server-sent events of meetings changes, Join buttons, presence.

Events (``event:`` name, ``id:`` = outbox ``seq``, ``data:`` JSON):

* ``meetings`` — the meetings list changed; fetch ``/api/v1/me/meetings`` again.
* ``join_button`` — a meeting's Join button is due: ``event_id``, ``title``, ``start``,
  ``end``, ``join``.
* ``join_button_withdrawn`` — a Join button delivered before no longer holds (the meeting
  was cancelled, moved, declined or lost its join information): ``event_id`` and
  ``start`` (those of the withdrawn ``join_button`` event), ``end``, ``reason`` and
  ``button`` (the gateway's key of that Join button).
* ``presence`` — ``out_of_office`` (and ``until``) changed.
* ``reset`` (no id) — events the client asked for are past retention; reload everything.

A client that reconnects with ``Last-Event-ID`` (or ``?last_event_id=``, for a first
connection made right after rendering a page) is sent every later event of its user from
the durable outbox, then live ones; each event goes out once per connection, in order.
Without either, a connection starts at the newest event. Idle streams get a comment every
``people.stream_ping_seconds``.

The grant that opened a stream is checked again before events are sent and every
:data:`ACCESS_CHECK_SECONDS` while idle: once it is revoked or expired, or its user
deactivated, the stream ends (the client's reconnection then gets 401).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from sse_starlette.sse import EventSourceResponse
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from hybrid_calendar.people import outbox
from hybrid_calendar.people.auth import Principal, personal, still_allowed
from hybrid_calendar.people.hub import Wake
from hybrid_calendar.people.service import people_service

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

ACCESS_CHECK_SECONDS = 60.0
"""How often an idle stream checks that its grant is still live."""


def last_event_id(request: Request) -> int | None:
    """The position a client resumes from, if it says."""
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise HTTPException(400, "Last-Event-ID must be a non-negative integer")
    return int(raw)


def sse(event: outbox.OutboxEvent) -> dict[str, Any]:
    """An outbox event in sse-starlette's form."""
    return {"id": str(event.seq), "event": event.kind, "data": json.dumps(event.data)}


async def event_stream(gateway: Gateway, who: Principal, resume_from: int | None
                       ) -> AsyncIterator[dict[str, Any]]:
    """Replay from the outbox, then follow the hub (its events, or on a wake the outbox
    after the last ``seq`` sent); each seq at most once, in order."""
    service = people_service(gateway)
    subscription = service.hub.subscribe(who.user.id)
    try:
        if resume_from is None:
            last = await outbox.latest_seq(gateway)
        else:
            last = resume_from
            if last < await outbox.purged_floor(gateway):
                yield {"event": "reset", "data": json.dumps(
                    {"reason": "the events after your Last-Event-ID are no longer kept"})}
            async for event in _after(gateway, who, last):
                yield sse(event)
                last = event.seq
        while True:
            try:
                async with asyncio.timeout(ACCESS_CHECK_SECONDS):
                    live = await subscription.queue.get()
            except TimeoutError:
                if not await still_allowed(gateway, who):
                    return
                continue
            if live is None:  # overflowed: the client reconnects and catches up
                return
            if not await still_allowed(gateway, who):
                return
            if isinstance(live, Wake):
                subscription.woken = False
                async for event in _after(gateway, who, last):
                    yield sse(event)
                    last = event.seq
                continue
            if live.seq <= last:
                continue
            yield sse(live)
            last = live.seq
    finally:
        service.hub.unsubscribe(subscription)


async def _after(gateway: Gateway, who: Principal, last: int
                 ) -> AsyncIterator[outbox.OutboxEvent]:
    """The user's events after ``last`` from the outbox, oldest first, in pages."""
    while True:
        found = await outbox.since(gateway, who.user, last)
        for event in found:
            yield event
            last = event.seq
        if len(found) < 1000:
            return


def stream_routes(gateway: Gateway) -> list[BaseRoute]:
    """The stream route."""
    ping = float(gateway.config.get("people", "stream_ping_seconds"))

    async def stream(request: Request, who: Principal) -> Response:
        resume = last_event_id(request)
        return EventSourceResponse(event_stream(gateway, who, resume), ping=ping,
                                   headers={"X-Accel-Buffering": "no"})

    return [Route("/api/v1/me/stream", personal(gateway, stream), methods=["GET"])]
