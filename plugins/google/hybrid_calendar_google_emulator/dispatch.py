"""Transport-neutral request handling: routing by discovery document, auth, quota, faults.

The Starlette app and the batch endpoint both turn HTTP requests into :class:`ApiRequest`
and call :func:`Dispatcher.handle`; routes (method, path template, scopes) are read from
the discovery documents bundled with google-api-python-client, so paths and accepted scopes
are exactly Google's.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from hybrid_calendar_google_emulator.api_errors import (
    ApiError,
    auth_error,
    bad_request,
    insufficient_scopes,
)
from hybrid_calendar_google_emulator.fields import (
    Selector,
    apply_fields,
    check_fields,
    parse_fields,
)
from hybrid_calendar_google_emulator.state import EmulatorState
from hybrid_calendar_google_emulator.users import RequestRecord

QUOTA_COST: dict[str, int] = {"calendar.events.patch": 3, "calendar.calendars.patch": 3,
                              "calendar.calendarList.patch": 3, "calendar.acl.patch": 3}
"""Quota units per call where Google documents more than one: each Calendar ``patch``
"consumes three quota units; prefer using a get followed by an update" (the reference of
events, calendars, calendarList and acl ``patch``). Every other call costs one unit."""


@dataclass
class ApiRequest:
    """An HTTP request reduced to what the API needs."""

    method: str
    path: str
    """Raw (percent-encoded) path, no query."""
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
    def json(cls, status: int, data: Any, headers: dict[str, str] | None = None, *,
             pretty: bool = True) -> ApiResponse:
        """A JSON response (``application/json; charset=UTF-8``; ``prettyPrint``)."""
        text = json.dumps(data, indent=1) if pretty else json.dumps(data, separators=(",", ":"))
        return cls(status, text.encode(),
                   {"content-type": "application/json; charset=UTF-8", **(headers or {})})


@dataclass
class Call:
    """What a handler gets: state, caller, path parameters, query, body."""

    state: EmulatorState
    request: ApiRequest
    operation: str
    user: str
    scopes: frozenset[str]
    path_params: dict[str, str]

    def param(self, name: str) -> str | None:
        """Last value of query parameter ``name``."""
        values = [v for k, v in self.request.params if k == name]
        return values[-1] if values else None

    def json_body(self) -> dict[str, Any]:
        """The JSON request body (``{}`` when empty).

        :raises ApiError: 400 ``parseError`` for malformed JSON.
        """
        if not self.request.body.strip():
            return {}
        try:
            data = json.loads(self.request.body)
        except (ValueError, UnicodeDecodeError) as err:
            raise ApiError(400, "parseError", "Parse Error") from err
        if not isinstance(data, dict):
            raise ApiError(400, "parseError", "Parse Error")
        return data


Handler = Callable[[Call], "dict[str, Any] | ApiResponse | None"]


@dataclass
class Route:
    """One API method: HTTP method, compiled path template, scopes, handler."""

    method: str
    pattern: re.Pattern[str]
    names: list[str]
    operation: str
    scopes: frozenset[str]
    handler: Handler | None
    response: dict[str, Any] | None = None
    """The discovery response schema (``{"$ref": "Events"}``); ``None``: no body."""
    schemas: dict[str, Any] = field(default_factory=dict)
    """The discovery document's ``schemas`` (to check ``fields`` against)."""

    def selection(self, request: ApiRequest) -> Selector | None:
        """The request's parsed and schema-checked ``fields`` (``None``: everything).

        :raises ApiError: 400 ``invalidParameter`` (bad syntax or unknown field).
        """
        text = next((v for k, v in reversed(request.params) if k == "fields"), None)
        if not text:
            return None
        selector = parse_fields(text)
        check_fields(selector, self.response, self.schemas)
        return selector


def _discovery(name: str) -> dict[str, Any]:
    package = resources.files("googleapiclient") / "discovery_cache" / "documents" / name
    return dict(json.loads(package.read_text(encoding="utf-8")))


def _walk(resource: dict[str, Any]) -> list[dict[str, Any]]:
    methods = list(resource.get("methods", {}).values())
    for sub in resource.get("resources", {}).values():
        methods.extend(_walk(sub))
    return methods


def load_routes(handlers: dict[str, Handler]) -> list[Route]:
    """Routes for every method of the Calendar v3 and Gmail v1 discovery documents."""
    routes: list[Route] = []
    for doc_name, prefix in (("calendar.v3.json", "/calendar/v3/"), ("gmail.v1.json", "/")):
        doc = _discovery(doc_name)
        for method in _walk(doc):
            template = prefix + method.get("flatPath", method["path"])
            names = re.findall(r"\{\+?([^}]+)\}", template)
            regex = re.sub(r"\{\+?[^}]+\}", "([^/]+)", re.escape(template).replace(r"\{", "{")
                           .replace(r"\}", "}"))
            routes.append(Route(method["httpMethod"], re.compile(regex + "$"), names,
                                method["id"], frozenset(method.get("scopes", [])),
                                handlers.get(method["id"]), method.get("response"),
                                doc.get("schemas", {})))
    routes.sort(key=lambda r: len(r.names))
    return routes


