"""Writing join details back into an invite: one ``events.update`` with ``If-Match``.

Google charges three quota units for an ``events.patch`` and one for an
``events.update`` ("prefer using a get followed by an update"). The gateway needs no get
either: the event it writes was just listed by the sync (``events.list`` returns whole
resources: :mod:`.sync` asks for no partial ``fields``), and
:attr:`~hybrid_calendar.models.CalendarEvent.raw` holds that resource. The write sends it
back whole with ``location``, ``description`` and the marker in
``extendedProperties.private`` replaced, ``If-Match`` its etag: if anyone changed the
event since it was listed, Google answers 412 and nothing of theirs is lost. Only then is
the event read (``events.get``) and the update tried again, up to
``google.update_max_attempts`` times. ``conferenceDataVersion=1`` keeps the event's
conference as listed (and carries a Google Meet ``createRequest``: :mod:`.meet`);
``supportsAttachments`` keeps its attachments. So a keyword event costs one unit to write
(two after a conflict), not three.

The marker (a hash of the rendered join block, computed by the core) is stored under the
core's ``MARKER_KEY`` (or ``google.marker_property`` when set). If the event already
carries the same marker nothing is written, so the gateway's own change — which comes
back through sync — never triggers another update (the write is a fixpoint).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hybrid_calendar.errors import PreconditionFailedError, ProviderError
from hybrid_calendar.join_info.render import BEGIN_MARKER, END_MARKER, replace_block
from hybrid_calendar.models import InviteUpdate
from hybrid_calendar_google.discovery import Calendar
from hybrid_calendar_google.event_json import event_from_google
from hybrid_calendar_google.meet import conference_request

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import CalendarEvent, User
    from hybrid_calendar_google.client import GoogleClient
    from hybrid_calendar_google.context import GoogleContext


def update_body(resource: Mapping[str, Any], event: CalendarEvent, update: InviteUpdate,
                marker_key: str) -> dict[str, Any]:
    """The ``events.update`` body writing ``update`` into the listed ``resource``.

    Everything the resource carries is sent back unchanged except ``location``,
    ``description`` and ``extendedProperties.private[marker_key]`` (other private and
    shared properties are kept), plus a Meet ``createRequest`` when the update asks for
    a conference.
    """
    body = copy.deepcopy(dict(resource))
    body["location"] = update.location
    body["description"] = update.description
    properties = dict(body.get("extendedProperties") or {})
    private = dict(properties.get("private") or {})
    private[marker_key] = update.marker
    properties["private"] = private
    body["extendedProperties"] = properties
    if update.conference:
        body["conferenceData"] = conference_request(event, update.conference)
    return body


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
        resource: Mapping[str, Any] = current.raw
        if not resource.get("etag"):  # not a listed resource: read it (one unit)
            current = await _read(client, ctx, user, calendar_id, current.id)
            continue
        params: dict[str, Any] = {"conferenceDataVersion": 1}
        if resource.get("attachments"):
            params["supportsAttachments"] = True
        try:
            data = await client.call(user.email, Calendar.events_update, ctx.calendar_url,
                                     body=update_body(resource, current, update, marker_key),
                                     headers={"If-Match": str(resource["etag"])},
                                     calendarId=calendar_id, eventId=current.id, **params)
        except PreconditionFailedError:
            fresh = await _read(client, ctx, user, calendar_id, current.id)
            update = rebase_update(update, current, fresh)
            current = fresh
            continue
        return event_from_google(data, calendar_id)
    raise PreconditionFailedError(
        f"calendar.events.update: the event changed during each of {attempts} attempts; "
        "the next sync retries", status=412, reason="conditionNotMet")


def rebase_update(update: InviteUpdate, base: CalendarEvent, fresh: CalendarEvent
                  ) -> InviteUpdate:
    """``update``, planned from ``base``, carried over to ``fresh`` (the event as someone
    changed it since): their edits to Location and description are kept, and only the
    gateway's own change is made on top of them (the join block put between its markers,
    the keyword replaced if it is still there)."""
    return InviteUpdate(
        location=_rebase_location(base.location, update.location, fresh.location),
        description=_rebase_description(base.description, update.description,
                                        fresh.description),
        marker=update.marker, locale=update.locale, conference=update.conference)


def _rebase_description(base: str, ours: str, theirs: str) -> str:
    if theirs == base:
        return ours
    if ours == base:
        return theirs
    start = ours.find(BEGIN_MARKER)
    end = ours.find(END_MARKER, start) if start >= 0 else -1
    if end < 0:
        return ours
    return replace_block(theirs, ours[start:end + len(END_MARKER)])


def _rebase_location(base: str, ours: str, theirs: str) -> str:
    if theirs == base:
        return ours
    if ours == base:
        return theirs
    prefix = 0
    while prefix < min(len(base), len(ours)) and base[prefix] == ours[prefix]:
        prefix += 1
    suffix = 0
    while (suffix < min(len(base), len(ours)) - prefix
           and base[-1 - suffix] == ours[-1 - suffix]):
        suffix += 1
    while prefix and not base[prefix - 1].isspace():  # whole words: the keyword's token
        prefix -= 1
    while suffix and not base[len(base) - suffix].isspace():
        suffix -= 1
    old, new = base[prefix:len(base) - suffix], ours[prefix:len(ours) - suffix]
    index = theirs.find(old) if old else -1
    if index < 0:  # they removed what the gateway replaced: their Location stands
        return theirs
    return theirs[:index] + new + theirs[index + len(old):]


async def _read(client: GoogleClient, ctx: GoogleContext, user: User, calendar_id: str,
                event_id: str) -> CalendarEvent:
    fresh = await client.call(user.email, Calendar.events_get, ctx.calendar_url,
                              calendarId=calendar_id, eventId=event_id)
    return event_from_google(fresh, calendar_id)


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
