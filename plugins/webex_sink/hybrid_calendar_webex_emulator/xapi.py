"""Cloud xAPI (``/v1/xapi``) for the ``Bookings`` commands and statuses.

developer.webex.com/docs/api/v1/xapi: ``POST /xapi/command/{commandName}`` with
``{"deviceId", "arguments"?, "body"?}`` answers ``{"deviceId", "arguments", "result"}``;
``GET /xapi/status?deviceId=&name=`` (at most 10 comma-separated expressions, ``*``
wildcards) answers ``{"deviceId", "result": {...}}``. Commands: ``Bookings.Put`` (body
``{"Booking": {...}}`` or ``{"Bookings": [...]}``, as an object or a JSON string),
``Bookings.List`` (``Days``, ``DayOffset``, ``Limit``, ``Offset``), ``Bookings.Get``
(``Id``), ``Bookings.Clear``, ``Bookings.Delete`` (``Id``). A device that is not
``connected`` answers the ``offline_device_status`` setting.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from hybrid_calendar_webex_emulator.dispatch import Call, Route, route
from hybrid_calendar_webex_emulator.errors import ApiError, bad_request, not_found
from hybrid_calendar_webex_emulator.timeutil import iso, parse

COMMANDS = ("spark:xapi_commands",)
STATUSES = ("spark:xapi_statuses",)


def _device(call: Call, device_id: object) -> dict[str, Any]:
    device = call.state.devices.get(str(device_id or ""))
    if device is None or "xapi" not in device["capabilities"]:
        raise not_found("Device not found.")
    caller = call.state.people[call.grant.person_id]
    org_wide = "full_admin" in caller["roles"] or caller["type"] == "appuser"
    if not org_wide and device.get("personId") != caller["id"]:
        raise not_found("Device not found.")
    if device["connectionStatus"] != "connected":
        raise ApiError(call.state.settings.offline_device_status, "The device is offline.")
    return device


def normalise(raw: object) -> dict[str, Any]:
    """A booking as ``Bookings.List`` shows it (``Time.EndTime`` computed from ``Duration``).

    :raises ApiError: 400 for a booking without ``Id`` or a valid ``Time.StartTime``.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("Id"), str) or not raw["Id"]:
        raise bad_request("Each booking needs an Id.")
    booking: dict[str, Any] = json.loads(json.dumps(raw))
    time = booking.get("Time")
    if not isinstance(time, dict):
        raise bad_request("Each booking needs Time.StartTime.")
    start = parse(time.get("StartTime"), "Time.StartTime")
    if "EndTime" in time:
        end = parse(time["EndTime"], "Time.EndTime")
    else:
        try:
            end = start + timedelta(minutes=int(time.get("Duration", 0)))
        except (TypeError, ValueError) as err:
            raise bad_request("Time.Duration must be minutes.") from err
    if end <= start:
        raise bad_request("A booking must end after it starts.")
    time.update({"StartTime": iso(start).replace(".000", ""),
                 "EndTime": iso(end).replace(".000", ""),
                 "StartTimeBuffer": int(time.get("StartTimeBuffer", 300)),
                 "EndTimeBuffer": int(time.get("EndTimeBuffer", 0))})
    booking.setdefault("BookingStatus", "OK")
    return booking


def _put(call: Call, device: dict[str, Any], body: object) -> dict[str, Any]:
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError as err:
            raise bad_request("The Bookings.Put body is not valid JSON.") from err
    if not isinstance(body, dict) or not ({"Booking", "Bookings"} & set(body)):
        raise bad_request('The body must be {"Booking": {...}} or {"Bookings": [...]}.')
    current = call.state.bookings.setdefault(device["id"], [])
    if "Bookings" in body:
        if not isinstance(body["Bookings"], list):
            raise bad_request("Bookings must be a list.")
        incoming = [normalise(b) for b in body["Bookings"]]
        if call.state.settings.bookings_put_list_replaces:
            current.clear()
    else:
        incoming = [normalise(body["Booking"])]
    for booking in incoming:
        current[:] = [b for b in current if b["Id"] != booking["Id"]] + [booking]
    current.sort(key=lambda b: b["Time"]["StartTime"])
    # the xAPI reference's example answers the booking that was put
    return {"Bookings": incoming} if "Bookings" in body else {"Booking": incoming[0]}


