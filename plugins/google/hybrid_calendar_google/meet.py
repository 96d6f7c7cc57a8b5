"""Google Meet for the ``google_meet`` keyword action (``@meet`` when so configured).

A Meet conference is attached to the organiser's event with
``conferenceData.createRequest`` (``conferenceDataVersion=1``) in the same
``events.update`` that writes the gateway's marker and takes the keyword out of
Location (:mod:`.invites`): one write per keyword event. So :func:`create_meeting` calls
nothing; it answers a :class:`~hybrid_calendar.models.JoinInfo` whose
``extra["conference"]`` names the conference solution (``hangoutsMeet``), and the core
plans that write (:func:`hybrid_calendar.join_info.render.plan_invite_update`). Google
shows the conference itself — the Join button, the link and the dial-in numbers, in
each reader's language — so no join block is written into the description, whose link
would only be known after the write. The written event carries the conference; its link
is the meeting's join information from then on (parsed from ``conferenceData``). A
conference Google reports ``pending`` arrives complete with a later change of the event.

The request id is derived from the event id, so a retry never creates a second
conference: Google ignores a ``createRequest`` whose ``requestId`` it has already seen
for the event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from hybrid_calendar import hookimpl
from hybrid_calendar.models import JoinInfo

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import CalendarEvent, KeywordRequest, User

ACTION = "google_meet"
SOLUTION = "hangoutsMeet"
"""``conferenceSolutionKey.type`` of a Google Meet conference."""


def request_id(event: CalendarEvent) -> str:
    """Stable ``createRequest.requestId`` for an event (at most 64 characters)."""
    return "hc-" + hashlib.sha256(event.id.encode()).hexdigest()[:40]


def conference_request(event: CalendarEvent, solution: str) -> dict[str, Any]:
    """The ``conferenceData`` asking Google to create a ``solution`` conference."""
    return {"createRequest": {"requestId": request_id(event),
                              "conferenceSolutionKey": {"type": solution}}}


@hookimpl
def create_meeting(gateway: Gateway, user: User, event: CalendarEvent,
                   request: KeywordRequest) -> Awaitable[JoinInfo] | None:
    """Ask for a Google Meet conference in the invite write (action ``google_meet``)."""
    if user.provider != "google" or request.action != ACTION:
        return None
    return _planned()


async def _planned() -> JoinInfo:
    return JoinInfo(provider="meet", url=None, source="created",
                    extra={"conference": SOLUTION})
