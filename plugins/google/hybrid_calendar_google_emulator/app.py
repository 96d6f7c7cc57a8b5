"""The Starlette app: API roots as Google's, the token endpoint, batch, and emulator controls.

- ``/calendar/v3/...`` and ``/gmail/v1/...``: the APIs (see :mod:`.dispatch`)
- ``/batch/calendar/v3`` (and ``/batch``): multipart/mixed batches
- ``/token``: OAuth 2.0 token endpoint (the key file's ``token_uri``)
- ``/emulator/control`` (POST JSON): fault injection and test controls (not a Google API)
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hybrid_calendar_google_emulator import calendar_api, events_api, gmail
from hybrid_calendar_google_emulator.batch import handle_batch
from hybrid_calendar_google_emulator.compression import encode
from hybrid_calendar_google_emulator.cors import CorsMiddleware
from hybrid_calendar_google_emulator.dispatch import ApiRequest, ApiResponse, Dispatcher
from hybrid_calendar_google_emulator.options import EmulatorOptions
from hybrid_calendar_google_emulator.state import EmulatorState
from hybrid_calendar_google_emulator.token_endpoint import handle_token_request

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def build_dispatcher(state: EmulatorState) -> Dispatcher:
    """A dispatcher with every implemented handler."""
    return Dispatcher(state, {**events_api.HANDLERS, **calendar_api.HANDLERS,
                              **gmail.HANDLERS})


def _to_response(result: ApiResponse, request_headers: dict[str, str],
                 options: EmulatorOptions) -> Response:
    headers = dict(result.headers)
    body = result.body
    if options.gzip_responses:
        body = encode(body, headers, request_headers, options.gzip_level)
    return Response(body, status_code=result.status, headers=headers)


def create_app(state: EmulatorState, options: EmulatorOptions | None = None) -> Starlette:
    """The emulator's ASGI app serving ``state`` (``options`` default to ``state.options``)."""
    if options is not None:
        state.options = options
    dispatcher = build_dispatcher(state)

    async def delay() -> None:
        """Injected latency (``latency_ms``)."""
        latency = state.faults.latency_ms
        if latency > 0:
            await asyncio.sleep(latency / 1000)

    async def api(request: Request) -> Response:
        """Calendar and Gmail API calls (raw path: encoded ``/`` stays inside a segment)."""
        await delay()
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        path = raw_path.decode("latin-1").split("?", 1)[0]
        params = urllib.parse.parse_qsl(request.url.query, keep_blank_values=True)
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        return _to_response(dispatcher.handle(ApiRequest(request.method, path, params,
                                                         headers, body)),
                            headers, state.options)

    async def batch(request: Request) -> Response:
        """The multipart/mixed batch endpoint."""
        await delay()
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        return _to_response(handle_batch(dispatcher, headers.get("content-type", ""), body,
                                         headers, state.options.max_batch_parts),
                            headers, state.options)

    async def token(request: Request) -> Response:
        """The OAuth 2.0 token endpoint."""
        await delay()
        status, data = handle_token_request(state, request.headers.get("content-type", ""),
                                            await request.body())
        return JSONResponse(data, status_code=status,
                            headers={"Cache-Control": "no-cache, no-store, max-age=0"})

    async def control(request: Request) -> Response:
        """Emulator-only controls (JSON document, see :mod:`.control`)."""
        try:
            spec = json.loads(await request.body() or b"{}")
            if not isinstance(spec, dict):
                raise ValueError("control document must be a JSON object")
            result = state.control(spec)
        except ValueError as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        return JSONResponse({"ok": True, **result})

    routes = [
        Route("/token", token, methods=["POST"]),
        Route("/batch/calendar/v3", batch, methods=["POST"]),
        Route("/batch", batch, methods=["POST"]),
        Route("/emulator/control", control, methods=["POST"]),
        Route("/calendar/v3/{rest:path}", api, methods=METHODS),
        Route("/gmail/v1/{rest:path}", api, methods=METHODS),
    ]
    return Starlette(routes=routes, middleware=[Middleware(CorsMiddleware)])
