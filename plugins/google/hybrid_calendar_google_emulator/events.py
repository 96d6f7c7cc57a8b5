"""Event resources: creation, PATCH/PUT semantics, cancellation, instances, tombstones."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import secrets
import string
from typing import Any

from hybrid_calendar_google_emulator.api_errors import ApiError, bad_request
from hybrid_calendar_google_emulator.recurrence import instance_id
from hybrid_calendar_google_emulator.timeutil import (
    as_instant,
    event_time,
    format_local,
    format_utc,
    stamp_to_datetime,
    zone,
)

READ_ONLY = frozenset({"kind", "etag", "id", "htmlLink", "created", "updated", "creator",
                       "iCalUID", "recurringEventId", "originalStartTime", "hangoutLink"})
SIGNIFICANT = ("start", "end", "recurrence", "location", "status")
"""Changing one of these bumps ``sequence`` (iCalendar SEQUENCE)."""
RESPONSE_STATUSES = frozenset({"needsAction", "declined", "tentative", "accepted"})


def etag_for(stamp_us: int) -> str:
    """Google's etag form: a quoted microsecond timestamp."""
    return f'"{stamp_us}"'


def validate_times(event: dict[str, Any], default_tz: str) -> None:
    """Check start/end presence, order, and a time zone on recurring timed events.

    :raises ApiError: 400 ``required`` / ``timeRangeEmpty`` / ``invalid``.
    """
    if "start" not in event:
        raise bad_request("Missing start time.", "required", location="start")
    if "end" not in event:
        raise bad_request("Missing end time.", "required", location="end")
    start = event_time(event["start"], default_tz, "start")
    end = event_time(event["end"], default_tz, "end")
    if isinstance(start, dt.datetime) != isinstance(end, dt.datetime):
        raise bad_request("Start and end times must either both be date or both be dateTime.")
    tz = zone(default_tz)
    if as_instant(end, tz) < as_instant(start, tz):
        raise ApiError(400, "timeRangeEmpty", "The specified time range is empty.",
                       domain="calendar", location="end", location_type="parameter")
    if event.get("recurrence") and isinstance(start, dt.datetime) \
            and not event["start"].get("timeZone"):
        raise bad_request("Missing time zone definition for start time.",
                          location="start.timeZone")


def _attendees(attendees: Any, organizer: str, actor: str) -> list[dict[str, Any]]:
    if not isinstance(attendees, list):
        raise bad_request("Invalid attendees.", location="attendees")
    result = []
    for raw in attendees:
        if not isinstance(raw, dict) or not raw.get("email"):
            raise bad_request("Missing attendee email.", "required", location="attendees.email")
        item = dict(raw)
        item["email"] = str(item["email"]).strip()
        item.setdefault("responseStatus", "needsAction")
        if item["responseStatus"] not in RESPONSE_STATUSES:
            raise bad_request("Invalid attendee responseStatus.", location="attendees")
        item.pop("organizer", None)
        item.pop("self", None)
        if item["email"].lower() == organizer.lower():
            item["organizer"] = True
        if item["email"].lower() == actor.lower():
            item["self"] = True
        result.append(item)
    return result


