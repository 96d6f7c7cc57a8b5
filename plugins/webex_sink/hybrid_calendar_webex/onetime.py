"""One-time (scheduled) Webex meetings for ``@webex:onetime``: find before create.

The Google event id is in the meeting's ``integrationTags``; before creating, the
organiser's meetings around the event's time are listed with ``integrationTag=``, so a
crash between creating the meeting and writing the invite, a re-sync, or a second gateway
process finds the meeting instead of making another.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hybrid_calendar.models import JoinInfo
from hybrid_calendar_webex.meeting_body import integration_tag, meeting_body

if TYPE_CHECKING:
    from hybrid_calendar.models import CalendarEvent, User
    from hybrid_calendar_webex.client import WebexClient

SEARCH_MARGIN = timedelta(days=1)


def _z(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def find_meeting(client: WebexClient, host_email: str, event_id: str,
                       around: tuple[datetime, datetime]) -> dict[str, Any] | None:
    """The organiser's Webex meeting series tagged with ``event_id``, or ``None``.

    :param around: a span the meeting overlaps (Webex lists meetings in a window).
    """
    start, end = around
    answer = await client.call("GET", "/meetings", params={
        "integrationTag": integration_tag(event_id), "hostEmail": host_email,
        "meetingType": "meetingSeries", "from": _z(start - SEARCH_MARGIN),
        "to": _z(end + SEARCH_MARGIN), "max": 10})
    items = (answer or {}).get("items") or []
    tag = integration_tag(event_id)
    for item in items:
        if tag in (item.get("integrationTags") or []) and item.get("state") != "deleted":
            return dict(item)
    return None


async def find_or_create(client: WebexClient, user: User, event: CalendarEvent,
                         site_url: str = "") -> dict[str, Any]:
    """The event's meeting: found by its integration tag, else created."""
    assert event.start is not None and event.end is not None
    found = await find_meeting(client, user.email, event.id, (event.start, event.end))
    if found is not None:
        return found
    created = await client.call("POST", "/meetings", json=meeting_body(user, event, site_url))
    return dict(created)


def join_of_meeting(meeting: dict[str, Any]) -> JoinInfo:
    """Join URL, SIP address, meeting number and password of a Webex meeting."""
    return JoinInfo(provider="webex", url=meeting.get("webLink"), source="created",
                    dial=meeting.get("sipAddress"),
                    meeting_id=_spaced(str(meeting.get("meetingNumber") or "")) or None,
                    passcode=meeting.get("password") or None,
                    extra={"webex_meeting_id": str(meeting.get("id") or "")})


def _spaced(number: str) -> str:
    """``25897621745`` as Webex prints it: ``2589 762 1745``."""
    if len(number) == 11 and number.isdigit():
        return f"{number[:4]} {number[4:7]} {number[7:]}"
    return number
