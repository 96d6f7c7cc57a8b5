"""The ``POST``/``PUT /meetings`` body for a calendar event, within Webex's limits.

``title`` at most 128 characters, ``agenda`` at most 1300 (the invite's body without the
gateway's join block and without HTML), at most 1000 invitees (people, not rooms, not the
organiser), ``sendEmail: false`` (the calendar invite is the invitation), the organiser as
``hostEmail`` and the Google event id in ``integrationTags`` (find before create).
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

from hybrid_calendar.join_info.render import BEGIN_MARKER, END_MARKER

if TYPE_CHECKING:
    from hybrid_calendar.models import CalendarEvent, User

TAG_PREFIX = "gcal:"
MAX_TITLE = 128
MAX_AGENDA = 1300
MAX_INVITEES = 1000
MIN_DURATION = timedelta(minutes=10)
MAX_DURATION = timedelta(hours=24)

_TAGS = re.compile(r"<[^>]+>")
_BREAKS = re.compile(r"<(?:br|/p|/div|/li)\b[^>]*>", re.IGNORECASE)


def integration_tag(event_id: str) -> str:
    """The ``integrationTags`` entry of an event (at most 64 characters)."""
    tag = TAG_PREFIX + event_id
    if len(tag) <= 64:
        return tag
    return TAG_PREFIX + "h" + hashlib.sha256(event_id.encode()).hexdigest()[:58]


def agenda(description: str) -> str:
    """The invite's body as plain text, without the join block, cut to 1300 characters."""
    start = description.find(BEGIN_MARKER)
    if start >= 0:
        end = description.find(END_MARKER, start)
        description = description[:start] + (
            description[end + len(END_MARKER):] if end >= 0 else "")
    text = html.unescape(_TAGS.sub("", _BREAKS.sub("\n", description))).strip()
    return text[:MAX_AGENDA]


def recurrence(event: CalendarEvent) -> str | None:
    """The event's RRULE in Webex's form (``FREQ=...``), or ``None``."""
    for line in event.recurrence:
        if line.upper().startswith("RRULE:"):
            return line[6:]
    return None


def _iso(event: CalendarEvent, which: str) -> str:
    value = event.start if which == "start" else event.end
    assert value is not None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def meeting_body(user: User, event: CalendarEvent, site_url: str = "") -> dict[str, Any]:
    """The full body of a create or replace (``PUT``) for ``event`` hosted by ``user``."""
    organiser = user.email.casefold()
    invitees = [{"email": a.email, **({"displayName": a.display_name} if a.display_name
                                      else {})}
                for a in event.attendees
                if not a.resource and a.email.casefold() != organiser
                and a.response_status != "declined"][:MAX_INVITEES]
    body: dict[str, Any] = {
        "title": (event.summary.strip() or "Meeting")[:MAX_TITLE],
        "agenda": agenda(event.description),
        "start": _iso(event, "start"), "end": _iso(event, "end"),
        "timezone": event.time_zone or user.timezone or "UTC",
        "hostEmail": user.email, "invitees": invitees, "sendEmail": False,
        "enabledJoinBeforeHost": True, "joinBeforeHostMinutes": 5,
        "integrationTags": [integration_tag(event.id)],
    }
    rule = recurrence(event)
    if rule:
        body["recurrence"] = rule
    if site_url:
        body["siteUrl"] = site_url
    return body


def same_meeting(meeting: dict[str, Any], body: dict[str, Any]) -> bool:
    """True when Webex's meeting already has the body's title and times (and
    recurrence). Webex's meeting answer has no invitees: a change of attendees is seen by
    the caller (``follow``) from the stored meeting."""
    def minute(value: object) -> str:
        return str(value or "")[:16]
    return (meeting.get("title") == body["title"]
            and _instant(meeting.get("start")) == _instant(body["start"])
            and _instant(meeting.get("end")) == _instant(body["end"])
            and minute(meeting.get("recurrence")) == minute(body.get("recurrence")))


def _instant(value: object) -> str:
    from datetime import datetime

    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
