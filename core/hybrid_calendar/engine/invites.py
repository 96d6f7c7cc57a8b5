"""Keyword scheduling inside a sync: ``@webex`` in Location → meeting created → invite updated.

Guards that keep it a fixpoint:

* only the organiser's own copy is processed (attendees' copies carry the same keyword);
* an event carrying the gateway's marker is never processed again, unless the marker is
  a meeting service's refusal and the organiser edited the event since (then the keyword
  is tried again);
* a keyword on a recurring series is handled once, on the series master (one meeting for
  the series; its instances inherit the join details); a keyword typed on one instance
  only (an exception) is handled on that instance;
* a fuse stops writing to an event the gateway changed more than
  :data:`FUSE_LIMIT` times within :data:`FUSE_WINDOW`.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from hybrid_calendar.join_info.keywords import KeywordConfig, find_keyword, keyword_config
from hybrid_calendar.join_info.render import (
    MARKER_KEY,
    is_processed,
    plan_invite_update,
    retry_after_edit,
)
from hybrid_calendar.log_limits import gateway_limiter
from hybrid_calendar.models import CalendarEvent, KeywordRequest, Organisation, User

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)
UNSERVED_LOG_KEY = "engine.unserved_keywords"
"""Where the gateway's :class:`LogLimiter` for unserved keywords lives in ``gateway.state``:
one line per keyword per minute, since every sync meets the same events again."""

FUSE_LIMIT = 3
FUSE_WINDOW = timedelta(hours=1)

__all__ = ["FUSE_LIMIT", "MARKER_KEY", "is_organiser", "is_processed", "schedule_keyword_meeting"]


def keywords_for(gateway: Gateway, org: Organisation | None) -> KeywordConfig:
    """The keyword table in effect for a user's organisation (``None``: the gateway's
    own; a sync reads the organisation once, with the user)."""
    return keyword_config(gateway.config, org.settings if org else {})


async def schedule_keyword_meeting(gateway: Gateway, user: User, event: CalendarEvent,
                                   config: KeywordConfig,
                                   series_done: set[str] | None = None) -> CalendarEvent:
    """Create a meeting for a keyword in the event's Location and write it into the invite.

    :param config: the organisation's keywords (:func:`keywords_for`).
    :param series_done: recurring series already looked at in this sync (so a batch of
        instances reads the series master once).
    :returns: the event as it now stands (updated, or unchanged when there was nothing
        to do; an instance whose series was updated comes back with the next sync).
    """
    if (is_processed(event) and not retry_after_edit(event)) \
            or not is_organiser(user, event):
        return event
    request = find_keyword(event.location, config)
    if request is None:
        return event
    series = event.recurring_event_id
    if series:
        if series_done is not None and series in series_done:
            return event  # handled on the master earlier in this sync
        master = await gateway.hooks.get_event(gateway, user, series)
        if master is not None and not master.cancelled:
            master_request = find_keyword(master.location, config)
            if is_processed(master) or master_request is not None:
                if series_done is not None:
                    series_done.add(series)
                if master_request is not None and (not is_processed(master)
                                                   or retry_after_edit(master)):
                    await _create_and_write(gateway, user, master, master_request)
                return event  # the instances get the series' details with the next sync
    return await _create_and_write(gateway, user, event, request)


async def _create_and_write(gateway: Gateway, user: User, event: CalendarEvent,
                            request: KeywordRequest) -> CalendarEvent:
    if not _fuse_allows(gateway, user, event):
        log.error("fuse: event %s of user %s was changed %d times within %s; not writing",
                  event.id, user.id, FUSE_LIMIT, FUSE_WINDOW)
        return event
    join = await gateway.hooks.create_meeting(gateway, user, event, request)
    if join is None:
        gateway_limiter(gateway, UNSERVED_LOG_KEY, log).log(
            logging.WARNING, request.keyword,
            "no enabled plugin creates meetings for keyword %r (event %s)",
            request.keyword, event.id)
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


def is_organiser(user: User, event: CalendarEvent) -> bool:
    """True when ``user`` organises ``event`` (or the event names no organiser)."""
    organizer = (event.organizer or "").casefold()
    return not organizer or organizer == user.email.casefold()


def _writes(gateway: Gateway) -> dict[str, deque[datetime]]:
    return gateway.memory.invite_writes


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
