"""The OpenAPI 3.1 document of the gateway's HTTP API, served at ``/openapi.json``.

Written by hand next to the routes it describes; ``tests/admin/test_openapi.py`` fails
when a route is missing from it or it names a route that does not exist, and fuzzes the
running server with schemathesis (no 5xx, only documented statuses).
"""

from __future__ import annotations

from typing import Any

from hybrid_calendar import __version__

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


def _error(status: int) -> Json:
    return {"description": NAMES[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(status: int, description: str, schema: Json | None = None) -> Json:
    return {str(status): {"description": description, "content": {
        "application/json": {"schema": schema or OBJECT}}}}


def _path_param(name: str) -> Json:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"}}


def _query(name: str, schema: Json) -> Json:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def operation(summary: str, ok: Json, *, errors: tuple[int, ...] = (), write: bool = False,
              params: list[Json] | None = None, body: Json | None = None,
              public: bool = False) -> Json:
    """One operation: guarded ones answer 401 and 429, changes also 403."""
    statuses = set(errors)
    if not public:
        statuses |= {401, 429} | ({403} if write else set())
    if params and any(p["in"] == "path" for p in params):
        statuses.add(404)
    if body is not None:
        statuses.add(400)
    op: Json = {"summary": summary, "responses": {**ok, **{str(s): _error(s)
                                                           for s in sorted(statuses)}}}
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = body
    if public:
        op["security"] = []
    return op


def _json_body(schema: Json) -> Json:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


ORG = [_path_param("org_id")]
QUOTA: Json = {"type": "object", "required": ["org_id", "budgets"], "properties": {
    "org_id": {"type": "string"}, "budgets": {"type": "array", "items": {
        "type": "object", "required": ["name", "used", "limit", "window_seconds"],
        "properties": {"name": {"type": "string"}, "used": {"type": "integer"},
                       "limit": {"type": "integer"}, "window_seconds": {"type": "number"}}}}}}
USER = [_path_param("user_id")]
EMAIL = {"type": "string", "maxLength": 320}


def paths() -> Json:
    """Every documented path and method."""
    users_body = _json_body({"type": "object", "properties": {
        "email": EMAIL, "emails": {"type": "array", "items": EMAIL, "minItems": 1,
                                   "maxItems": 1000},
        "mark_verified": {"type": "boolean"}}})
    org_body = _json_body({"type": "object", "required": ["id"], "properties": {
        "id": {"type": "string"}, "name": {"type": "string"},
        "domain": {"type": "string"}, "domains": {"type": "array",
                                                  "items": {"type": "string"}}}})
    csv_body = {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    user_change = operation("Validate, re-validate or deactivate a user", _ok(202, "Queued"),
                            write=True, params=USER)
    return {
        "/healthz": {"get": operation("Process is up", _ok(200, "Up"), public=True)},
        "/readyz": {"get": operation("Store, plugins, KMS and engine ready",
                                     _ok(200, "Ready"), errors=(429, 503), public=True)},
        "/-/plugins.json": {"get": operation("Loaded plugins", _ok(200, "Plugins"),
                                             public=True)},
        "/openapi.json": {"get": operation("This document", _ok(200, "OpenAPI"),
                                           public=True)},
        "/metrics": {"get": {"summary": "Prometheus metrics", "security": [], "responses": {
            "200": {"description": "Exposition format",
                    "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/admin": {"get": {"summary": "The admin page (HTML; signs in with a credential)",
                           "security": [], "responses": {"200": {
                               "description": "HTML", "content": {
                                   "text/html": {"schema": {"type": "string"}}}}}}},
        "/api/v1/whoami": {"get": operation("The credential's name and role",
                                            _ok(200, "Principal"))},
        "/api/v1/status": {"get": operation("Job queue counts", _ok(200, "Counts"))},
        "/api/v1/audit": {"get": operation(
            "Audit log, newest first", _ok(200, "A page of entries"), errors=(400,),
            params=[_query("before", {"type": "integer", "minimum": 0}),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 200})])},
        "/api/v1/organisations": {
            "get": operation("Organisations", _ok(200, "Organisations")),
            "post": operation("Create an organisation", _ok(201, "Created"), errors=(409,),
                              write=True, body=org_body)},
        "/api/v1/organisations/{org_id}": {
            "get": operation("One organisation", _ok(200, "Organisation"), params=ORG)},
        "/api/v1/organisations/{org_id}/health": {
            "get": operation("Each budget the plugins enforce on the organisation's calls, "
                             "used against its limit", _ok(200, "Budgets", QUOTA),
                             params=ORG)},
        "/api/v1/organisations/{org_id}/users": {
            "get": operation("Users with state, reason and health", _ok(200, "Users"),
                             params=ORG),
            "post": operation("Activate users (refused outside the verified domains)",
                              _ok(202, "Accepted"), errors=(422,), write=True, params=ORG,
                              body=users_body)},
        "/api/v1/organisations/{org_id}/users/import": {
            "post": operation("Activate the addresses of a CSV", _ok(202, "Results"),
                              errors=(413,), write=True, params=ORG, body=csv_body)},
        "/api/v1/users/{user_id}/activate": {"post": user_change},
        "/api/v1/users/{user_id}/validate": {"post": user_change},
        "/api/v1/users/{user_id}/deactivate": {"post": user_change},
        "/api/v1/users/{user_id}/health": {
            "get": operation("Sync health", _ok(200, "Health"), params=USER)},
        "/api/v1/users/{user_id}/sync": {
            "post": operation("Queue a sync now", _ok(202, "Queued"), errors=(409, 503),
                              write=True, params=USER)},
        "/api/v1/users/{user_id}/meetings": {
            "get": operation("Meetings list", _ok(200, "Meetings"), errors=(400,), params=[
                *USER, _query("from", {"type": "string", "format": "date-time"}),
                _query("to", {"type": "string", "format": "date-time"})])},
        "/api/v1/users/{user_id}/notifications": {
            "get": operation("Outbox entries", _ok(200, "Notifications"), errors=(400,),
                             params=[*USER, _query("state", {"type": "string", "enum": [
                                 "pending", "delivered", "dead", "skipped"]})])},
        "/api/v1/users/{user_id}/dead-letters": {
            "get": operation("Dead letters", _ok(200, "Dead letters"), params=USER)},
    }


def document() -> Json:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hybrid Calendar gateway", "version": __version__,
                 "description": "Admin API. Credentials: `hybrid-calendar admin add NAME "
                                "--role admin|auditor`; send them as HTTP Basic."},
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {"basic": {"type": "http", "scheme": "basic"},
                                "bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"basic": []}, {"bearer": []}],
        "paths": paths(),
    }
