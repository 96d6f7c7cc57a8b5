"""The organiser's Personal Room for ``@webex`` and ``:myroom``.

``GET /meetingPreferences/personalMeetingRoom?userEmail=`` (admin preferences scope)
answers the room's link, SIP address and access code; the room is permanent, so nothing
is created and nothing needs to follow the event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hybrid_calendar.models import JoinInfo

if TYPE_CHECKING:
    from hybrid_calendar.models import User
    from hybrid_calendar_webex.client import WebexClient


async def personal_room(client: WebexClient, user: User) -> JoinInfo:
    """Join information of ``user``'s Personal Room."""
    room = await client.call("GET", "/meetingPreferences/personalMeetingRoom",
                             params={"userEmail": user.email}) or {}
    telephony = room.get("telephony") or {}
    return JoinInfo(provider="webex", url=room.get("personalMeetingRoomLink"),
                    source="created", dial=room.get("sipAddress"),
                    meeting_id=telephony.get("accessCode") or None,
                    extra={"webex_kind": "personal_room"})
