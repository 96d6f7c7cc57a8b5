"""The OpenAPI description of the people plugin's routes (hook ``describe_routes``):
the personal API, page, feed and stream (personal access token or session), the sign-in
link routes, and the administrator's access and webhook routes (admin credentials)."""

from __future__ import annotations

from typing import Any

from hybrid_calendar.admin.openapi import (
    Json,
    json_body,
    no_content,
    ok,
    operation,
    path_param,
    query_param,
)
from hybrid_calendar.people import webhooks

Described = tuple[str, str, Json]
USER = [path_param("user_id")]
HTML = "text/html"


def personal(summary: str, success: Json, *, errors: tuple[int, ...] = (),
             params: list[Json] | None = None) -> Json:
    """A route for the person themself: a personal access token (``Authorization:
    Bearer hcp_...``) or the session cookie of a sign-in link; 401 without one."""
    described = operation(summary, success, errors=(401, *errors), params=params,
                          public=True)
    described["security"] = [{"bearer": []}]
    described["description"] = ("A personal access token as Bearer, or the session "
                                "cookie a sign-in link sets; never admin credentials.")
    return described


def personal_routes() -> list[Described]:
    """The personal API, feed, stream and page."""
    return [
        ("/api/v1/me", "get", personal("Who the token belongs to", ok(200, "Identity"))),
        ("/api/v1/me/meetings", "get", personal("My meetings, in my time zone",
                                                 ok(200, "Meetings"))),
        ("/api/v1/me/presence", "get", personal("My out-of-office state",
                                                 ok(200, "Presence"))),
        ("/api/v1/me/sync", "get", personal("My activation state and last sync",
                                             ok(200, "Sync state"))),
        ("/api/v1/me/calendar.ics", "get", personal(
            "My meetings as an iCalendar feed", ok(200, "iCalendar", media_type="text/calendar"),
            params=[query_param("token", {"type": "string"})])),
        ("/api/v1/me/stream", "get", personal(
            "Server-sent events: Join buttons, meetings changes, presence",
            ok(200, "Event stream", media_type="text/event-stream"),
            params=[{"name": "Last-Event-ID", "in": "header", "required": False,
                     "schema": {"type": "string"}}])),
        ("/me", "get", personal("My meetings page", ok(200, "HTML", media_type=HTML))),
        ("/me/fragment", "get", personal("The page's meetings list",
                                          ok(200, "HTML", media_type=HTML))),
        ("/me/static/{name}", "get", personal(
            "The page's script and style", {"200": {"description": "The file", "content": {
                media: {"schema": {"type": "string"}}
                for media in ("text/javascript", "text/css")}}},
            errors=(404,), params=[path_param("name")])),
    ]


def signin_routes() -> list[Described]:
    """Sign-in links and sign-out."""
    code = query_param("code", {"type": "string", "maxLength": 200})
    form = {"required": True, "content": {"application/x-www-form-urlencoded": {
        "schema": {"type": "object", "properties": {"code": {"type": "string"}}}}}}
    sign_in = operation("Use a sign-in link's code once; sets the session cookie",
                        no_content(303, "Signed in; redirected to /me"), errors=(401,),
                        public=True)
    sign_in["requestBody"] = form
    sign_out = personal("Revoke my session", no_content(303, "Signed out; redirected"))
    return [
        ("/me/sign-in", "get", operation("The one-button sign-in form of a link",
                                         ok(200, "HTML", media_type=HTML), errors=(401,),
                                         params=[code], public=True)),
        ("/me/sign-in", "post", sign_in),
        ("/me/sign-out", "post", sign_out),
        ("/me/signed-out", "get", operation("Signed out", ok(200, "HTML", media_type=HTML),
                                            public=True)),
    ]


def admin_routes() -> list[Described]:
    """The administrator's access and webhook routes (admin credentials)."""
    grant = json_body({"type": "object", "properties": {
        "kind": {"type": "string", "enum": ["token", "link"]},
        "audience": {"type": "string", "enum": ["person", "room"]},
        "days": {"type": "number", "exclusiveMinimum": 0, "maximum": 366},
        "label": {"type": "string", "maxLength": 200}}}, required=False)
    hook = json_body({"type": "object", "required": ["url"], "properties": {
        "url": {"type": "string", "maxLength": 2000},
        "events": {"type": "array", "minItems": 1,
                   "items": {"type": "string", "enum": sorted(webhooks.EVENT_TYPES)}},
        "allow_host": {"type": "string"}}})
    hook_id = [path_param("hook_id")]
    return [
        ("/api/v1/users/{user_id}/access", "post", operation(
            "Issue a personal token or sign-in link (the secret is shown once)",
            ok(201, "Issued"), write=True, params=USER, body=grant)),
        ("/api/v1/users/{user_id}/access", "get", operation(
            "The user's grants (no secrets)", ok(200, "Grants"), params=USER)),
        ("/api/v1/users/{user_id}/access", "delete", operation(
            "Revoke every grant of the user", ok(200, "Revoked"), write=True, params=USER)),
        ("/api/v1/access/{access_id}", "delete", operation(
            "Revoke one grant and the sessions made from it", ok(200, "Revoked"),
            write=True, params=[path_param("access_id")])),
        ("/api/v1/organisations/{org_id}/webhooks", "post", operation(
            "Register a signed-webhook endpoint (its secret is shown once)",
            ok(201, "Registered"), write=True, params=[path_param("org_id")], body=hook)),
        ("/api/v1/organisations/{org_id}/webhooks", "get", operation(
            "The organisation's webhook endpoints (no secrets)", ok(200, "Endpoints"),
            params=[path_param("org_id")])),
        ("/api/v1/webhooks/{hook_id}", "delete", operation(
            "Remove an endpoint and its queued messages", ok(200, "Removed"), write=True,
            params=hook_id)),
        ("/api/v1/webhooks/{hook_id}/deliveries", "get", operation(
            "Messages to an endpoint with state, attempts and last failure",
            ok(200, "Deliveries"), errors=(400,), params=[
                *hook_id, query_param("state", {"type": "string", "enum": [
                    "pending", "delivered", "dead"]})])),
    ]


def routes() -> list[tuple[str, str, dict[str, Any]]]:
    """``(path, method, operation)`` of every route the plugin registers."""
    return [*personal_routes(), *signin_routes(), *admin_routes()]