def _list(call: Call, device: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    bookings = list(call.state.bookings.get(device["id"], []))
    now = call.state.clock.now()
    if "Days" in args or "DayOffset" in args:
        try:
            days, offset = int(args.get("Days", 1)), int(args.get("DayOffset", 0))
        except (TypeError, ValueError) as err:
            raise bad_request("Days and DayOffset must be integers.") from err
        if not (1 <= days <= 365 and 0 <= offset <= 365):
            raise bad_request("Days must be 1..365 and DayOffset 0..365.")
        first = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(offset)
        last = first + timedelta(days)
        bookings = [b for b in bookings if parse(b["Time"]["EndTime"], "EndTime") > first
                    and parse(b["Time"]["StartTime"], "StartTime") < last]
    total = len(bookings)
    skip = int(args.get("Offset", 0))
    limit = int(args.get("Limit", total or 1))
    shown = [{"id": str(skip + index + 1), **b}
             for index, b in enumerate(bookings[skip:skip + limit])]
    return {"ResultInfo": {"TotalRows": total}, "LastUpdated": iso(now).replace(".000", ""),
            "Booking": shown}


def command(call: Call) -> dict[str, Any]:
    """``POST /xapi/command/{commandName}``."""
    body = call.json_body()
    device = _device(call, body.get("deviceId"))
    name = call.path_params["commandName"]
    args = body.get("arguments") or {}
    if not isinstance(args, dict):
        raise bad_request("arguments must be an object.")
    bookings = call.state.bookings.setdefault(device["id"], [])
    if name == "Bookings.Put":
        result = _put(call, device, body.get("body"))
    elif name == "Bookings.List":
        result = _list(call, device, args)
    elif name == "Bookings.Clear":
        bookings.clear()
        result = {"status": "OK"}
    elif name in ("Bookings.Get", "Bookings.Delete"):
        found = next((b for b in bookings if b["Id"] == str(args.get("Id"))), None)
        if found is None:
            raise bad_request(f"No booking with Id {args.get('Id')}.")
        if name == "Bookings.Delete":
            bookings.remove(found)
        result = {"Booking": found} if name == "Bookings.Get" else {"status": "OK"}
    else:
        raise bad_request(f"Unknown command: {name}.")
    return {"deviceId": device["id"], "arguments": args, "result": result}


def status_tree(bookings: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """The ``Bookings`` status of a device with ``bookings`` at ``now``."""
    current = next((b for b in bookings
                    if parse(b["Time"]["StartTime"], "StartTime")
                    - timedelta(seconds=b["Time"]["StartTimeBuffer"]) <= now
                    < parse(b["Time"]["EndTime"], "EndTime")), None)
    availability: dict[str, Any] = {"Status": "Free"}
    if current is not None:
        availability = {"Status": "BookedUntil", "TimeStamp": current["Time"]["EndTime"]}
    return {"Bookings": {"Availability": availability,
                         "Current": {"Id": current["Id"] if current else ""}}}


def _select(tree: dict[str, Any], parts: list[str]) -> dict[str, Any] | None:
    if not parts or parts[0] == "*":
        return tree
    key = next((k for k in tree if k.lower() == parts[0].lower()), None)
    if key is None:
        return None
    value = tree[key]
    if len(parts) == 1:
        return {key: value}
    if not isinstance(value, dict):
        return None
    inner = _select(value, parts[1:])
    return None if inner is None else {key: inner}


def _merge(into: dict[str, Any], part: dict[str, Any]) -> None:
    for key, value in part.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def status(call: Call) -> dict[str, Any]:
    """``GET /xapi/status?deviceId=&name=``."""
    device = _device(call, call.param("deviceId"))
    names = [n.strip() for n in (call.param("name") or "").split(",") if n.strip()]
    if not names or len(names) > 10:
        raise bad_request("name needs 1 to 10 status expressions.")
    tree = status_tree(call.state.bookings.get(device["id"], []), call.state.clock.now())
    result: dict[str, Any] = {}
    for name in names:
        part = _select(tree, name.replace(" ", ".").split("."))
        if part is not None:
            _merge(result, part)
    return {"deviceId": device["id"], "result": result}


ROUTES: list[Route] = [
    route("POST", "/v1/xapi/command/{commandName}", COMMANDS, command),
    route("GET", "/v1/xapi/status", STATUSES, status),
]
