"""The Starlette app: the Webex API under ``/v1`` and emulator controls under ``/_emulator``.

- ``/v1/authorize``, ``/v1/access_token``: OAuth (see :mod:`.oauth`)
- ``/v1/...``: the REST API (see :mod:`.dispatch` and the resource modules)
- ``/_emulator/...``: emulator-only controls (see :mod:`.control_routes`; not a Webex API)
"""

from __future__ import annotations

import asyncio
import urllib.parse

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from hybrid_calendar_webex_emulator import (
    attachment_actions,
    control_routes,
    licenses,
    meeting_extras,
    meetings_api,
    messages,
    oauth,
    people,
    rooms,
    telephony,
    webhooks,
    workspaces,
    xapi,
)
from hybrid_calendar_webex_emulator.dispatch import ApiRequest, ApiResponse, Dispatcher
from hybrid_calendar_webex_emulator.dispatch import Route as ApiRoute
from hybrid_calendar_webex_emulator.errors import ApiError
from hybrid_calendar_webex_emulator.ids import tracking_id
from hybrid_calendar_webex_emulator.state import WebexState

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def api_routes() -> list[ApiRoute]:
    """Every ``/v1`` operation the emulator serves."""
    return [*people.ROUTES, *oauth.ROUTES, *webhooks.ROUTES, *meetings_api.ROUTES,
            *meeting_extras.ROUTES,
            *rooms.ROUTES, *messages.ROUTES, *attachment_actions.ROUTES,
            *workspaces.ROUTES, *xapi.ROUTES, *telephony.ROUTES, *licenses.ROUTES]


def _send(result: ApiResponse) -> Response:
    return Response(result.body, status_code=result.status, headers=result.headers)


def _error(err: ApiError) -> Response:
    tid = tracking_id()
    body = err.body(tid)
    result = (ApiResponse.json(err.status, body, err.headers) if body is not None
              else ApiResponse(err.status, b"", dict(err.headers)))
    result.headers["TrackingID"] = tid
    return _send(result)


def create_app(state: WebexState) -> Starlette:
    """The emulator's ASGI app serving ``state``."""
    dispatcher = Dispatcher(state, api_routes())

    async def delay() -> None:
        """Injected latency (``latency_ms``)."""
        if state.faults.latency_ms > 0:
            await asyncio.sleep(state.faults.latency_ms / 1000)

    async def api(request: Request) -> Response:
        """A REST call."""
        await delay()
        params = urllib.parse.parse_qsl(request.url.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in request.headers.items()}
        result = dispatcher.handle(ApiRequest(request.method, request.url.path, params,
                                              headers, await request.body()))
        return _send(result)

    async def authorize(request: Request) -> Response:
        """``GET /v1/authorize``."""
        await delay()
        try:
            result = oauth.authorize(state, dict(request.query_params))
        except ApiError as err:
            return _error(err)
        result.headers["TrackingID"] = tracking_id()
        return _send(result)

    async def access_token(request: Request) -> Response:
        """``POST /v1/access_token`` (form body)."""
        await delay()
        body = (await request.body()).decode("utf-8", "replace")
        form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        try:
            result = oauth.access_token(state, form)
        except ApiError as err:
            state.log_request("POST", "/v1/access_token", None, err.status)
            return _error(err)
        state.log_request("POST", "/v1/access_token", None, result.status)
        result.headers["TrackingID"] = tracking_id()
        return _send(result)

    routes: list[BaseRoute] = [
        Route("/v1/authorize", authorize, methods=["GET"]),
        Route("/v1/access_token", access_token, methods=["POST"]),
        *control_routes.routes(state),
        Route("/v1/{rest:path}", api, methods=METHODS),
    ]
    return Starlette(routes=routes)
