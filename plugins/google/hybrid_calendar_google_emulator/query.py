"""Parsing and validating ``events.list`` / ``events.instances`` query parameters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hybrid_calendar_google_emulator.api_errors import ApiError, bad_request
from hybrid_calendar_google_emulator.timeutil import parse_rfc3339

Params = list[tuple[str, str]]

SYNC_FORBIDDEN = ("iCalUID", "orderBy", "privateExtendedProperty", "q",
                  "sharedExtendedProperty", "timeMin", "timeMax", "updatedMin")
"""Parameters Google rejects beside ``syncToken`` (sync guide: 400)."""
PAGE_KEY_IGNORED = frozenset({"pageToken", "fields", "alt", "prettyPrint", "key",
                              "quotaUser", "userIp", "oauth_token", "maxResults"})


def get_one(params: Params, name: str) -> str | None:
    """The last value of ``name`` or ``None``."""
    values = [v for k, v in params if k == name]
    return values[-1] if values else None


def get_bool(params: Params, name: str, default: bool = False) -> bool:
    """A boolean parameter (``true``/``false``).

    :raises ApiError: 400 for other values.
    """
    value = get_one(params, name)
    if value is None:
        return default
    if value.lower() not in ("true", "false"):
        raise bad_request(f"Invalid value for {name}", location=name)
    return value.lower() == "true"


def get_int(params: Params, name: str, default: int, lo: int, hi: int | None) -> int:
    """An integer parameter clamped to ``hi``; below ``lo`` is a 400."""
    value = get_one(params, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError as err:
        raise bad_request(f"Invalid value '{value}'. Values must match the following regular "
                          "expression: '-?\\d+'", location=name) from err
    if number < lo:
        raise bad_request(f"Invalid value '{value}'. Values must be >= {lo}", location=name)
    return min(number, hi) if hi is not None else number


def _props(params: Params, name: str) -> list[tuple[str, str]]:
    result = []
    for value in (v for k, v in params if k == name):
        key, sep, wanted = value.partition("=")
        if not sep or not key:
            raise bad_request(f"Invalid {name} value.", location=name)
        result.append((key, wanted))
    return result


@dataclass
class ListQuery:
    """A validated events.list / events.instances query."""

    max_results: int = 250
    page_token: str | None = None
    sync_token: str | None = None
    single_events: bool = False
    show_deleted: bool = False
    time_min: dt.datetime | None = None
    time_max: dt.datetime | None = None
    updated_min: dt.datetime | None = None
    order_by: str | None = None
    q: str | None = None
    private_props: list[tuple[str, str]] = field(default_factory=list)
    shared_props: list[tuple[str, str]] = field(default_factory=list)
    ical_uid: str | None = None
    event_types: list[str] = field(default_factory=list)
    original_start: str | None = None
    time_zone: str | None = None
    max_attendees: int | None = None
    page_key: str = ""


def parse_list_query(params: Params, *, instances: bool = False) -> ListQuery:
    """Validate the query of events.list (or events.instances).

    :raises ApiError: 400 for malformed values, forbidden combinations with ``syncToken``,
        ``orderBy=startTime`` without ``singleEvents``, and an empty time range.
    """
    query = ListQuery()
    query.max_results = get_int(params, "maxResults", 250, 1, 2500)
    query.page_token = get_one(params, "pageToken")
    query.sync_token = None if instances else get_one(params, "syncToken")
    query.single_events = True if instances else get_bool(params, "singleEvents")
    query.show_deleted = get_bool(params, "showDeleted")
    if query.sync_token is not None:
        present = [name for name in SYNC_FORBIDDEN if get_one(params, name) is not None]
        if present:
            raise bad_request(f"The request parameter {present[0]} can not be used together "
                              "with syncToken.", location=present[0])
        if get_one(params, "showDeleted") is not None and not query.show_deleted:
            raise bad_request("showDeleted can not be set to false together with syncToken.",
                              location="showDeleted")
        query.show_deleted = True
    for name in ("timeMin", "timeMax", "updatedMin"):
        value = get_one(params, name)
        if value is not None:
            setattr(query, {"timeMin": "time_min", "timeMax": "time_max",
                            "updatedMin": "updated_min"}[name], parse_rfc3339(value, name))
    if query.time_min and query.time_max and query.time_min >= query.time_max:
        raise ApiError(400, "timeRangeEmpty", "The specified time range is empty.",
                       domain="calendar", location="timeMax", location_type="parameter")
    query.order_by = get_one(params, "orderBy")
    if query.order_by not in (None, "startTime", "updated"):
        raise bad_request(f"Invalid value for orderBy: {query.order_by}", location="orderBy")
    if query.order_by == "startTime" and not query.single_events:
        raise bad_request("The requested ordering is not available for the particular query.",
                          location="orderBy")
    query.q = get_one(params, "q")
    query.private_props = _props(params, "privateExtendedProperty")
    query.shared_props = _props(params, "sharedExtendedProperty")
    query.ical_uid = get_one(params, "iCalUID")
    query.event_types = [v for k, v in params if k == "eventTypes"]
    query.original_start = get_one(params, "originalStart")
    query.time_zone = get_one(params, "timeZone")
    max_attendees = get_one(params, "maxAttendees")
    query.max_attendees = get_int(params, "maxAttendees", 0, 1, None) if max_attendees else None
    query.page_key = "&".join(f"{k}={v}" for k, v in sorted(params)
                              if k not in PAGE_KEY_IGNORED)
    return query
