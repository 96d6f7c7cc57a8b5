"""The administrator's webhook API (admin credentials and audit, as every admin route:
``hybrid_calendar.admin.guard``).

* ``POST /api/v1/organisations/{org}/webhooks`` ``{"url", "events": [...], "allow_host"}``
  — register an HTTPS endpoint; the answer holds its signing secret, once. The URL is
  checked at once (400 with the reason when it resolves to a refused address).
* ``GET /api/v1/organisations/{org}/webhooks`` — endpoints, without secrets.
* ``DELETE /api/v1/webhooks/{id}`` — remove an endpoint (its queued messages go too).
* ``GET /api/v1/webhooks/{id}/deliveries?state=dead`` — messages with state, attempts and
  the last failure reason (the dead letters with ``state=dead``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hybrid_calendar.admin.guard import guarded
from hybrid_calendar.people import webhooks
from hybrid_calendar.people.db import json_object
from hybrid_calendar.people.service import people_service
from hybrid_calendar.people.ssrf import RefusedEndpoint, check_endpoint

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway


def webhook_admin_routes(gateway: Gateway) -> list[BaseRoute]:
    """Admin routes for webhook endpoints and their deliveries."""

    async def register(request: Request) -> Response:
        org = await gateway.store.get_organisation(request.path_params["org_id"])
        if org is None:
            raise HTTPException(404, "no such organisation")
        try:
            data = json_object(await request.json())
        except (ValueError, RecursionError):  # RecursionError: nested too deep
            raise HTTPException(400, "body must be JSON") from None
        url, events = str(data.get("url", "")), data.get("events", list(webhooks.EVENT_TYPES))
        allow_host = data.get("allow_host")
        if not isinstance(events, list) or not events or \
                not set(map(str, events)) <= set(webhooks.EVENT_TYPES):
            raise HTTPException(400, f"events must be a non-empty list of "
                                     f"{sorted(webhooks.EVENT_TYPES)}")
        if allow_host is not None and (not isinstance(allow_host, str) or not allow_host):
            raise HTTPException(400, "allow_host must be a host name")
        try:
            await check_endpoint(url, allow_host=allow_host,
                                 allow_http=bool(gateway.config.get("people",
                                                                    "webhook_allow_http")))
        except RefusedEndpoint as err:
            raise HTTPException(400, f"endpoint refused: {err}") from None
        endpoint = await webhooks.add_endpoint(gateway, org.id, url,
                                               tuple(dict.fromkeys(map(str, events))),
                                               allow_host)
        people_service(gateway).webhooks.forget_endpoints(org.id)
        return JSONResponse({**endpoint.as_json(), "secret": endpoint.secret},
                            status_code=201, headers={"Cache-Control": "no-store"})

    async def listing(request: Request) -> Response:
        found = await webhooks.endpoints(gateway, org_id=request.path_params["org_id"])
        return JSONResponse({"webhooks": [e.as_json() for e in found]})

    async def endpoint_or_404(request: Request) -> webhooks.Endpoint:
        found = await webhooks.endpoints(gateway, endpoint_id=request.path_params["hook_id"])
        if not found:
            raise HTTPException(404, "no such webhook")
        return found[0]

    async def remove(request: Request) -> Response:
        endpoint = await endpoint_or_404(request)
        await webhooks.remove_endpoint(gateway, endpoint.id)
        people_service(gateway).webhooks.forget_endpoints(endpoint.org_id)
        return JSONResponse({"removed": endpoint.id})

    async def deliveries(request: Request) -> Response:
        endpoint = await endpoint_or_404(request)
        state = request.query_params.get("state")
        if state not in (None, "pending", "delivered", "dead"):
            raise HTTPException(400, "state must be pending, delivered or dead")
        found = await webhooks.list_deliveries(gateway, endpoint.id, state)
        return JSONResponse({"deliveries": [
            {"id": d.id, "type": d.event_type, "state": d.state, "attempts": d.attempts,
             "last_error": d.last_error,
             "created_at": d.created_at.isoformat() if d.created_at else None}
            for d in found]})

    return [
        Route("/api/v1/organisations/{org_id}/webhooks",
              guarded(gateway, register, "webhooks.register"), methods=["POST"]),
        Route("/api/v1/organisations/{org_id}/webhooks",
              guarded(gateway, listing, "webhooks.list"), methods=["GET"]),
        Route("/api/v1/webhooks/{hook_id}", guarded(gateway, remove, "webhooks.remove"),
              methods=["DELETE"]),
        Route("/api/v1/webhooks/{hook_id}/deliveries",
              guarded(gateway, deliveries, "webhooks.deliveries"), methods=["GET"]),
    ]
