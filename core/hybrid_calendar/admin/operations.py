"""Operations routes: ``/metrics`` (Prometheus, unauthenticated like ``/healthz``: expose
it only where the scraper can reach it), ``/openapi.json``, and an organisation's quota."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hybrid_calendar.admin.guard import guarded
from hybrid_calendar.admin.metrics import CONTENT_TYPE, exposition, org_quota
from hybrid_calendar.admin.openapi import Json
from hybrid_calendar.admin.page import page_routes

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway


def operations_routes(gateway: Gateway, spec: Json) -> list[BaseRoute]:
    """``/admin``, ``/metrics``, ``/openapi.json`` (serving ``spec``, from
    :func:`~hybrid_calendar.admin.openapi.document`) and the organisation quota route."""

    async def metrics_text(request: Request) -> Response:
        return Response(await exposition(gateway), media_type=CONTENT_TYPE)

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(spec)

    async def org_health(request: Request) -> Response:
        org_id = request.path_params["org_id"]
        if await gateway.store.get_organisation(org_id) is None:
            raise HTTPException(404, "no such organisation")
        return JSONResponse(await org_quota(gateway, org_id))

    return [*page_routes(),
            Route("/metrics", metrics_text, methods=["GET"]),
            Route("/openapi.json", openapi_json, methods=["GET"]),
            Route("/api/v1/organisations/{org_id}/health", guarded(gateway, org_health),
                  methods=["GET"])]
