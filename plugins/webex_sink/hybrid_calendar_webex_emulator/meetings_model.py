"""Meeting objects: Webex's validation of a create/update body and the resulting series.

Validation (developer.webex.com/docs/api/v1/meetings/create-a-meeting, and the limits
wxc-sdk's ``CreateMeetingBody`` documents): ``title`` required, at most 128 characters;
``agenda`` at most 1300; ``start`` not before the current minute and before ``end``;
duration 10 minutes to 24 hours; seconds dropped, a start inside the current minute moves
to the next minute; ``recurrence`` an RFC 2445 rule; at most 1000 ``invitees``; at most 3
``integrationTags`` of 64 characters; ``joinBeforeHostMinutes`` 0, 5, 10 or 15;
``scheduledType`` ``meeting``, ``webinar`` or ``personalRoomMeeting`` (the last takes no
``templateId``, ``roomId``, ``integrationTags`` or registration and uses the host's
Personal Room number, link and SIP address).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from dateutil import rrule

from hybrid_calendar_webex_emulator.errors import bad_request
from hybrid_calendar_webex_emulator.people import CALL_IN_NUMBERS, DIAL_IN_IP
from hybrid_calendar_webex_emulator.timeutil import (
    ceil_minute,
    floor_minute,
    local,
    parse,
    zone,
)

if TYPE_CHECKING:
    from hybrid_calendar_webex_emulator.state import WebexState

SCHEDULED_TYPES = ("meeting", "webinar", "personalRoomMeeting")
MAX_OCCURRENCES = 1826
"""Webex: at most 1826 occurrences (a daily meeting over five years)."""
MAX_AHEAD = timedelta(days=3652)
"""Webex: no meeting that starts 10 years or more in the future."""
SERIES_REACH = timedelta(days=1826)
"""Webex: the furthest date of a recurring series is five years from its creation."""
EXCEPTION_SLACK = timedelta(days=7)
"""How far an updated scheduled meeting may move and still be listed in its new window."""


def _check_text(body: dict[str, Any], name: str, limit: int, required: bool) -> None:
    value = body.get(name)
    if value is None:
        if required:
            raise bad_request(f"{name} is required.")
        return
    if not isinstance(value, str) or (required and not value.strip()):
        raise bad_request(f"{name} must be a non-empty string.")
    if len(value) > limit:
        raise bad_request(f"{name} cannot be longer than {limit} characters.")


def validate(body: dict[str, Any], now: datetime, *, check_past: bool = True,
             ) -> tuple[datetime, datetime]:
    """Check a full meeting body; returns the (rounded) start and end.

    :raises ApiError: 400 naming the first problem.
    """
    _check_text(body, "title", 128, True)
    _check_text(body, "agenda", 1300, False)
    start, end = parse(body.get("start"), "start"), parse(body.get("end"), "end")
    current = floor_minute(now)
    if check_past and start < current:
        raise bad_request("start cannot be before current date and time.")
    start = current + timedelta(minutes=1) if floor_minute(start) == current and check_past \
        else floor_minute(start)
    end = ceil_minute(end)
    if end <= start:
        raise bad_request("end cannot be before or equal to start.")
    if end - start < timedelta(minutes=10):
        raise bad_request("The duration of the meeting must be at least 10 minutes.")
    if end - start > timedelta(hours=24):
        raise bad_request("The duration of the meeting cannot exceed 24 hours.")
    if start >= now + MAX_AHEAD:
        raise bad_request("A meeting cannot start 10 years or more in the future.")
    zone(body.get("timezone", "UTC"))
    scheduled = body.get("scheduledType", "meeting")
    if scheduled not in SCHEDULED_TYPES:
        raise bad_request(f"Invalid scheduledType: {scheduled}.")
    tags = body.get("integrationTags")
    if tags is not None:
        if scheduled == "personalRoomMeeting":
            raise bad_request("integrationTags is not supported for personalRoomMeeting.")
        if (not isinstance(tags, list) or len(tags) > 3
                or any(not isinstance(t, str) or not t or len(t) > 64 for t in tags)):
            raise bad_request("integrationTags allows at most 3 tags of at most 64 "
                              "characters.")
    if scheduled == "personalRoomMeeting":
        for field in ("templateId", "roomId", "registration"):
            if body.get(field):
                raise bad_request(f"{field} is not supported for personalRoomMeeting.")
    invitees = body.get("invitees", [])
    if not isinstance(invitees, list) or len(invitees) > 1000:
        raise bad_request("invitees must be a list of at most 1000 entries.")
    for invitee in invitees:
        if not isinstance(invitee, dict) or "@" not in str(invitee.get("email", "")):
            raise bad_request("Each invitee needs a valid email.")
    if body.get("joinBeforeHostMinutes", 0) not in (0, 5, 10, 15):
        raise bad_request("joinBeforeHostMinutes must be 0, 5, 10 or 15.")
    recurrence = body.get("recurrence")
    if recurrence:
        try:
            rrule.rrulestr(str(recurrence), dtstart=start)
        except (ValueError, TypeError) as err:
            raise bad_request(f"Invalid recurrence: {recurrence}.") from err
    return start, end


def build(state: WebexState, body: dict[str, Any], host: dict[str, Any], start: datetime,
          end: datetime, existing: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stored meeting series (public fields plus ``_`` internals)."""
    tz = zone(body.get("timezone", host.get("timezone", "UTC")))
    site = state.settings.site
    scheduled = body.get("scheduledType", "meeting")
    meeting: dict[str, Any] = dict(existing or {})
    if existing is None:
        meeting["_until"] = (state.clock.now() + SERIES_REACH).isoformat()
        number = state.ids.digits(11, "2")
        meeting.update({
            "id": state.ids.hex32(), "meetingNumber": number,
            "password": body.get("password") or state.ids.password(),
            "phoneAndVideoSystemPassword": state.ids.digits(8),
            "hostKey": state.ids.digits(6),
            "webLink": f"https://{site}/{site.split('.')[0]}/j.php?MTID=m{state.ids.hex32()}",
            "sipAddress": f"{number}@{site}", "_cancelled": [],
        })
        if scheduled == "personalRoomMeeting":
            pmr = host["_pmr"]
            meeting.update({"meetingNumber": pmr["telephony"]["accessCode"],
                            "webLink": pmr["personalMeetingRoomLink"],
                            "sipAddress": pmr["sipAddress"]})
    elif body.get("password"):
        meeting["password"] = body["password"]
    meeting.update({
        "title": body["title"], "meetingType": "meetingSeries", "timezone": tz.key,
        "start": local(start, tz), "end": local(end, tz),
        "hostUserId": host["id"], "hostDisplayName": host["displayName"],
        "hostEmail": host["emails"][0], "siteUrl": site, "dialInIpAddress": DIAL_IN_IP,
        "enabledAutoRecordMeeting": bool(body.get("enabledAutoRecordMeeting", False)),
        "allowAnyUserToBeCoHost": bool(body.get("allowAnyUserToBeCoHost", False)),
        "enabledJoinBeforeHost": bool(body.get("enabledJoinBeforeHost", False)),
        "enableConnectAudioBeforeHost": bool(body.get("enableConnectAudioBeforeHost", False)),
        "joinBeforeHostMinutes": int(body.get("joinBeforeHostMinutes", 0)),
        "excludePassword": bool(body.get("excludePassword", False)),
        "publicMeeting": bool(body.get("publicMeeting", False)),
        "allowAuthenticatedDevices": bool(body.get("allowAuthenticatedDevices", False)),
        "scheduledType": scheduled, "sessionTypeId": 3 if scheduled != "webinar" else 9,
        "telephony": {"accessCode": meeting["meetingNumber"],
                      "callInNumbers": CALL_IN_NUMBERS,
                      "links": [{"rel": "globalCallinNumbers", "method": "GET",
                                 "href": f"/v1/meetings/{meeting['id']}/globalCallinNumbers"}]},
        "_invitees": list(body.get("invitees", [])),
    })
    for optional in ("agenda", "recurrence", "integrationTags", "roomId", "templateId"):
        if body.get(optional) is not None:
            meeting[optional] = body[optional]
        else:
            meeting.pop(optional, None)
    return meeting


