"""Keyword scheduling inside a sync: ``@webex`` in Location → meeting created → invite updated.

Guards that keep it a fixpoint:

* only the organiser's own copy is processed (attendees' copies carry the same keyword);
* an event carrying the gateway's marker is never processed again;
* a fuse stops writing to an event the gateway changed more than
  :data:`FUSE_LIMIT` times within :data:`FUSE_WINDOW`.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from hybrid_calendar.join_info.keywords import find_keyword, keyword_config
from hybrid_calendar.join_info.render import MARKER_KEY, is_processed, plan_invite_update
from hybrid_calendar.models import CalendarEvent, User

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)

FUSE_LIMIT = 3
FUSE_WINDOW = timedelta(hours=1)

__all__ = ["FUSE_LIMIT", "MARKER_KEY", "schedule_keyword_meeting"]


async def schedule_keyword_meeting(gateway: Gateway, user: User, event: CalendarEvent
                                   ) -> CalendarEvent:
    """Create a meeting for a keyword in the event's Location and write it into the invite.

    Returns the event as it now stands (updated, or unchanged when there was nothing to do).
    """
    if is_processed(event) or not _is_organiser(user, event):
        return event
    org = await gateway.store.get_organisation(user.org_id)
    request = find_keyword(event.location, keyword_config(gateway.config,
                                                          org.settings if org else {}))
    if request is None:
        return event
    if not _fuse_allows(gateway, user, event):
        log.error("fuse: event %s of user %s was changed %d times within %s; not writing",
                  event.id, user.id, FUSE_LIMIT, FUSE_WINDOW)
        return event
    join = await gateway.hooks.create_meeting(gateway, user, event, request)
    if join is None:
        log.warning("no plugin creates meetings for keyword %r (event %s)", request.keyword,
                    event.id)
        return event
    if join.extra.get("event_etag"):  # the plugin changed the event (conference data)
        event = replace(event, etag=join.extra["event_etag"])
    locale = user.locale or await gateway.hooks.read_locale(gateway, user) or "en"
    update = plan_invite_update(event, join, locale, request)
    if update is None:
        return event
    updated = await gateway.hooks.update_invite(gateway, user, event, update)
    _record_write(gateway, user, event)
    return updated


def _is_organiser(user: User, event: CalendarEvent) -> bool:
    organizer = (event.organizer or "").casefold()
    return not organizer or organizer == user.email.casefold()


def _writes(gateway: Gateway) -> dict[str, deque[datetime]]:
    writes: dict[str, deque[datetime]] = gateway.state.setdefault("engine.invite_writes", {})
    return writes


def _fuse_allows(gateway: Gateway, user: User, event: CalendarEvent) -> bool:
    history = _writes(gateway).get(f"{user.id}/{event.id}")
    if not history:
        return True
    horizon = gateway.clock.now() - FUSE_WINDOW
    while history and history[0] < horizon:
        history.popleft()
    return len(history) < FUSE_LIMIT


def _record_write(gateway: Gateway, user: User, event: CalendarEvent) -> None:
    _writes(gateway).setdefault(f"{user.id}/{event.id}", deque()).append(gateway.clock.now())
