"""A meeting changed or deleted in Webex by its host is reconciled with the calendar.

The calendar invite is what the attendees hold, so the calendar wins:

* ``updated`` — for a meeting the gateway made (it records the event of each, encrypted,
  as the organisation secret ``webex_meeting:<hash of the id>``), the meeting is read
  (``GET /meetings/{id}?hostEmail=``: an administrator reaches another host's meeting by
  id only with it). If title or times no longer match the event, the meeting is put back
  (``PUT``) to what the invite says.
* ``deleted`` — if the recorded event still
  exists and is not cancelled, a new meeting is made for it (find before create) and the
  invite's Location and join block are rewritten with the new details. A meeting the
  gateway deleted itself (the event was cancelled) is left alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any

from hybrid_calendar.join_info.render import (
    MARKER_KEY,
    looks_like_html,
    marker_for,
    render_block,
    replace_block,
)
from hybrid_calendar.models import InviteUpdate, UserState
from hybrid_calendar_webex import onetime
from hybrid_calendar_webex.context import context
from hybrid_calendar_webex.errors import WebexNotFoundError
from hybrid_calendar_webex.meeting_body import meeting_body, same_meeting

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import User

log = logging.getLogger(__name__)


def record_name(meeting_id: str) -> str:
    """The organisation secret recording the event of a meeting the gateway made."""
    return "webex_meeting:" + hashlib.sha256(meeting_id.encode()).hexdigest()[:32]


async def remember(gateway: Gateway, user: User, event_id: str,
                   meeting: dict[str, Any]) -> None:
    """Record that ``meeting`` was made for ``event_id`` of ``user``."""
    await gateway.store.put_org_secret(user.org_id, record_name(str(meeting["id"])), json.dumps(
        {"user_id": user.id, "event_id": event_id, "web_link": meeting.get("webLink")}))


async def reconcile(gateway: Gateway, org_id: str, event: str, data: dict[str, Any]
                    ) -> None:
    """Handle a ``meetings`` ``updated`` or ``deleted`` webhook (ids in ``data``)."""
    meeting_id = str(data.get("meetingSeriesId") or data.get("id") or "")
    if not meeting_id:
        return
    if event == "updated":
        await _updated(gateway, org_id, meeting_id)
    else:
        await _deleted(gateway, org_id, meeting_id)


async def _updated(gateway: Gateway, org_id: str, meeting_id: str) -> None:
    record = await gateway.store.get_org_secret(org_id, record_name(meeting_id))
    if not record:
        return  # not one of the gateway's meetings
    info = json.loads(record)
    host = await gateway.store.get_user(str(info["user_id"]))
    if host is None or host.state is not UserState.ACTIVE:
        return
    ctx = context(gateway)
    client = ctx.client(gateway, org_id)
    try:
        meeting = await client.call("GET", f"/meetings/{meeting_id}",
                                    params={"hostEmail": host.email})
    except WebexNotFoundError:
        return
    calendar_event = await gateway.hooks.get_event(gateway, host, str(info["event_id"]))
    if calendar_event is None or calendar_event.cancelled or calendar_event.start is None:
        return
    body = meeting_body(host, calendar_event, str(ctx.settings["site_url"]))
    if not same_meeting(meeting, body):
        log.info("webex meeting of event %s was changed in Webex: put back to the calendar's "
                 "time and title", calendar_event.id)
        await client.call("PUT", f"/meetings/{meeting_id}", json=body,
                          params={"hostEmail": host.email})


async def _deleted(gateway: Gateway, org_id: str, meeting_id: str) -> None:
    record = await gateway.store.get_org_secret(org_id, record_name(meeting_id))
    if not record:
        return
    info = json.loads(record)
    user = await gateway.store.get_user(str(info["user_id"]))
    if user is None or user.state is not UserState.ACTIVE:
        return
    calendar_event = await gateway.hooks.get_event(gateway, user, str(info["event_id"]))
    if calendar_event is None or calendar_event.cancelled or \
            not calendar_event.private_properties.get(MARKER_KEY):
        return  # the event is gone: the gateway deleted the meeting itself
    ctx = context(gateway)
    client = ctx.client(gateway, org_id)
    meeting = await onetime.find_or_create(client, user, calendar_event,
                                           str(ctx.settings["site_url"]))
    await remember(gateway, user, calendar_event.id, meeting)
    join = onetime.join_of_meeting(meeting)
    locale = user.locale or await gateway.hooks.read_locale(gateway, user)
    block = render_block(join, locale, as_html=looks_like_html(calendar_event.description))
    location = calendar_event.location
    old_link = str(info.get("web_link") or "")
    if old_link and join.url:
        location = location.replace(old_link, join.url)
    log.info("webex meeting of event %s was deleted in Webex: made a new one", info["event_id"])
    await gateway.hooks.update_invite(gateway, user, calendar_event, InviteUpdate(
        location=location, description=replace_block(calendar_event.description, block),
        marker=marker_for(block), locale=locale or "en"))
