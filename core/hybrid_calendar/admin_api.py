"""The meetings and outbox part of the admin API (JSON under ``/api/v1``).

Organisations, users, health and the audit log are in :mod:`hybrid_calendar.admin.routes`;
every route is guarded the same way (:func:`hybrid_calendar.admin.guard.guarded`: reads
need any admin role, changes need ``admin``, changes are audited).

* ``GET /api/v1/users/{id}/meetings?from=&to=`` — the user's meetings list and
  out-of-office state (``null`` until first read).
* ``POST /api/v1/users/{id}/sync`` — queue a sync now.
* ``GET /api/v1/users/{id}/notifications?state=`` — the user's notifications in the outbox
  (``pending``, ``delivered``, ``dead``, ``skipped``) with each sink's state, attempts and
  reason; ``GET /api/v1/users/{id}/dead-letters`` is ``state=dead``.
* ``GET /api/v1/status`` — job queue counts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hybrid_calendar.admin.guard import guarded as guard
from hybrid_calendar.models import (
    DeliveryState,
    Meeting,
    ScheduledNotification,
    User,
    UserState,
)
from hybrid_calendar.store.codec import join_to_json

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

Endpoint = Callable[[Request], Awaitable[Response]]
def meeting_json(meeting: Meeting) -> dict[str, Any]:
    """A meeting as the admin API's meetings list shows it. A private meeting
    (:attr:`Meeting.private`) is busy time only: its title, location and organiser are
    ``None`` and its join information says only the service and where it was found,
    since its details are for its attendees, not for whoever runs the gateway."""
    shown = not meeting.private
    join = join_to_json(meeting.join)
    if join is not None and not shown:
        join = {"provider": join["provider"], "source": join["source"]}
    return {"event_id": meeting.event_id, "title": meeting.title if shown else None,
            "start": meeting.start.isoformat(), "end": meeting.end.isoformat(),
            "all_day": meeting.all_day, "private": meeting.private,
            "organizer": meeting.organizer if shown else None,
            "location": meeting.location if shown else None, "join": join,
            "status": meeting.status}


def notification_json(item: ScheduledNotification) -> dict[str, Any]:
    """An outbox entry as the admin API shows it (its payload is not shown)."""
    return {"key": item.key, "kind": str(item.kind), "state": str(item.state),
            "event_id": item.event_id, "due_at": item.due_at.isoformat(),
            "sent_at": item.sent_at.isoformat() if item.sent_at else None,
            "deliveries": [{"sink": d.sink, "state": str(d.state), "attempts": d.attempts,
                            "reason": d.reason,
                            "next_attempt_at": (d.next_attempt_at.isoformat()
                                                if d.next_attempt_at else None),
                            "updated_at": d.updated_at.isoformat() if d.updated_at else None}
                           for d in item.deliveries.values()]}


def admin_routes(gateway: Gateway) -> list[BaseRoute]:
    """The API routes; every one requires ``Authorization: Bearer <gateway.admin_token>``."""

    def guarded(endpoint: Endpoint) -> Endpoint:
        return guard(gateway, endpoint)

    async def user_or_404(request: Request) -> User:
        user = await gateway.store.get_user(request.path_params["user_id"])
        if user is None:
            raise HTTPException(404, "no such user")
        return user

    async def sync_now(request: Request) -> Response:
        user = await user_or_404(request)
        if user.state != UserState.ACTIVE:
            raise HTTPException(409, f"user is {user.state}, not active")
        await _engine(gateway).request_sync(user.id, "admin")
        return JSONResponse({"queued": True}, status_code=202)

    async def meetings(request: Request) -> Response:
        from hybrid_calendar.engine.sync import retention_window

        user = await user_or_404(request)
        start, end = retention_window(gateway)
        try:
            if "from" in request.query_params:
                start = datetime.fromisoformat(request.query_params["from"])
            if "to" in request.query_params:
                end = datetime.fromisoformat(request.query_params["to"])
        except ValueError:
            raise HTTPException(400, "from/to must be ISO 8601 date-times") from None
        if start.tzinfo is None or end.tzinfo is None:
            raise HTTPException(400, "from/to need a UTC offset, e.g. 2026-11-27T00:00:00Z")
        listed = await gateway.store.list_meetings(user, start, end)
        presence = (await gateway.store.get_sync_state(user.id)).out_of_office
        return JSONResponse({"user_id": user.id, "out_of_office": presence,
                             "meetings": [meeting_json(m) for m in listed]})

    async def notifications(request: Request) -> Response:
        user = await user_or_404(request)
        wanted = request.query_params.get("state")
        try:
            state = DeliveryState(wanted) if wanted else None
        except ValueError:
            known = ", ".join(s.value for s in DeliveryState)
            raise HTTPException(400, f"state must be one of {known}") from None
        listed = await gateway.store.list_notifications(user, state=state)
        return JSONResponse({"user_id": user.id,
                             "notifications": [notification_json(n) for n in listed]})

    async def dead_letters(request: Request) -> Response:
        user = await user_or_404(request)
        listed = await gateway.store.list_notifications(user, state=DeliveryState.DEAD)
        return JSONResponse({"user_id": user.id,
                             "dead_letters": [notification_json(n) for n in listed]})

    async def status(request: Request) -> Response:
        return JSONResponse({"jobs": await gateway.store.job_counts()})

    return [
        Route("/api/v1/users/{user_id}/sync", guarded(sync_now), methods=["POST"]),
        Route("/api/v1/users/{user_id}/meetings", guarded(meetings), methods=["GET"]),
        Route("/api/v1/users/{user_id}/notifications", guarded(notifications),
              methods=["GET"]),
        Route("/api/v1/users/{user_id}/dead-letters", guarded(dead_letters), methods=["GET"]),
        Route("/api/v1/status", guarded(status), methods=["GET"]),
    ]


def _engine(gateway: Gateway) -> Any:
    if gateway.engine is None:
        raise HTTPException(503, "engine not started")
    return gateway.engine
