"""Transport-neutral request handling: routing, tokens, scopes, rate limits, faults.

The Starlette app turns each ``/v1`` request into an :class:`ApiRequest` and calls
:meth:`Dispatcher.handle`, which checks in this order (each failure answers at once, with
Webex's error body and a ``trackingId``):

======================================  ===========================================
check                                   answer
======================================  ===========================================
no route for the path                   404
path known, method not                  405
missing/unknown/expired/revoked token   401
per-token rate limit exceeded           429 + ``Retry-After``, no body
injected fault matches                  the injected status
token lacks every scope the route takes 403
handler raises                          its status (400, 403, 404, 409, 423, ...)
handler trips over a malformed body     400
======================================  ===========================================

Every response carries a ``TrackingID`` header.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hybrid_calendar_webex_emulator.auth import Grant
from hybrid_calendar_webex_emulator.errors import (
    ApiError,
    bad_request,
    forbidden,
    method_not_allowed,
    not_found,
    unauthorized,
)
from hybrid_calendar_webex_emulator.ids import tracking_id

if TYPE_CHECKING:
    from hybrid_calendar_webex_emulator.state import WebexState

log = logging.getLogger(__name__)

JSON_TYPE = "application/json;charset=UTF-8"


@dataclass
class ApiRequest:
    """An HTTP request reduced to what the API needs."""

    method: str
    path: str
    """Decoded path, no query (``/v1/...``)."""
    params: list[tuple[str, str]]
    headers: dict[str, str]
    """Lower-case header names."""
    body: bytes = b""


@dataclass
class ApiResponse:
    """A response: status, body bytes, headers."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, data: Any, headers: dict[str, str] | None = None,
             ) -> ApiResponse:
        """A JSON response."""
        return cls(status, json.dumps(data, separators=(",", ":")).encode(),
                   {"Content-Type": JSON_TYPE, **(headers or {})})


@dataclass
class Call:
    """What a handler gets: state, caller's grant, path parameters, query, body."""

    state: WebexState
    request: ApiRequest
    grant: Grant
    path_params: dict[str, str]

    def param(self, name: str) -> str | None:
        """Last value of query parameter ``name`` (``None`` when absent or empty)."""
        values = [v for k, v in self.request.params if k == name]
        return values[-1] if values and values[-1] != "" else None

    def bool_param(self, name: str) -> bool | None:
        """A ``true``/``false`` query parameter.

        :raises ApiError: 400 for any other value.
        """
        value = self.param(name)
        if value is None:
            return None
        if value.lower() not in ("true", "false"):
            raise bad_request(f"Invalid value for {name}: must be true or false.")
        return value.lower() == "true"

    def has_scope(self, *scopes: str) -> bool:
        """Whether the caller's token carries any of ``scopes``."""
        return bool(self.grant.scopes & set(scopes))

    def json_body(self) -> dict[str, Any]:
        """The JSON request body (``{}`` when empty).

        :raises ApiError: 400 for malformed JSON or a body that is not an object.
        """
        if not self.request.body.strip():
            return {}
        try:
            data = json.loads(self.request.body)
        except (ValueError, UnicodeDecodeError) as err:
            raise bad_request("The request body is not valid JSON.") from err
        if not isinstance(data, dict):
            raise bad_request("The request body must be a JSON object.")
        return data


Handler = Callable[[Call], "dict[str, Any] | ApiResponse | None"]


@dataclass
class Route:
    """One API operation: method, path template, accepted scopes (any of), handler."""

    method: str
    template: str
    scopes: frozenset[str]
    handler: Handler
    pattern: re.Pattern[str] = field(init=False)
    names: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.names = re.findall(r"\{([^}]+)\}", self.template)
        self.pattern = re.compile(re.sub(r"\\\{[^}]+\\\}", "([^/]+)",
                                         re.escape(self.template)) + "$")


def route(method: str, template: str, scopes: Iterable[str], handler: Handler) -> Route:
    """Declare a route (``scopes`` empty: any valid token)."""
    return Route(method, template, frozenset(scopes), handler)


class Dispatcher:
    """Authenticates, meters and routes API requests against a :class:`WebexState`."""

    def __init__(self, state: WebexState, routes: list[Route]) -> None:
        self.state = state
        # literal segments win over parameters (``/people/me`` before ``/people/{id}``)
        self.routes = sorted(routes, key=lambda r: len(r.names))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route and decoded path parameters.

        :raises ApiError: 404 unknown path, 405 known path with another method.
        """
        path_known = False
        for candidate in self.routes:
            found = candidate.pattern.match(path)
            if not found:
                continue
            path_known = True
            if candidate.method == method or (method == "HEAD" and candidate.method == "GET"):
                return candidate, {n: urllib.parse.unquote(v)
                                   for n, v in zip(candidate.names, found.groups(),
                                                   strict=True)}
        raise method_not_allowed() if path_known else not_found()

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Serve one API request (never raises)."""
        tid = tracking_id()
        token: str | None = None
        try:
            matched_route, path_params = self.match(request.method, request.path)
            with self.state.lock:
                grant = self.authenticate(request)
                token = grant.token
                self.state.rate_limits.charge(grant.token, self.state.clock.now())
                fault = self.state.faults.check(request.method, request.path, grant.person_id)
                if fault is not None:
                    raise fault
                if matched_route.scopes and not grant.scopes & matched_route.scopes:
                    raise forbidden()
                try:
                    result = matched_route.handler(Call(self.state, request, grant,
                                                        path_params))
                except (TypeError, ValueError, KeyError, AttributeError) as err:
                    # a body of the wrong shape that a handler did not check field by field
                    log.info("request rejected: %s", type(err).__name__)
                    raise bad_request("The request was invalid or cannot be otherwise "
                                      "served.") from err
            response = render(result)
        except ApiError as err:
            body = err.body(tid)
            response = (ApiResponse.json(err.status, body, err.headers) if body is not None
                        else ApiResponse(err.status, b"", dict(err.headers)))
        response.headers["TrackingID"] = tid
        with self.state.lock:
            self.state.log_request(request.method, request.path, token, response.status)
        return response

    def authenticate(self, request: ApiRequest) -> Grant:
        """The grant of the request's bearer token.

        :raises ApiError: 401.
        """
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            raise unauthorized()
        grant = self.state.tokens.lookup(header[7:].strip(), self.state.clock.now())
        if grant is None:
            raise unauthorized()
        return grant


def render(result: dict[str, Any] | ApiResponse | None) -> ApiResponse:
    """Turn a handler result into a response (``None``: 204 No Content)."""
    if isinstance(result, ApiResponse):
        return result
    if result is None:
        return ApiResponse(204)
    return ApiResponse.json(200, result)
