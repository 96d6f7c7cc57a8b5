"""The Starlette app: health, readiness, admin API, plugin routes, one lifespan.

Build it with :func:`create_app`; everything it needs is passed in. The lifespan opens the
store, runs plugin ``startup`` hooks, starts the engine, and undoes all of it on shutdown.
"""

from __future__ import annotations

import contextlib
import logging
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any, NoReturn

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from hybrid_calendar import logs
from hybrid_calendar.admin.guard import guarded, sign_in
from hybrid_calendar.admin.metrics import count_outbound_calls
from hybrid_calendar.admin.openapi import document, mismatches
from hybrid_calendar.admin.operations import operations_routes
from hybrid_calendar.admin.routes import admin_routes as admin_package_routes
from hybrid_calendar.admin_api import admin_routes
from hybrid_calendar.builder import close_gateway
from hybrid_calendar.engine.delivery import delivery_coverage, log_delivery_coverage
from hybrid_calendar.engine.engine import Engine
from hybrid_calendar.errors import GatewayError
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.limits import RequestLimits
from hybrid_calendar.plugins import plugin_listing
from hybrid_calendar.runtime import tune_garbage_collector

log = logging.getLogger(__name__)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Give every request an id (kept from ``X-Request-ID`` when sane), echo it back.

    An unexpected error is answered here (:func:`_server_error`), while the id is still
    set: Starlette's own handler runs outside every middleware, where the 500's body, its
    headers and its log line would have no id to tell.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = logs.request_id.set(rid)

        started = False

        async def send_with_id(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", []).append((b"x-request-id", rid.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if started:  # too late for an answer: the server closes the connection
                raise
            response = await _server_error(Request(scope), exc)
            await response(scope, receive, send_with_id)
        finally:
            logs.request_id.reset(token)


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """The gateway's JSON error body: ``{"error": {"code", "message", "request_id"}}``."""
    return JSONResponse({"error": {"code": code, "message": message,
                                   "request_id": logs.request_id.get()}}, status_code=status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    response = error_response(exc.status_code, f"http_{exc.status_code}", str(exc.detail))
    response.headers.update(exc.headers or {})  # Retry-After, WWW-Authenticate
    return response


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s: %s", request.method, request.url.path,
              type(exc).__name__, exc_info=exc)
    return error_response(500, "internal", "internal error; see the gateway log with this "
                                           "request id")


async def _gateway_error(request: Request, exc: Exception) -> Response:
    log.warning("request failed: %s", exc)
    return error_response(400, type(exc).__name__, str(exc))


async def readiness(gateway: Gateway) -> dict[str, Any]:
    """Check what must work before the gateway takes traffic."""
    checks: dict[str, Any] = {"store": await gateway.store.ping(),
                              "plugins": bool(gateway.pm.list_name_plugin())}
    try:
        # The cipher asks the KMS and drops cached keys at once when it turns unhealthy.
        status = await gateway.cipher.status()
    except Exception as err:
        checks["kms"] = {"healthy": False, "reason": f"{type(err).__name__}: {err}"}
    else:
        checks["kms"] = {"healthy": status.healthy, "kms": status.kms, "reason": status.reason}
    engine = gateway.engine
    checks["engine"] = engine is not None and engine.running
    if engine is not None:  # a full disk or read-only data directory stops all work
        checks["storage"] = {"healthy": engine.storage.healthy,
                             "reason": engine.storage.reason}
    checks["ready"] = all(v if isinstance(v, bool) else v.get("healthy", False)
                          for v in checks.values())
    # Reported, not required: without a sink for a kind the gateway still syncs and
    # serves meetings lists; those notifications stay pending (docs/plugins.md).
    checks["delivery"] = delivery_coverage(gateway.hooks)
    # Reported, not required either: meeting services a plugin depends on (hook
    # report_health), e.g. a Webex identity lacking a scope.
    try:
        checks["services"] = await gateway.hooks.report_health(gateway)
    except Exception as err:  # a plugin's bug must not break the readiness probe
        checks["services"] = {"error": f"{type(err).__name__}: {err}"}
    return checks


def refuse_start(gateway: Gateway, err: GatewayError) -> NoReturn:
    """Log why start-up stops in one line, remember it for ``serve``, and stop."""
    gateway.startup_error = err
    log.error("start-up refused: %s", err)
    raise err


def create_app(gateway: Gateway, *, start_engine: bool = True) -> Starlette:
    """Build the ASGI app around a gateway.

    :param gateway: configuration, plugins and store (opened by the lifespan).
    :param start_engine: run the background engine (tests of pure HTTP behaviour may not).
    """

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        checks = await readiness(gateway)
        status = 200 if checks["ready"] else 503
        # Credentials count like the admin API's: a wrong one is refused and rate limited.
        if "authorization" not in request.headers or await sign_in(gateway, request) is None:
            # without admin credentials: the verdict only (the details name key files)
            return JSONResponse({"ready": checks["ready"]}, status_code=status)
        return JSONResponse(checks, status_code=status)

    async def plugins_json(request: Request) -> Response:
        return JSONResponse(plugin_listing(gateway.pm))

    plugin_routes: list[BaseRoute] = []
    gateway.hooks.register_routes(gateway, plugin_routes.append)
    spec = document(gateway)
    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/-/plugins.json", guarded(gateway, plugins_json, "plugins.read")),
        *admin_routes(gateway),
        *admin_package_routes(gateway),
        *operations_routes(gateway, spec),
        *plugin_routes,
    ]
    undescribed, unserved = mismatches(routes, spec)
    for path, method in sorted(undescribed):
        log.warning("route %s %s is missing from /openapi.json: its plugin should describe "
                    "it (hook describe_routes)", method.upper(), path)
    for path, method in sorted(unserved):
        log.warning("/openapi.json describes %s %s, which no route serves", method.upper(),
                    path)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            await gateway.store.open()
        except GatewayError as untrusted:
            refuse_start(gateway, untrusted)
        count_outbound_calls(gateway, gateway.http_client())
        try:
            try:
                await gateway.hooks.startup(gateway)
            except GatewayError as refused:
                refuse_start(gateway, refused)
            log_delivery_coverage(gateway)
            tune_garbage_collector(int(gateway.config.get("gateway", "gc_threshold")))
            engine = Engine(gateway)
            gateway.engine = engine
            if start_engine:
                await engine.start()
            try:
                yield
            finally:
                await engine.stop()
                for err in await gateway.hooks.shutdown(gateway):
                    log.error("%s", err)
        finally:
            await close_gateway(gateway)
            log.info("gateway stopped cleanly")

    app = Starlette(
        routes=routes,
        middleware=[Middleware(RequestIdMiddleware), Middleware(RequestLimits)],
        exception_handlers={HTTPException: _http_error, GatewayError: _gateway_error,
                            Exception: _server_error},
        lifespan=lifespan,
    )
    # "/x/" is not redirected to "/x": Starlette builds that redirect from the request's
    # Host header, which a client chooses (an open redirect through the gateway's name).
    app.router.redirect_slashes = False
    return app
