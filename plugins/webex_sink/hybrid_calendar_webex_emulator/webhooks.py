"""Webhooks: ``/v1/webhooks`` CRUD and firing events (developer.webex.com/docs/api/v1/webhooks).

A webhook sees an event when its creator could see the resource: a member of the space
(``messages``, ``memberships``, ``rooms``, ``attachmentActions``), the meeting's host or,
with ``ownedBy: "org"`` and admin meeting scopes, any meeting of the organisation
(``meetings``), the Service App's developer or machine account (``serviceApp``). A
``filter`` of ``key=value`` pairs joined by ``&`` must match the event's ``data``.
"""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING, Any

from hybrid_calendar_webex_emulator.dispatch import Call, Route, route
from hybrid_calendar_webex_emulator.errors import bad_request, forbidden, not_found
from hybrid_calendar_webex_emulator.paging import page
from hybrid_calendar_webex_emulator.timeutil import iso

if TYPE_CHECKING:
    from hybrid_calendar_webex_emulator.state import WebexState

EVENTS: dict[str, frozenset[str]] = {
    "attachmentActions": frozenset({"created"}),
    "memberships": frozenset({"created", "updated", "deleted"}),
    "messages": frozenset({"created", "updated", "deleted"}),
    "rooms": frozenset({"created", "updated"}),
    "meetings": frozenset({"created", "updated", "deleted", "started", "ended"}),
    "serviceApp": frozenset({"authorized", "deauthorized"}),
}
"""Resources and events the emulator fires (``all`` subscribes to every event)."""

ADMIN_MEETING_SCOPES = frozenset({"meeting:admin_schedule_read", "meeting:admin_schedule_write"})

READ_SCOPES: dict[str, frozenset[str]] = {
    "attachmentActions": frozenset({"spark:messages_read"}),
    "messages": frozenset({"spark:messages_read"}),
    "memberships": frozenset({"spark:memberships_read"}),
    "rooms": frozenset({"spark:rooms_read"}),
    "meetings": frozenset({"meeting:schedules_read", "meeting:admin_schedule_read"}),
}
"""Webex: "Creating a webhook requires 'read' scope on the resource the webhook is for"."""

ORG_ONLY_FILTERS = ("hostEmail", "hostUserId", "ownerEmail", "ownerId")
"""Webex: with a filter on these, ``ownedBy`` must be ``org``."""


def public(webhook: dict[str, Any]) -> dict[str, Any]:
    """The webhook as the API shows it."""
    return {k: v for k, v in webhook.items() if not k.startswith("_")}


def _validate(body: dict[str, Any], partial: bool = False) -> None:
    for name in ("name", "targetUrl") + (() if partial else ("resource", "event")):
        if not isinstance(body.get(name), str) or not body[name].strip():
            raise bad_request(f"{name} is required.")
    url = urllib.parse.urlparse(body["targetUrl"])
    if url.scheme not in ("http", "https") or not url.netloc:
        raise bad_request("targetUrl must be an http or https URL.")
    if partial:
        return
    events = EVENTS.get(body["resource"])
    if events is None:
        raise bad_request(f"Unsupported resource: {body['resource']}.")
    if body["event"] != "all" and body["event"] not in events:
        raise bad_request(f"Unsupported event {body['event']} for resource "
                          f"{body['resource']}.")
    if body.get("ownedBy", "creator") not in ("creator", "org"):
        raise bad_request("ownedBy must be creator or org.")


def create(call: Call) -> dict[str, Any]:
    """``POST /webhooks``."""
    body = call.json_body()
    _validate(body)
    state = call.state
    webhook: dict[str, Any] = {
        "id": state.ids.webex_id("WEBHOOK"), "name": body["name"],
        "targetUrl": body["targetUrl"], "resource": body["resource"], "event": body["event"],
        "orgId": state.org_id, "createdBy": call.grant.person_id,
        "appId": state.app_id_for(call.grant), "ownedBy": body.get("ownedBy", "creator"),
        "status": "active", "created": iso(state.clock.now()),
        "_admin": bool(call.grant.scopes & ADMIN_MEETING_SCOPES), "_failures": 0,
    }
    needed = READ_SCOPES.get(webhook["resource"])
    if needed is not None and not call.grant.scopes & needed:
        raise forbidden(f"Creating a {webhook['resource']} webhook needs a read scope on "
                        f"{webhook['resource']}.")
    filter_keys = {k for k, _ in urllib.parse.parse_qsl(str(body.get("filter") or ""))}
    if filter_keys & set(ORG_ONLY_FILTERS) and webhook["ownedBy"] != "org":
        raise bad_request("A filter on hostEmail, hostUserId, ownerEmail or ownerId needs "
                          "ownedBy org.")
    if webhook["ownedBy"] == "org" and not webhook["_admin"]:
        raise forbidden("ownedBy org needs admin-level scopes.")
    for optional in ("filter", "secret"):
        if body.get(optional):
            webhook[optional] = str(body[optional])
    state.webhooks[webhook["id"]] = webhook
    return public(webhook)


