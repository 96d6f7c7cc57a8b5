"""Calendar v3 handlers other than events: channels, settings, ACL, freeBusy, calendars."""

from __future__ import annotations

import copy
from typing import Any

from hybrid_calendar_google_emulator import calendar_list
from hybrid_calendar_google_emulator.access import resolve
from hybrid_calendar_google_emulator.api_errors import ApiError, bad_request, not_found, required
from hybrid_calendar_google_emulator.dispatch import ApiResponse, Call, Handler
from hybrid_calendar_google_emulator.events import etag_for
from hybrid_calendar_google_emulator.listing import expand
from hybrid_calendar_google_emulator.query import ListQuery
from hybrid_calendar_google_emulator.timeutil import format_utc, parse_rfc3339

ACL_ROLES = frozenset({"none", "freeBusyReader", "reader", "writerWithoutPrivateAccess",
                       "writer", "owner"})


def channels_stop(call: Call) -> ApiResponse:
    """channels.stop (204; 404 for an unknown channel)."""
    body = call.json_body()
    if not body.get("id"):
        raise required("resource.id")
    if not body.get("resourceId"):
        raise required("resource.resourceId")
    if not call.state.channels.stop(str(body["id"]), str(body["resourceId"])):
        raise ApiError(404, "notFound",
                       f"Channel '{body['id']}' not found for project "
                       f"'{call.state.options.project_id}'")
    return ApiResponse(204)


def _setting(call: Call, name: str, value: str) -> dict[str, Any]:
    return {"kind": "calendar#setting", "etag": etag_for(abs(hash((call.user, name, value)))),
            "id": name, "value": value}


def settings_get(call: Call) -> dict[str, Any]:
    """settings.get (404 for an unknown setting id)."""
    user = call.state.user(call.user)
    name = call.path_params["setting"]
    if name not in user.settings:
        raise not_found()
    return _setting(call, name, user.settings[name])


def settings_list(call: Call) -> dict[str, Any]:
    """settings.list (single page)."""
    user = call.state.user(call.user)
    return {"kind": "calendar#settings", "etag": f'"{call.state.journal.seq}"',
            "items": [_setting(call, k, v) for k, v in sorted(user.settings.items())],
            "nextSyncToken": "00001"}