def make_conference(data: dict[str, Any], existing: dict[str, Any] | None,
                    requests: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``conferenceData`` as stored: a ``createRequest`` for Meet creates a conference."""
    request = data.get("createRequest")
    if not isinstance(request, dict):
        return copy.deepcopy(data)
    request_id = request.get("requestId")
    if not request_id:
        raise bad_request("Missing conference request id.", "required",
                          location="conferenceData.createRequest.requestId")
    if request_id in requests:  # same requestId: ignored, previous result returned
        return copy.deepcopy(requests[request_id])
    if existing and existing.get("createRequest", {}).get("requestId") == request_id:
        return copy.deepcopy(existing)
    key = (request.get("conferenceSolutionKey") or {}).get("type", "hangoutsMeet")
    if key not in ("hangoutsMeet", "eventHangout", "eventNamedHangout"):
        conference: dict[str, Any] = {"createRequest": {"requestId": request_id,
                                        "conferenceSolutionKey": {"type": key},
                                        "status": {"statusCode": "failure"}}}
        requests[request_id] = conference
        return copy.deepcopy(conference)
    letters = string.ascii_lowercase
    code = "-".join("".join(secrets.choice(letters) for _ in range(n)) for n in (3, 4, 3))
    pin = "".join(secrets.choice(string.digits) for _ in range(13))
    conference = {
        "createRequest": {"requestId": request_id, "conferenceSolutionKey": {"type": key},
                          "status": {"statusCode": "success"}},
        "entryPoints": [
            {"entryPointType": "video", "uri": f"https://meet.google.com/{code}",
             "label": f"meet.google.com/{code}"},
            {"entryPointType": "more", "uri": f"https://tel.meet/{code}?pin={pin}",
             "pin": pin},
        ],
        "conferenceSolution": {"key": {"type": key}, "name": "Google Meet",
                               "iconUri": "https://fonts.gstatic.com/s/i/productlogos/"
                                          "meet_2020q4/v6/web-512dp/logo_meet_2020q4_color_2x_web_512dp.png"},
        "conferenceId": code,
        "signature": secrets.token_urlsafe(18),
    }
    requests[request_id] = conference
    return copy.deepcopy(conference)


def _apply_conference(event: dict[str, Any], body: dict[str, Any], version: int,
                      requests: dict[str, dict[str, Any]]) -> None:
    if "conferenceData" not in body or version < 1:
        return
    data = body["conferenceData"]
    if data is None:
        event.pop("conferenceData", None)
        event.pop("hangoutLink", None)
        return
    conference = make_conference(data, event.get("conferenceData"), requests)
    event["conferenceData"] = conference
    for point in conference.get("entryPoints", []):
        if point.get("entryPointType") == "video" and \
                "meet.google.com" in str(point.get("uri", "")):
            event["hangoutLink"] = point["uri"]


def build_event(body: dict[str, Any], *, calendar_id: str, organizer: str, actor: str,
                event_id: str, stamp_us: int, default_tz: str, conference_version: int,
                conference_requests: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A new event resource from an ``events.insert`` body (validated)."""
    supplied = {k: copy.deepcopy(v) for k, v in body.items()
                if k not in READ_ONLY and k != "conferenceData"}
    validate_times(supplied, default_tz)
    now = format_utc(stamp_to_datetime(stamp_us))
    event: dict[str, Any] = {
        "kind": "calendar#event", "etag": etag_for(stamp_us), "id": event_id,
        "status": body.get("status") or "confirmed",
        "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
        "created": now, "updated": now,
    }
    event.update(supplied)
    event.update({
        "creator": {"email": actor, **({"self": True} if actor == calendar_id else {})},
        "organizer": {"email": organizer,
                      **({"self": True} if organizer == calendar_id else {})},
        "iCalUID": body.get("iCalUID") or f"{event_id}@google.com",
        "sequence": int(body.get("sequence") or 0),
        "reminders": body.get("reminders") or {"useDefault": True},
        "eventType": body.get("eventType") or "default",
    })
    event["status"] = body.get("status") or "confirmed"
    if "attendees" in event:
        event["attendees"] = _attendees(event["attendees"], organizer, calendar_id)
    _apply_conference(event, body, conference_version, conference_requests)
    return event


def merge_patch(target: dict[str, Any], changes: dict[str, Any]) -> None:
    """PATCH semantics: objects merge recursively, arrays and scalars replace, null deletes."""
    for key, value in changes.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict) \
                and key not in ("start", "end"):
            merge_patch(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def update_event(existing: dict[str, Any], body: dict[str, Any], *, calendar_id: str,
                 stamp_us: int, default_tz: str, conference_version: int,
                 conference_requests: dict[str, dict[str, Any]], replace: bool
                 ) -> dict[str, Any]:
    """The event after ``events.patch`` (``replace=False``) or ``events.update``."""
    changes = {k: v for k, v in body.items() if k not in READ_ONLY and k != "conferenceData"}
    if "eventType" in changes and changes["eventType"] != existing.get("eventType", "default"):
        raise bad_request("The event type cannot be changed.", location="eventType")
    attendees_omitted = bool(changes.pop("attendeesOmitted", False))
    event = copy.deepcopy(existing)
    if replace:
        kept = {k: event[k] for k in READ_ONLY | {"organizer", "conferenceData", "eventType",
                                                  "reminders", "status", "sequence"}
                if k in event}
        event = {**kept, **copy.deepcopy(changes)}
    else:
        new_attendees = changes.pop("attendees", None)
        merge_patch(event, changes)
        if new_attendees is not None:
            event["attendees"] = copy.deepcopy(new_attendees)
        if attendees_omitted and new_attendees is not None:
            by_email = {a["email"].lower(): a for a in existing.get("attendees", [])}
            for item in new_attendees:
                current = by_email.get(str(item.get("email", "")).lower())
                if current is not None:
                    current.update({k: v for k, v in item.items() if k != "email"})
            event["attendees"] = list(by_email.values())
    organizer = event.get("organizer", {}).get("email", calendar_id)
    if "attendees" in event:
        event["attendees"] = _attendees(event["attendees"], organizer, calendar_id)
    if event.get("recurringEventId"):
        event.pop("recurrence", None)
    validate_times(event, default_tz)
    _apply_conference(event, body, conference_version, conference_requests)
    if any(event.get(k) != existing.get(k) for k in SIGNIFICANT) and "sequence" not in body:
        event["sequence"] = int(existing.get("sequence", 0)) + 1
    elif "sequence" in body:
        event["sequence"] = int(body["sequence"])
    event["etag"] = etag_for(stamp_us)
    event["updated"] = format_utc(stamp_to_datetime(stamp_us))
    return event


def cancel_event(existing: dict[str, Any], stamp_us: int) -> dict[str, Any]:
    """The event marked ``status: cancelled`` (kept as a tombstone)."""
    event = copy.deepcopy(existing)
    event["status"] = "cancelled"
    event["etag"] = etag_for(stamp_us)
    event["updated"] = format_utc(stamp_to_datetime(stamp_us))
    return event


def tombstone(event: dict[str, Any]) -> dict[str, Any]:
    """What list/sync returns for a cancelled event: only the guaranteed fields."""
    result = {"kind": "calendar#event", "etag": event["etag"], "id": event["id"],
              "status": "cancelled"}
    for key in ("recurringEventId", "originalStartTime"):
        if key in event:
            result[key] = event[key]
    return result


def _event_date_time(value: dt.datetime | dt.date, tz_name: str | None) -> dict[str, Any]:
    if isinstance(value, dt.datetime):
        result: dict[str, Any] = {"dateTime": format_local(value)}
        if tz_name:
            result["timeZone"] = tz_name
        return result
    return {"date": value.isoformat()}


def render_instance(master: dict[str, Any], original: dt.datetime | dt.date,
                    default_tz: str) -> dict[str, Any]:
    """The generated (unmodified) instance of ``master`` originally at ``original``."""
    tz_name = master["start"].get("timeZone")
    start = event_time(master["start"], default_tz, "start")
    end = event_time(master["end"], default_tz, "end")
    duration = as_instant(end, zone(default_tz)) - as_instant(start, zone(default_tz))
    if isinstance(original, dt.datetime):
        new_end: dt.datetime | dt.date = (original + duration).astimezone(original.tzinfo)
    else:
        new_end = original + dt.timedelta(days=duration.days)
    instance = {k: copy.deepcopy(v) for k, v in master.items() if k != "recurrence"}
    instance["id"] = instance_id(master["id"], original)
    instance["recurringEventId"] = master["id"]
    instance["originalStartTime"] = _event_date_time(original, tz_name)
    instance["start"] = _event_date_time(original, tz_name)
    instance["end"] = _event_date_time(new_end, master["end"].get("timeZone") or tz_name)
    return instance


@functools.lru_cache(maxsize=65_536)
def _render_date_time(text: str, event_tz: str | None, target_tz: str) -> str | None:
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(event_tz, target_tz))
    return format_local(parsed.astimezone(zone(target_tz)))


def localize(event: dict[str, Any], tz_name: str) -> dict[str, Any]:
    """``event`` with ``dateTime`` values expressed in ``tz_name`` (the response time zone:
    the ``timeZone`` parameter or the calendar's zone, as Google documents)."""
    result = dict(event)
    for key in ("start", "end", "originalStartTime"):
        value = event.get(key)
        if not isinstance(value, dict) or not value.get("dateTime"):
            continue
        rendered = _render_date_time(str(value["dateTime"]), value.get("timeZone"), tz_name)
        if rendered is not None and rendered != value["dateTime"]:
            result[key] = {**value, "dateTime": rendered}
    return result


def bounds(event: dict[str, Any], default_tz: str) -> tuple[dt.datetime, dt.datetime]:
    """Aware ``(start, end)`` of an event (all-day: local midnights in ``default_tz``)."""
    tz = zone(default_tz)
    start = as_instant(event_time(event["start"], default_tz, "start"), tz)
    end = as_instant(event_time(event["end"], default_tz, "end"), tz)
    return start, end
