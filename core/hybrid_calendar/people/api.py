"""The personal JSON API: a user's (or room's) own meetings, presence and sync status.

Every route takes the user from the presented secret (see :mod:`.auth`), never from the
path, so one user's token cannot name another's data:

* ``GET /api/v1/me`` — who the token belongs to, their time zone and the lead time.
* ``GET /api/v1/me/meetings`` — meetings from ``sync.retention_past_days`` back to
  ``sync.retention_future_days`` ahead, in the user's zone (:mod:`.views`).
* ``GET /api/v1/me/presence`` — out-of-office state (``null`` until first read).
* ``GET /api/v1/me/sync`` — the user's activation state and last sync.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hybrid_calendar.people.auth import Principal, personal
from hybrid_calendar.people.views import (
    lead_time,
    meeting_view,
    personal_meetings,
    user_zone,
)

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway


async def meetings_document(gateway: Gateway, who: Principal) -> dict[str, Any]:
    """The meetings list as the API, the page and the stream show it."""
    zone = user_zone(gateway, who.user)
    now, lead = gateway.clock.now(), lead_time(gateway)
    meetings = await personal_meetings(gateway, who.user)
    return {"time_zone": zone.key, "now": now.astimezone(zone).isoformat(),
            "meetings": [meeting_view(m, zone, now, lead, who.user.email)
                         for m in meetings]}


async def presence_document(gateway: Gateway, who: Principal) -> dict[str, Any]:
    """Out-of-office state of the user."""
    state = await gateway.store.get_sync_state(who.user.id)
    return {"out_of_office": state.out_of_office}


def api_routes(gateway: Gateway) -> list[BaseRoute]:
    """The personal API routes."""

    async def me(request: Request, who: Principal) -> Response:
        zone = user_zone(gateway, who.user)
        return JSONResponse({"user_id": who.user.id, "audience": who.access.audience,
                             "time_zone": zone.key, "locale": who.user.locale,
                             "join_button_lead_minutes": lead_time(gateway).total_seconds() / 60,
                             "access_expires_at": who.access.expires_at.isoformat()})

    async def meetings(request: Request, who: Principal) -> Response:
        return JSONResponse(await meetings_document(gateway, who))

    async def presence(request: Request, who: Principal) -> Response:
        return JSONResponse(await presence_document(gateway, who))

    async def sync_status(request: Request, who: Principal) -> Response:
        state = await gateway.store.get_sync_state(who.user.id)
        return JSONResponse({"state": str(who.user.state), "reason": who.user.reason,
                             "last_sync_at": state.last_sync_at.isoformat()
                             if state.last_sync_at else None})

    return [
        Route("/api/v1/me", personal(gateway, me), methods=["GET"]),
        Route("/api/v1/me/meetings", personal(gateway, meetings), methods=["GET"]),
        Route("/api/v1/me/presence", personal(gateway, presence), methods=["GET"]),
        Route("/api/v1/me/sync", personal(gateway, sync_status), methods=["GET"]),
    ]
