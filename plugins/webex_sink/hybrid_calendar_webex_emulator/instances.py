"""Meeting instances: what exists once a host starts a meeting (``meetingType=meeting``).

From the Meetings reference (and wxc-sdk's copies of it): a series is ``inProgress`` while
one of its instances is happening; an instance is ``inProgress``, then ``ended``; an ended
instance carries no ``meetingNumber``, ``password`` or ``phoneAndVideoSystemPassword``;
"Details of an ended meeting will only be available 15 minutes after the meeting has
ended"; update and delete do not apply to instances. Hosts start and end meetings in Webex,
so the emulator does it through the ``meeting_event`` control.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from hybrid_calendar_webex_emulator.timeutil import local, parse, zone

if TYPE_CHECKING:
    from hybrid_calendar_webex_emulator.state import WebexState

ENDED_DELAY = timedelta(minutes=15)
ENDED_DROPS = ("meetingNumber", "password", "phoneAndVideoSystemPassword")


def start_instance(state: WebexState, meeting: dict[str, Any]) -> dict[str, Any]:
    """The host starts ``meeting`` now (an instance already running is returned)."""
    running = running_instance(state, meeting["id"])
    if running is not None:
        return running
    now = state.clock.now()
    tz = zone(meeting["timezone"])
    instance = {k: v for k, v in meeting.items()
                if not k.startswith("_") and k not in ("recurrence", "state")}
    instance.update({"id": f"{meeting['id']}_I_{state.ids.digits(9, '1')}",
                     "meetingSeriesId": meeting["id"], "meetingType": "meeting",
                     "state": "inProgress", "start": local(now, tz)})
    instance.pop("end", None)
    state.meeting_instances[instance["id"]] = instance
    return instance


def end_instance(state: WebexState, meeting: dict[str, Any]) -> dict[str, Any] | None:
    """The running instance of ``meeting`` ends now (``None``: none was running)."""
    instance = running_instance(state, meeting["id"])
    if instance is None:
        return None
    now = state.clock.now()
    instance.update({"state": "ended", "end": local(now, zone(meeting["timezone"])),
                     "_endedAt": now.isoformat()})
    for name in ENDED_DROPS:
        instance.pop(name, None)
    return instance


def running_instance(state: WebexState, series_id: str) -> dict[str, Any] | None:
    """The series' instance in progress, if any."""
    return next((i for i in state.meeting_instances.values()
                 if i["meetingSeriesId"] == series_id and i["state"] == "inProgress"), None)


def visible(instance: dict[str, Any], now: datetime) -> bool:
    """Whether the instance's details are available yet (ended: 15 minutes after)."""
    ended = instance.get("_endedAt")
    return ended is None or datetime.fromisoformat(ended) + ENDED_DELAY <= now


def public(instance: dict[str, Any]) -> dict[str, Any]:
    """The instance as the API shows it."""
    return {k: v for k, v in instance.items() if not k.startswith("_")}


def listed(state: WebexState, host_id: str, window_start: datetime, window_end: datetime,
           ) -> list[dict[str, Any]]:
    """The host's visible instances that started in ``[window_start, window_end)``."""
    now = state.clock.now()
    return [public(i) for i in state.meeting_instances.values()
            if i["hostUserId"] == host_id and visible(i, now)
            and window_start <= parse(i["start"], "start") < window_end]