def _all_starts(meeting: dict[str, Any], window_end: datetime) -> list[datetime]:
    """Every series start before ``window_end`` (ordinal = list index)."""
    start = datetime.fromisoformat(meeting["start"].replace("Z", "+00:00"))
    if not meeting.get("recurrence"):
        return [start]
    rule = rrule.rrulestr(meeting["recurrence"],
                          dtstart=start.astimezone(zone(meeting["timezone"])))
    until = datetime.fromisoformat(meeting.get("_until", "9999-12-31T00:00:00+00:00"))
    starts: list[datetime] = []
    for occurrence in rule:
        if occurrence >= window_end or occurrence > until or len(starts) >= MAX_OCCURRENCES:
            break
        starts.append(occurrence)
    return starts


def occurrence_starts(meeting: dict[str, Any], window_start: datetime,
                      window_end: datetime) -> list[datetime]:
    """Starts of the series' scheduled meetings that overlap the window (UTC-aware),
    without the cancelled ones."""
    start = datetime.fromisoformat(meeting["start"].replace("Z", "+00:00"))
    duration = datetime.fromisoformat(meeting["end"].replace("Z", "+00:00")) - start
    cancelled = set(meeting.get("_cancelled", []))
    return [s for ordinal, s in enumerate(_all_starts(meeting, window_end))
            if s < window_end and s + duration > window_start and ordinal not in cancelled]