def _calendar_resource(call: Call, calendar_id: str) -> dict[str, Any]:
    return {"kind": "calendar#calendar", "etag": f'"{calendar_id.__hash__() & 0xffffff}"',
            "id": calendar_id, "summary": calendar_id,
            "timeZone": call.state.timezone_of(calendar_id),
            "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]}}


def calendars_get(call: Call) -> dict[str, Any]:
    """calendars.get."""
    calendar, _ = resolve(call.state, call.path_params["calendarId"], call.user,
                          "freeBusyReader")
    return _calendar_resource(call, calendar.id)


def acl_list(call: Call) -> dict[str, Any]:
    """acl.list."""
    calendar, _ = resolve(call.state, call.path_params["calendarId"], call.user, "owner")
    return {"kind": "calendar#acl", "etag": f'"{call.state.journal.seq}"',
            "items": [copy.deepcopy(r) for r in calendar.acl.values()],
            "nextSyncToken": "00001"}


def acl_get(call: Call) -> dict[str, Any]:
    """acl.get."""
    calendar, _ = resolve(call.state, call.path_params["calendarId"], call.user, "owner")
    rule = calendar.acl.get(call.path_params["ruleId"])
    if rule is None:
        raise not_found()
    return copy.deepcopy(rule)


def _acl_write(call: Call, rule_id: str | None) -> dict[str, Any]:
    calendar, _ = resolve(call.state, call.path_params["calendarId"], call.user, "owner")
    body = call.json_body()
    existing = calendar.acl.get(rule_id) if rule_id else None
    if rule_id and existing is None:
        raise not_found()
    role = body.get("role", existing["role"] if existing else None)
    if role not in ACL_ROLES:
        raise required("role") if role is None else bad_request("Invalid role.",
                                                                location="role")
    scope = body.get("scope") or (existing or {}).get("scope")
    if not isinstance(scope, dict) or not scope.get("type"):
        raise required("scope")
    if scope["type"] not in ("default", "user", "group", "domain"):
        raise bad_request("Invalid scope type.", location="scope.type")
    if scope["type"] != "default" and not scope.get("value"):
        raise required("scope.value")
    new_id = "default" if scope["type"] == "default" else \
        f"{scope['type']}:{str(scope['value']).lower()}"
    rule = {"kind": "calendar#aclRule",
            "etag": etag_for(call.state.journal.clock.tick()), "id": new_id,
            "scope": {"type": scope["type"],
                      **({"value": str(scope["value"]).lower()} if scope.get("value") else {})},
            "role": role}
    calendar.acl[new_id] = rule
    if call.state.options.acl_change_invalidates_sync_tokens:
        calendar.generation += 1
    return copy.deepcopy(rule)


def acl_insert(call: Call) -> dict[str, Any]:
    """acl.insert (``sendNotifications`` accepted and ignored)."""
    return _acl_write(call, None)


def acl_patch(call: Call) -> dict[str, Any]:
    """acl.patch / acl.update."""
    return _acl_write(call, call.path_params["ruleId"])


def acl_delete(call: Call) -> None:
    """acl.delete (204)."""
    calendar, _ = resolve(call.state, call.path_params["calendarId"], call.user, "owner")
    if calendar.acl.pop(call.path_params["ruleId"], None) is None:
        raise not_found()
    if call.state.options.acl_change_invalidates_sync_tokens:
        calendar.generation += 1


def freebusy_query(call: Call) -> dict[str, Any]:
    """freebusy.query: merged busy periods of opaque, non-cancelled, non-declined events."""
    body = call.json_body()
    for name in ("timeMin", "timeMax"):
        if not body.get(name):
            raise required(name)
    time_min = parse_rfc3339(str(body["timeMin"]), "timeMin")
    time_max = parse_rfc3339(str(body["timeMax"]), "timeMax")
    if time_min >= time_max:
        raise ApiError(400, "timeRangeEmpty", "The specified time range is empty.",
                       domain="calendar", location="timeMax", location_type="parameter")
    items = body.get("items") or []
    limit = min(int(body.get("calendarExpansionMax") or 50), 50)
    calendars: dict[str, Any] = {}
    for index, item in enumerate(items):
        cal_id = str(item.get("id", ""))
        key = call.user if cal_id == "primary" else cal_id
        if index >= limit:
            calendars[key] = {"errors": [{"domain": "calendar",
                                          "reason": "tooManyCalendarsRequested"}], "busy": []}
            continue
        try:
            calendar, _ = resolve(call.state, cal_id, call.user, "freeBusyReader")
        except ApiError:
            calendars[key] = {"errors": [{"domain": "global", "reason": "notFound"}],
                              "busy": []}
            continue
        calendars[key] = {"busy": _busy(call, calendar, time_min, time_max)}
    return {"kind": "calendar#freeBusy", "timeMin": format_utc(time_min),
            "timeMax": format_utc(time_max), "calendars": calendars}


def _busy(call: Call, calendar: Any, time_min: Any, time_max: Any) -> list[dict[str, str]]:
    from hybrid_calendar_google_emulator.events import bounds

    tz = call.state.timezone_of(calendar.id)
    query = ListQuery(time_min=time_min, time_max=time_max, single_events=True)
    periods = []
    candidates: list[dict[str, Any]] = []
    for event in calendar.events.values():
        if event.get("status") == "cancelled" or event.get("recurringEventId"):
            continue
        if event.get("recurrence"):
            candidates.extend(expand(calendar, event, query, tz,
                                     call.state.options.max_instances))
        else:
            candidates.append(event)
    for event in candidates:
        if event.get("status") == "cancelled" or event.get("transparency") == "transparent":
            continue
        if any(a.get("self") and a.get("responseStatus") == "declined"
               for a in event.get("attendees", [])):
            continue
        start, end = bounds(event, tz)
        if end > time_min and start < time_max:
            periods.append((max(start, time_min), min(end, time_max)))
    periods.sort()
    merged: list[list[Any]] = []
    for start, end in periods:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [{"start": format_utc(s).replace(".000Z", "Z"),
             "end": format_utc(e).replace(".000Z", "Z")} for s, e in merged]


HANDLERS: dict[str, Handler] = {
    "calendar.channels.stop": channels_stop,
    "calendar.settings.get": settings_get,
    "calendar.settings.list": settings_list,
    "calendar.calendars.get": calendars_get,
    "calendar.calendarList.list": calendar_list.calendar_list_list,
    "calendar.calendarList.get": calendar_list.calendar_list_get,
    "calendar.acl.list": acl_list,
    "calendar.acl.get": acl_get,
    "calendar.acl.insert": acl_insert,
    "calendar.acl.patch": acl_patch,
    "calendar.acl.update": acl_patch,
    "calendar.acl.delete": acl_delete,
    "calendar.freebusy.query": freebusy_query,
}