def _own(call: Call) -> dict[str, Any]:
    webhook = call.state.webhooks.get(call.path_params["webhookId"])
    if webhook is None or webhook["createdBy"] != call.grant.person_id:
        raise not_found()
    return webhook


def list_webhooks(call: Call) -> Any:
    """``GET /webhooks``: the caller's webhooks (``ownedBy=org``: the organisation's)."""
    owned_by = call.param("ownedBy")
    items = [public(w) for w in call.state.webhooks.values()
             if w["createdBy"] == call.grant.person_id
             and (owned_by is None or w["ownedBy"] == owned_by)]
    return page(call, items, 100, 100)


def get(call: Call) -> dict[str, Any]:
    """``GET /webhooks/{webhookId}``."""
    return public(_own(call))


def update(call: Call) -> dict[str, Any]:
    """``PUT /webhooks/{webhookId}``: name, targetUrl, secret, ownedBy, status."""
    webhook = _own(call)
    body = call.json_body()
    _validate(body, partial=True)
    webhook["name"], webhook["targetUrl"] = body["name"], body["targetUrl"]
    if "secret" in body:
        webhook["secret"] = str(body["secret"])
    if body.get("status") is not None:
        if body["status"] not in ("active", "inactive"):
            raise bad_request("status must be active or inactive.")
        webhook["status"] = body["status"]
        webhook["_failures"] = 0
    return public(webhook)


def delete(call: Call) -> None:
    """``DELETE /webhooks/{webhookId}``: 204."""
    del call.state.webhooks[_own(call)["id"]]


def _filter_matches(filter_text: str | None, data: dict[str, Any]) -> bool:
    if not filter_text:
        return True
    for key, value in urllib.parse.parse_qsl(filter_text, keep_blank_values=True):
        actual = data.get(key)
        if isinstance(actual, bool):
            actual = str(actual).lower()
        if str(actual) != value:
            return False
    return True


def fire(state: WebexState, resource: str, event: str, data: dict[str, Any], actor_id: str,
         audience: set[str], *, org_wide: bool = False) -> int:
    """Deliver an event to every active webhook that sees it; returns how many.

    :param audience: person ids whose own webhooks see the event.
    :param org_wide: also webhooks ``ownedBy: "org"`` created with admin meeting scopes.
    """
    count = 0
    for webhook in list(state.webhooks.values()):
        if webhook["resource"] != resource or webhook["status"] != "active":
            continue
        if webhook["event"] not in ("all", event):
            continue
        sees = webhook["createdBy"] in audience or (
            org_wide and webhook["ownedBy"] == "org" and webhook["_admin"])
        if not sees or not _filter_matches(webhook.get("filter"), data):
            continue
        body = {**{k: v for k, v in public(webhook).items() if k != "secret"},
                "event": event, "actorId": actor_id, "data": data}
        state.delivery.send(webhook["targetUrl"], webhook.get("secret"), body,
                            dropped=state.faults.drop())
        count += 1
    return count


def record_outcome(state: WebexState, webhook_id: str, ok: bool) -> None:
    """Count a delivery's outcome; too many failures in a row make the webhook inactive."""
    with state.lock:
        webhook = state.webhooks.get(webhook_id)
        if webhook is None:
            return
        webhook["_failures"] = 0 if ok else webhook["_failures"] + 1
        if webhook["_failures"] >= state.settings.webhook_failure_limit:
            webhook["status"] = "inactive"


ROUTES: list[Route] = [
    route("POST", "/v1/webhooks", (), create),
    route("GET", "/v1/webhooks", (), list_webhooks),
    route("GET", "/v1/webhooks/{webhookId}", (), get),
    route("PUT", "/v1/webhooks/{webhookId}", (), update),
    route("DELETE", "/v1/webhooks/{webhookId}", (), delete),
]
