"""What the Google emulator holds, in the terms the chaos checks compare with the store.

Read directly from an :class:`EmulatorState` (under its lock, no API call, so nothing is
charged to the quota the checks watch): the events of a user's retention window as
``events.list(singleEvents=true, timeMin, timeMax)`` would list them, and the number of
join blocks the gateway wrote into each event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hybrid_calendar.join_info.render import BEGIN_MARKER
from hybrid_calendar_google_emulator.listing import compute_items
from hybrid_calendar_google_emulator.query import ListQuery
from hybrid_calendar_google_emulator.state import EmulatorState


def window_events(state: EmulatorState, email: str, start: datetime, end: datetime
                  ) -> dict[str, str]:
    """Event id to etag of every live event (instances expanded) in ``[start, end)``."""
    query = ListQuery(single_events=True, time_min=start, time_max=end, max_results=2500)
    with state.lock:
        calendar = state.calendar(email)
        items = compute_items(calendar, query, state.timezone_of(email),
                              state.options.max_instances, None)
    return {str(item["id"]): str(item.get("etag", "")) for item in items
            if item.get("status") != "cancelled"}


def join_blocks(state: EmulatorState, email: str) -> dict[str, int]:
    """Stored event id (masters, not instances) to the join details the gateway wrote:
    the join blocks in its description, plus one for a conference in its
    ``conferenceData`` (a Google Meet keyword is answered with a conference and no
    block). Exactly one is right; two means written twice."""
    with state.lock:
        events: list[dict[str, Any]] = list(state.calendar(email).events.values())
    return {str(event["id"]): str(event.get("description") or "").count(BEGIN_MARKER)
            + (1 if (event.get("conferenceData") or {}).get("conferenceId") else 0)
            for event in events if event.get("status") != "cancelled"}


def meet_conferences(state: EmulatorState, email: str) -> dict[str, bool]:
    """Stored event id to whether it carries a Meet conference the gateway asked for
    (its ``createRequest.requestId`` is the gateway's, ``hc-…``)."""
    with state.lock:
        events: list[dict[str, Any]] = list(state.calendar(email).events.values())
    return {str(event["id"]): str(((event.get("conferenceData") or {}).get("createRequest")
                                   or {}).get("requestId", "")).startswith("hc-")
            for event in events if event.get("status") != "cancelled"}
