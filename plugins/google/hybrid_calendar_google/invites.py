"""Writing join details back into an invite: PATCH with ``If-Match`` and a marker.

The marker (a hash of the rendered join block, computed by the core) is stored in
``extendedProperties.private`` under the core's ``MARKER_KEY`` (or
``google.marker_property`` when set). If the event already
carries the same marker nothing is written, so the gateway's own change — which comes
back through sync — never triggers another update (the write is a fixpoint).

Only ``location``, ``description`` and ``extendedProperties`` are sent (PATCH leaves the
rest untouched; the whole private map is sent so either map semantics keep other keys).
No ``conferenceData`` is written, so no ``conferenceDataVersion`` is sent. On HTTP 412 the
event is re-read and the write retried with the new etag, up to
``google.update_max_attempts`` times.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hybrid_calendar.errors import PreconditionFailedError, ProviderError
from hybrid_calendar_google.discovery import Calendar
from hybrid_calendar_google.event_json import event_from_google

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import CalendarEvent, InviteUpdate, User
    from hybrid_calendar_google.context import GoogleContext


def patch_body(event: CalendarEvent, update: InviteUpdate, marker_key: str) -> dict[str, Any]:
    """The PATCH body writing ``update`` into ``event``."""
    private = dict(event.private_properties)
    private[marker_key] = update.marker
    return {"location": update.location, "description": update.description,
            "extendedProperties": {"private": private}}


async def update_invite(gateway: Gateway, ctx: GoogleContext, user: User,
                        event: CalendarEvent, update: InviteUpdate) -> CalendarEvent:
    """Write ``update`` into the organiser's copy of ``event``; return the stored event.

    :raises PreconditionFailedError: the event kept changing for every attempt.
    """
    client = await ctx.client(gateway, user)
    marker_key = ctx.marker_key
    attempts = int(ctx.settings["update_max_attempts"])
    calendar_id = event.calendar_id or user.email
    current = event
    for _ in range(attempts):
        if current.private_properties.get(marker_key) == update.marker or current.cancelled:
            return current
        headers = {"If-Match": current.etag} if current.etag else None
        try:
            data = await client.call(user.email, Calendar.events_patch, ctx.calendar_url,
                                     body=patch_body(current, update, marker_key),
                                     headers=headers, calendarId=calendar_id,
                                     eventId=current.id)
        except PreconditionFailedError:
            fresh = await client.call(user.email, Calendar.events_get, ctx.calendar_url,
                                      calendarId=calendar_id, eventId=current.id)
            current = event_from_google(fresh, calendar_id)
            continue
        return event_from_google(data, calendar_id)
    raise PreconditionFailedError(
        f"calendar.events.patch: the event changed during each of {attempts} attempts; "
        "the next sync retries", status=412, reason="conditionNotMet")


async def get_event(gateway: Gateway, ctx: GoogleContext, user: User, event_id: str
                    ) -> CalendarEvent | None:
    """Read one event of the user's calendar; ``None`` if Google does not know it."""
    client = await ctx.client(gateway, user)
    try:
        data = await client.call(user.email, Calendar.events_get, ctx.calendar_url,
                                 calendarId=user.email, eventId=event_id)
    except ProviderError as err:
        if err.status in (404, 410):
            return None
        raise
    return event_from_google(data, user.email)
