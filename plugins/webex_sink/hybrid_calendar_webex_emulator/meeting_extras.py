"""``/v1/meetingPreferences/personalMeetingRoom`` and ``/v1/meetingInvitees``.

developer.webex.com/docs/api/v1/meeting-preferences (Get Personal Meeting Room Options:
``userEmail`` counts only with ``meeting:admin_preferences_read``) and
/docs/api/v1/meeting-invitees (the invitees given when the meeting was created or updated,
read-only here).
"""

from __future__ import annotations

from typing import Any

from hybrid_calendar_webex_emulator.dispatch import Call, Route, route
from hybrid_calendar_webex_emulator.errors import bad_request, not_found
from hybrid_calendar_webex_emulator.meetings_api import (
    ADMIN_READ,
    READ,
    check_site,
    find_meeting,
    host_for,
)
from hybrid_calendar_webex_emulator.paging import page

PREFERENCES = ("meeting:preferences_read", "meeting:admin_preferences_read")


def personal_room(call: Call) -> dict[str, Any]:
    """``GET /meetingPreferences/personalMeetingRoom?userEmail=``."""
    check_site(call, call.param("siteUrl"))
    person = host_for(call, call.param("userEmail"), ("meeting:admin_preferences_read",))
    if "_pmr" not in person:
        raise not_found()
    return dict(person["_pmr"])


def invitees(call: Call) -> Any:
    """``GET /meetingInvitees?meetingId=``: the invitees given at create/update."""
    meeting_id = call.param("meetingId")
    if meeting_id is None:
        raise bad_request("meetingId is required.")
    call.path_params["meetingId"] = meeting_id
    meeting, _ = find_meeting(call, ADMIN_READ)
    items = [{"id": f"{meeting['id']}_{index}", "email": i["email"],
              "displayName": i.get("displayName", i["email"]),
              "coHost": bool(i.get("coHost", False)), "meetingId": meeting["id"],
              "panelist": bool(i.get("panelist", False))}
             for index, i in enumerate(meeting.get("_invitees", []))]
    return page(call, items, 100, 100)


ROUTES: list[Route] = [
    route("GET", "/v1/meetingInvitees", READ, invitees),
    route("GET", "/v1/meetingPreferences/personalMeetingRoom", PREFERENCES, personal_room),
]