class Dispatcher:
    """Authenticates, meters and routes API requests against an :class:`EmulatorState`."""

    def __init__(self, state: EmulatorState, handlers: dict[str, Handler]) -> None:
        self.state = state
        self.routes = load_routes(handlers)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route and decoded path parameters for ``method path``.

        ``HEAD`` is served as ``GET`` (HTTP semantics; the server drops the body).
        """
        if method == "HEAD":
            method = "GET"
        for route in self.routes:
            if route.method != method:
                continue
            found = route.pattern.match(path)
            if found:
                return route, {n: urllib.parse.unquote(v)
                               for n, v in zip(route.names, found.groups(), strict=True)}
        return None

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Serve one API request (never raises)."""
        operation: str | None = None
        user: str | None = None
        units = 0
        try:
            request = method_override(request)
            matched = self.match(request.method, request.path)
            if matched is None:
                raise ApiError(404, "notFound", "Not Found")
            route, path_params = matched
            operation = route.operation
            with self.state.lock:
                user, scopes = self.authenticate(request)
                if route.scopes and not scopes & route.scopes:
                    raise insufficient_scopes()
                # the per-user quota is charged to quotaUser when given, else to the
                # impersonated user (Google's accounting with domain-wide delegation)
                quota_user = next((v for k, v in request.params if k == "quotaUser"), user)
                cost = QUOTA_COST.get(route.operation, 1)
                self.state.quota.charge(quota_user, cost)
                units = cost
                fault = self.state.faults.check(request.method, request.path, user)
                if fault is not None:
                    raise fault
                if route.handler is None:
                    raise ApiError(501, "notImplemented",
                                   f"{route.operation} is not implemented by the emulator.")
                # Google rejects a bad ``fields`` before running the method
                selector = route.selection(request)
                call = Call(self.state, request, route.operation, user, scopes, path_params)
                result = route.handler(call)
            response = self.render(result, request, selector)
        except ApiError as err:
            # errors keep Google's default (indented) unless the request says prettyPrint=false
            pretty = next((v for k, v in reversed(request.params) if k == "prettyPrint"), "true")
            response = ApiResponse.json(err.code, err.body(), err.headers,
                                        pretty=pretty != "false")
        with self.state.lock:
            self.state.log_request(RequestRecord(request.method, request.path, user,
                                                 response.status, operation, units))
        return response

    def authenticate(self, request: ApiRequest) -> tuple[str, frozenset[str]]:
        """The impersonated user and scopes of the request's bearer token.

        :raises ApiError: 401 ``authError``.
        """
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        if token is None:
            token = next((v for k, v in request.params if k in ("oauth_token", "access_token")),
                         None)
        grant = self.state.tokens.lookup(token) if token else None
        if grant is None:
            raise auth_error()
        user = self.state.users.get(grant.email)
        if user is None or user.suspended or not user.delegated:
            raise auth_error()
        return grant.email, grant.scopes

    def render(self, result: dict[str, Any] | ApiResponse | None, request: ApiRequest,
               selector: Selector | None = None) -> ApiResponse:
        """Turn a handler result into a response, applying ``fields``."""
        if isinstance(result, ApiResponse):
            return result
        if result is None:
            return ApiResponse(204)
        etag = result.get("etag") if isinstance(result.get("etag"), str) else None
        if etag and request.method == "GET" and request.headers.get("if-none-match") == etag:
            return ApiResponse(304, b"", {"etag": etag})
        if selector is not None:
            result = apply_fields(result, selector)
        pretty = next((v for k, v in reversed(request.params) if k == "prettyPrint"), None)
        return ApiResponse.json(200, result, {"etag": etag} if etag else None,
                                pretty=pretty == "true" if pretty is not None
                                else self.state.options.pretty_print)


def method_override(request: ApiRequest) -> ApiRequest:
    """Honour ``X-HTTP-Method-Override`` (googleapiclient turns long GETs into POSTs)."""
    override = request.headers.get("x-http-method-override")
    if request.method != "POST" or not override:
        return request
    params = list(request.params)
    body = request.body
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        try:
            params += urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)
        except UnicodeDecodeError as err:
            raise bad_request("Invalid form body.") from err
        body = b""
    return ApiRequest(override.upper(), request.path, params, request.headers, body)
