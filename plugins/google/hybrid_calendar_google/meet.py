"""Google Meet for the ``google_meet`` keyword action (``@meet`` when so configured).

A Meet conference is attached to the organiser's event with
``conferenceData.createRequest`` (``conferenceDataVersion=1``). The request id is derived
from the event id, so a retry never creates a second conference: Google ignores a
``createRequest`` whose ``requestId`` it has already seen for the event. Creation may be
``pending``; the event is re-read a few times until the conference is ready.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import anyio

from hybrid_calendar import hookimpl
from hybrid_calendar.errors import ProviderError
from hybrid_calendar.models import JoinInfo
from hybrid_calendar_google.context import context
from hybrid_calendar_google.discovery import Calendar

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import CalendarEvent, KeywordRequest, User

ACTION = "google_meet"
PENDING_POLLS = 5


def request_id(event: CalendarEvent) -> str:
    """Stable ``createRequest.requestId`` for an event (at most 64 characters)."""
    return "hc-" + hashlib.sha256(event.id.encode()).hexdigest()[:40]


def join_from_conference(data: dict[str, Any]) -> JoinInfo | None:
    """The Meet link of an event resource, once its conference is ready."""
    conference = data.get("conferenceData") or {}
    status = (conference.get("createRequest") or {}).get("status", {}).get("statusCode")
    if status not in (None, "success"):
        return None
    for entry in conference.get("entryPoints") or []:
        if entry.get("entryPointType") == "video" and entry.get("uri"):
            return JoinInfo(provider="meet", url=entry["uri"], source="created",
                            meeting_id=conference.get("conferenceId"),
                            extra={"event_etag": str(data.get("etag") or "")})
    return None


@hookimpl
def create_meeting(gateway: Gateway, user: User, event: CalendarEvent,
                   request: KeywordRequest) -> Awaitable[JoinInfo] | None:
    """Attach a Google Meet conference to the organiser's event (action ``google_meet``)."""
    if user.provider != "google" or request.action != ACTION:
        return None
    return _create(gateway, user, event)


async def _create(gateway: Gateway, user: User, event: CalendarEvent) -> JoinInfo:
    ctx = context(gateway)
    client = await ctx.client(gateway, user)
    calendar_id = event.calendar_id or user.email
    body = {"conferenceData": {"createRequest": {
        "requestId": request_id(event), "conferenceSolutionKey": {"type": "hangoutsMeet"}}}}
    headers = {"If-Match": event.etag} if event.etag else None
    data = await client.call(user.email, Calendar.events_patch, ctx.calendar_url, body=body,
                             headers=headers, calendarId=calendar_id, eventId=event.id,
                             conferenceDataVersion=1)
    for attempt in range(PENDING_POLLS):
        join = join_from_conference(data)
        if join is not None:
            return join
        await anyio.sleep(0.2 * 2 ** attempt)
        data = await client.call(user.email, Calendar.events_get, ctx.calendar_url,
                                 calendarId=calendar_id, eventId=event.id)
    raise ProviderError("Google Meet conference creation did not complete; the next sync "
                        "retries with the same request id", reason="conferencePending")
