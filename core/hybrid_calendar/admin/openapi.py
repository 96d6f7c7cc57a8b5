"""The OpenAPI 3.1 document of the gateway's HTTP API, served at ``/openapi.json``.

The core's routes are described here by hand, next to the routes; each plugin describes
the routes it registers through the ``describe_routes`` hook, with the helpers of this
module (:func:`operation`, :func:`path_param`, :func:`query_param`, :func:`json_body`,
:func:`ok`, :func:`no_content`, :func:`plain_errors`). :func:`document` puts the two
together; :func:`mismatches` compares it with the routes an app serves (the app logs
what a plugin left undescribed; ``tests/admin/test_openapi.py`` fails on any difference
and fuzzes the running server with schemathesis: no 5xx, only documented statuses).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute, Route

from hybrid_calendar import __version__

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

Json = dict[str, Any]

ERROR: Json = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                   "request_id": {"type": ["string", "null"]}}}}}
OBJECT: Json = {"type": "object"}
NAMES = {400: "Bad request", 401: "Missing or wrong credentials",
         403: "The credential's role may only read", 404: "Not found",
         409: "Conflict", 413: "Body too large", 422: "Refused (see error.code)",
         429: "Too many refused sign-ins; see Retry-After", 503: "Not ready"}
ERROR_REF: Json = {"$ref": "#/components/schemas/Error"}


def _error(status: int) -> Json:
    return {"description": NAMES[status],
            "content": {"application/json": {"schema": ERROR_REF}}}


def ok(status: int, description: str, schema: Json | None = None,
       media_type: str = "application/json") -> Json:
    """A success response with a body (``{"<status>": {...}}``, to merge into
    ``responses``)."""
    return {str(status): {"description": description, "content": {
        media_type: {"schema": schema or (OBJECT if "json" in media_type
                                          else {"type": "string"})}}}}


def no_content(status: int, description: str) -> Json:
    """A response without a body (``{"<status>": {...}}``)."""
    return {str(status): {"description": description}}


def plain_errors(statuses: dict[int, str]) -> Json:
    """Error responses with a ``text/plain`` body (a webhook receiver's answers)."""
    return {str(status): {"description": words, "content": {
        "text/plain": {"schema": {"type": "string"}}}} for status, words in statuses.items()}


def path_param(name: str) -> Json:
    """A path parameter of the id form the gateway uses (letters, digits, ``._-``)."""
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"}}


def query_param(name: str, schema: Json) -> Json:
    """An optional query parameter."""
    return {"name": name, "in": "query", "required": False, "schema": schema}




def operation(summary: str, success: Json, *, errors: tuple[int, ...] = (),
              write: bool = False, params: list[Json] | None = None, body: Json | None = None,
              public: bool = False) -> Json:
    """One operation answering ``success`` (from :func:`ok` or :func:`no_content`) and
    JSON errors: guarded ones (admin credentials) answer 401 and 429, changes also 403;
    with a path parameter 404, with a body 400; ``public`` needs no admin credential."""
    statuses = set(errors)
    if not public:
        statuses |= {401, 429} | ({403} if write else set())
    if params and any(p["in"] == "path" for p in params):
        statuses.add(404)
    if body is not None:
        statuses.add(400)
    op: Json = {"summary": summary, "responses": {**success, **{str(s): _error(s)
                                                           for s in sorted(statuses)}}}
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = body
    if public:
        op["security"] = []
    return op


def json_body(schema: Json, *, required: bool = True) -> Json:
    """A JSON request body."""
    return {"required": required, "content": {"application/json": {"schema": schema}}}



ORG = [path_param("org_id")]
QUOTA: Json = {"type": "object", "required": ["org_id", "budgets"], "properties": {
    "org_id": {"type": "string"}, "budgets": {"type": "array", "items": {
        "type": "object", "required": ["name", "used", "limit", "window_seconds"],
        "properties": {"name": {"type": "string"}, "used": {"type": "integer"},
                       "limit": {"type": "integer"}, "window_seconds": {"type": "number"}}}}}}
USER = [path_param("user_id")]
EMAIL = {"type": "string", "maxLength": 320}


def paths() -> Json:
    """Every documented path and method."""
    users_body = json_body({"type": "object", "properties": {
        "email": EMAIL, "emails": {"type": "array", "items": EMAIL, "minItems": 1,
                                   "maxItems": 1000},
        "mark_verified": {"type": "boolean"}}})
    org_body = json_body({"type": "object", "required": ["id"], "properties": {
        "id": {"type": "string"}, "name": {"type": "string"},
        "domain": {"type": "string"}, "domains": {"type": "array",
                                                  "items": {"type": "string"}}}})
    csv_body = {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    user_change = operation("Validate, re-validate or deactivate a user", ok(202, "Queued"),
                            write=True, params=USER)
    return {
        "/healthz": {"get": operation("Process is up", ok(200, "Up"), public=True)},
        "/readyz": {"get": operation("Store, plugins, KMS and engine ready",
                                     ok(200, "Ready"), errors=(429, 503), public=True)},
        "/-/plugins.json": {"get": operation("Loaded plugins", ok(200, "Plugins"))},
        "/openapi.json": {"get": operation("This document", ok(200, "OpenAPI"),
                                           public=True)},
        "/metrics": {"get": {"summary": "Prometheus metrics", "security": [], "responses": {
            "200": {"description": "Exposition format",
                    "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/admin": {"get": {"summary": "The admin page (HTML; signs in with a credential)",
                           "security": [], "responses": {"200": {
                               "description": "HTML", "content": {
                                   "text/html": {"schema": {"type": "string"}}}}}}},
        "/api/v1/whoami": {"get": operation("The credential's name and role",
                                            ok(200, "Principal"))},
        "/api/v1/status": {"get": operation("Job queue counts", ok(200, "Counts"))},
        "/api/v1/audit": {"get": operation(
            "Audit log, newest first", ok(200, "A page of entries"), errors=(400,),
            params=[query_param("before", {"type": "integer", "minimum": 0}),
                    query_param("limit", {"type": "integer", "minimum": 1, "maximum": 200})])},
        "/api/v1/organisations": {
            "get": operation("Organisations", ok(200, "Organisations")),
            "post": operation("Create an organisation", ok(201, "Created"), errors=(409,),
                              write=True, body=org_body)},
        "/api/v1/organisations/{org_id}": {
            "get": operation("One organisation", ok(200, "Organisation"), params=ORG)},
        "/api/v1/organisations/{org_id}/health": {
            "get": operation("Each budget the plugins enforce on the organisation's calls, "
                             "used against its limit", ok(200, "Budgets", QUOTA),
                             params=ORG)},
        "/api/v1/organisations/{org_id}/users": {
            "get": operation("Users with state, reason and health", ok(200, "Users"),
                             params=ORG),
            "post": operation("Activate users (refused outside the verified domains)",
                              ok(202, "Accepted"), errors=(422,), write=True, params=ORG,
                              body=users_body)},
        "/api/v1/organisations/{org_id}/users/import": {
            "post": operation("Activate the addresses of a CSV", ok(202, "Results"),
                              errors=(413,), write=True, params=ORG, body=csv_body)},
        "/api/v1/users/{user_id}/activate": {"post": user_change},
        "/api/v1/users/{user_id}/validate": {"post": user_change},
        "/api/v1/users/{user_id}/deactivate": {"post": user_change},
        "/api/v1/users/{user_id}/health": {
            "get": operation("Sync health", ok(200, "Health"), params=USER)},
        "/api/v1/users/{user_id}/sync": {
            "post": operation("Queue a sync now", ok(202, "Queued"), errors=(409, 503),
                              write=True, params=USER)},
        "/api/v1/users/{user_id}/meetings": {
            "get": operation("Meetings list", ok(200, "Meetings"), errors=(400,), params=[
                *USER, query_param("from", {"type": "string", "format": "date-time"}),
                query_param("to", {"type": "string", "format": "date-time"})])},
        "/api/v1/users/{user_id}/notifications": {
            "get": operation("Outbox entries", ok(200, "Notifications"), errors=(400,),
                             params=[*USER, query_param("state", {"type": "string", "enum": [
                                 "pending", "delivered", "dead", "skipped"]})])},
        "/api/v1/users/{user_id}/dead-letters": {
            "get": operation("Dead letters", ok(200, "Dead letters"), params=USER)},
    }


def document(gateway: Gateway | None = None) -> Json:
    """The whole OpenAPI document: the core's paths and, with a gateway, the routes its
    plugins described (hook ``describe_routes``)."""
    documented = paths()
    if gateway is not None:
        for path, method, described in gateway.hooks.describe_routes(gateway):
            documented.setdefault(path, {})[method] = described
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hybrid Calendar gateway", "version": __version__,
                 "description": "Admin API, and the routes of the enabled plugins. "
                                "Admin credentials: `hybrid-calendar admin add NAME "
                                "--role admin|auditor`; send them as HTTP Basic. Personal "
                                "routes take a personal access token as Bearer."},
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {"basic": {"type": "http", "scheme": "basic"},
                                "bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"basic": []}, {"bearer": []}],
        "paths": documented,
    }


def served_operations(routes: Iterable[BaseRoute]) -> set[tuple[str, str]]:
    """``(path, method)`` of every route an app serves (``HEAD`` goes with ``GET``)."""
    return {(r.path, m.lower()) for r in routes if isinstance(r, Route)
            for m in (r.methods or ()) if m != "HEAD"}


def mismatches(routes: Iterable[BaseRoute], spec: Json
               ) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """``(served but not documented, documented but not served)``."""
    served = served_operations(routes)
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    return served - documented, documented - served