def cancel(meeting: dict[str, Any], scheduled_ids: list[str]) -> None:
    """Cancel scheduled meetings by id (remembered by their place in the series, so they
    stay cancelled when the series moves)."""
    wanted = set(scheduled_ids)
    stamps = [datetime.strptime(i.rpartition("_")[2], "%Y%m%dT%H%M%SZ").replace(
        tzinfo=zone("UTC")) for i in wanted]
    if not stamps:
        return
    starts = _all_starts(meeting, max(stamps) + timedelta(seconds=1))
    cancelled = meeting.setdefault("_cancelled", [])
    cancelled.extend(ordinal for ordinal, s in enumerate(starts)
                     if occurrence_id(meeting["id"], s) in wanted and ordinal not in cancelled)


def occurrence_id(series_id: str, start: datetime) -> str:
    """``<seriesId>_<start as 20261201T090000Z>``, Webex's scheduled meeting id."""
    return f"{series_id}_{start.astimezone(zone('UTC')):%Y%m%dT%H%M%SZ}"


def occurrence(meeting: dict[str, Any], start: datetime, now: datetime) -> dict[str, Any]:
    """The scheduled meeting of ``meeting`` whose series start is ``start``; an updated
    one carries its own fields and ``isModified: true`` (its id stays the same)."""
    series_start = datetime.fromisoformat(meeting["start"].replace("Z", "+00:00"))
    series_end = datetime.fromisoformat(meeting["end"].replace("Z", "+00:00"))
    tz = zone(meeting["timezone"])
    end = start + (series_end - series_start)
    result = {k: v for k, v in meeting.items() if not k.startswith("_") and k != "recurrence"}
    result.update({"id": occurrence_id(meeting["id"], start), "meetingSeriesId": meeting["id"],
                   "meetingType": "scheduledMeeting", "start": local(start, tz),
                   "end": local(end, tz), "isModified": False})
    exception = meeting.get("_exceptions", {}).get(result["id"])
    if exception:
        result.update(exception)
        result["isModified"] = True
        end = datetime.fromisoformat(result["end"].replace("Z", "+00:00"))
    result["state"] = "scheduled" if end > now else "missed"
    return result


def scheduled_meetings(meeting: dict[str, Any], window_start: datetime,
                       window_end: datetime, now: datetime) -> list[dict[str, Any]]:
    """The series' scheduled meetings overlapping the window, updated ones where they
    now are (moves of up to :data:`EXCEPTION_SLACK` are found)."""
    result = []
    for start in occurrence_starts(meeting, window_start - EXCEPTION_SLACK,
                                   window_end + EXCEPTION_SLACK):
        shown = occurrence(meeting, start, now)
        shown_start = datetime.fromisoformat(shown["start"].replace("Z", "+00:00"))
        shown_end = datetime.fromisoformat(shown["end"].replace("Z", "+00:00"))
        if shown_start < window_end and shown_end > window_start:
            result.append(shown)
    return result


def series_state(meeting: dict[str, Any], now: datetime) -> str:
    """``active`` while an occurrence is still to come or running, else ``expired``."""
    far = now + timedelta(days=3660)
    return "active" if occurrence_starts(meeting, now, far) else "expired"
