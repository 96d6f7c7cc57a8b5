"""A Webex space for ``@meet`` (and ``@webex:space``): members and its meeting link.

The bot (``webex.bot_token``; the organisation's token when no bot is set) creates the
space titled like the event, adds the organiser and the invitees as members, and reads
``GET /rooms/{id}/meetingInfo`` (``meetingLink``, ``sipAddress``, ``meetingNumber``).
Spaces carry no integration tags, so the space made for an event is recorded as the
encrypted organisation secret ``webex_space:<hash of the event id>`` right after it is
created; a retry finds it there and only adds the members still missing (a 409 for one
already in is fine).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from hybrid_calendar.models import JoinInfo
from hybrid_calendar_webex.errors import WebexNotFoundError, WebexRefusedError

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import CalendarEvent, User
    from hybrid_calendar_webex.client import WebexClient

MAX_TITLE = 128


def space_secret_name(event_id: str) -> str:
    """The organisation secret naming the space made for an event."""
    return "webex_space:" + hashlib.sha256(event_id.encode()).hexdigest()[:32]


async def find_or_create_space(gateway: Gateway, client: WebexClient, user: User,
                               event: CalendarEvent, bearer: str | None) -> JoinInfo:
    """The event's space (found, else created), its members, and its meeting link."""
    name = space_secret_name(event.id)
    room_id = await gateway.store.get_org_secret(user.org_id, name)
    if not room_id:
        room = await client.call("POST", "/rooms", bearer=bearer, json={
            "title": (event.summary.strip() or "Meeting")[:MAX_TITLE]})
        room_id = str(room["id"])
        await gateway.store.put_org_secret(user.org_id, name, room_id)
    await add_members(client, room_id, user, event, bearer)
    info = await client.call("GET", f"/rooms/{room_id}/meetingInfo", bearer=bearer) or {}
    return JoinInfo(provider="webex", url=info.get("meetingLink"), source="created",
                    dial=info.get("sipAddress"),
                    meeting_id=str(info.get("meetingNumber") or "") or None,
                    extra={"webex_kind": "space", "webex_room_id": room_id})


async def add_members(client: WebexClient, room_id: str, user: User, event: CalendarEvent,
                      bearer: str | None) -> int:
    """Add the organiser and every invitee (not rooms) to the space; returns how many
    were added. People Webex does not know, and people already in, are skipped."""
    emails = [user.email] + [a.email for a in event.attendees
                             if not a.resource and a.email.casefold() != user.email.casefold()]
    added = 0
    for email in dict.fromkeys(emails):
        try:
            await client.call("POST", "/memberships", bearer=bearer,
                              json={"roomId": room_id, "personEmail": email})
            added += 1
        except (WebexNotFoundError, WebexRefusedError):
            continue  # no Webex account, or already a member (409)
    return added
