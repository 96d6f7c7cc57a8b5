"""``follow_meeting``: the one-time Webex meeting follows its calendar event.

=================================  ========================================================
calendar change                    Webex call
=================================  ========================================================
time, title or attendees changed   ``PUT /meetings/{id}`` with the full body (a ``PUT``
                                   replaces the meeting)
event cancelled                    ``DELETE /meetings/{id}``
a series changed (its instances    the series master is read once, the series ``PUT``
arrive with the change)            once per change
one instance moved                 ``PUT`` of that scheduled meeting
one instance cancelled             ``DELETE`` of that scheduled meeting
=================================  ========================================================

The meeting is found by its integration tag (the Google event id, or the series' id for
an instance), so only meetings this gateway made are touched; Personal Rooms and spaces
have none and are left alone. A refusal (e.g. the new start is in the past) is logged
and shown in the organiser's health; transient failures retry the sync.

Join cards are not this module's: each person's own sync withdraws the Join button a move
or cancellation undid, by its key (``join_button_withdrawn``, :func:`.join_cards.withdraw_card`).
Deleting every card of the event here, from the organiser's sync, also deleted an
attendee's card of the new time when the attendee's sync had seen the move first.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hybrid_calendar_webex.context import context
from hybrid_calendar_webex.errors import WebexError, WebexNotFoundError
from hybrid_calendar_webex.meeting_body import meeting_body, same_meeting
from hybrid_calendar_webex.onetime import find_meeting

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import CalendarEvent, Meeting, User
    from hybrid_calendar_webex.client import WebexClient

log = logging.getLogger(__name__)

def _span(event: CalendarEvent, previous: Meeting | None) -> tuple[datetime, datetime]:
    times = [t for t in (event.start, event.end, event.original_start,
                         previous.start if previous else None,
                         previous.end if previous else None) if t is not None]
    return min(times), max(times)


async def follow_meeting(gateway: Gateway, user: User, event: CalendarEvent,
                         previous: Meeting | None) -> None:
    """Update or delete the Webex meeting made for ``event`` (see the module's table)."""
    if previous is not None and (previous.join is None or previous.join.provider != "webex"):
        return
    ctx = context(gateway)
    if not ctx.configured:
        return
    client = ctx.client(gateway, user.org_id)
    host = {"hostEmail": user.email}  # an admin reaches a host's meeting by id only so
    series = event.recurring_event_id
    try:
        if series:
            await _follow_instance(gateway, client, user, event, previous, series)
            return
        found = await find_meeting(client, user.email, event.id, _span(event, previous))
        if found is None:
            return  # a Personal Room or a space: nothing to follow
        if event.cancelled:
            await client.call("DELETE", f"/meetings/{found['id']}", params=host)
            return
        body = meeting_body(user, event, str(ctx.settings["site_url"]))
        if _attendees_changed(event, previous) or not same_meeting(found, body):
            await client.call("PUT", f"/meetings/{found['id']}", json=body, params=host)
    except WebexNotFoundError:
        return  # deleted in Webex meanwhile
    except WebexError as err:
        log.warning("Webex meeting of event %s of user %s not updated: %s", event.id,
                    user.id, err)


def _attendees_changed(event: CalendarEvent, previous: Meeting | None) -> bool:
    """True when the event's attendees differ from the stored meeting's: Webex's meeting
    answer carries no invitees, so :func:`~.meeting_body.same_meeting` cannot see it."""
    return previous is not None and \
        set(previous.attendees) != {a.email for a in event.attendees}


async def _follow_instance(gateway: Gateway, client: WebexClient, user: User,
                           event: CalendarEvent, previous: Meeting | None,
                           series: str) -> None:
    original = event.original_start or (previous.start if previous else None)
    moved = not event.cancelled and original is not None and event.start != original
    if event.cancelled or moved:
        found = await find_meeting(client, user.email, series, _span(event, previous))
        if found is None or original is None:
            return
        occurrence = await _occurrence(client, found, original)
        if occurrence is None:
            return
        host = {"hostEmail": user.email}
        if event.cancelled:
            await client.call("DELETE", f"/meetings/{occurrence['id']}", params=host)
        else:
            body = meeting_body(user, event, str(context(gateway).settings["site_url"]))
            for key in ("recurrence", "integrationTags"):
                body.pop(key, None)
            await client.call("PUT", f"/meetings/{occurrence['id']}", json=body, params=host)
        return
    master = await gateway.hooks.get_event(gateway, user, series)
    if master is None or master.cancelled or master.start is None:
        return
    body = meeting_body(user, master, str(context(gateway).settings["site_url"]))
    memo = context(gateway).followed_series
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    if memo.get(f"{user.id}/{series}") == digest:
        return  # this series change was already followed (its other instances)
    assert master.end is not None
    found = await find_meeting(client, user.email, series, (master.start, master.end))
    if found is not None and (_attendees_changed(event, previous)
                              or not same_meeting(found, body)):
        await client.call("PUT", f"/meetings/{found['id']}", json=body,
                          params={"hostEmail": user.email})
    memo[f"{user.id}/{series}"] = digest


async def _occurrence(client: WebexClient, series: dict[str, Any], start: datetime
                      ) -> dict[str, Any] | None:
    """The scheduled meeting of ``series`` starting at ``start``."""
    answer = await client.call("GET", "/meetings", params={
        "meetingSeriesId": series["id"], "meetingType": "scheduledMeeting",
        "from": _z(start - timedelta(minutes=1)), "to": _z(start + timedelta(minutes=1)),
        "hostEmail": series.get("hostEmail") or ""})
    for item in (answer or {}).get("items") or []:
        when = datetime.fromisoformat(str(item.get("start")).replace("Z", "+00:00"))
        if when.astimezone(UTC) == start.astimezone(UTC):
            return dict(item)
    return None


def _z(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
