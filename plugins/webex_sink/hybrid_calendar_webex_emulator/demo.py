"""The Webex emulator's part of ``hybrid-calendar demo`` (hook ``prepare_demo``).

Starts the emulator with the demo's users (each with a Personal Room and Webex Calling)
and one workspace, ``Room 1``, whose device is linked to the room calendar
``room-1@<domain>``, on the demo's clock. The organisation's administrator authorises a
Service App for the gateway and a bot is created for Join cards and ``@meet`` spaces; the
``[webex]`` settings returned point the ``webex`` sink at the emulator with those
credentials. It plays the walkthrough's meeting-service role (:class:`WebexDemoService`),
answering from what the emulator recorded, and reports what the gateway made in Webex.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hybrid_calendar import hookimpl
from hybrid_calendar.demo_roles import Joinable, RoomBooking, Space
from hybrid_calendar.demo_setup import DemoPart, DemoSetup
from hybrid_calendar_webex_emulator.rooms import space_meeting_info
from hybrid_calendar_webex_emulator.state import WebexState

ROOM_WORKSPACES = 1
"""Workspaces the demo's Webex organisation has (``room-1@<domain>`` is the first's)."""


class WebexDemoService:
    """The walkthrough's meeting-service role over the emulator's state."""

    name = "Webex"
    schedule_keyword = "@webex:onetime"
    personal_keyword = "@webex"
    space_keyword = "@meet"

    def __init__(self, state: WebexState, domain: str) -> None:
        self.state = state
        self.room = f"room-1@{domain}"

    def scheduled_meeting(self, host: str, title: str) -> Joinable | None:
        """A meeting series ``POST /meetings`` made for ``host`` titled ``title``."""
        with self.state.lock:
            for meeting in self.state.meetings.values():
                if meeting.get("hostEmail") == host and meeting.get("title") == title:
                    return Joinable(str(meeting["webLink"]), meeting.get("sipAddress"))
        return None

    def personal_room(self, user: str) -> Joinable | None:
        """The user's Personal Room link and video address."""
        person = self.state.person_by_email(user)
        room = (person or {}).get("_pmr")
        if not room:
            return None
        return Joinable(str(room["personalMeetingRoomLink"]), room.get("sipAddress"))

    def space(self, title: str) -> Space | None:
        """A group space titled ``title``, its meeting link and its people."""
        with self.state.lock:
            for room in self.state.rooms.values():
                if room.get("type") == "group" and room.get("title") == title:
                    info = space_meeting_info(self.state, room)
                    people = sorted(
                        self.state.people[m["personId"]]["emails"][0]
                        for m in self.state.memberships.values()
                        if m["roomId"] == room["id"]
                        and self.state.people[m["personId"]].get("type") == "person")
                    return Space(title, Joinable(info["meetingLink"], info["sipAddress"]),
                                 tuple(people))
        return None

    def join_buttons(self, user: str) -> Sequence[str]:
        """The ``Action.OpenUrl`` links of the Join cards the user received."""
        links = []
        for message in self.state.received_messages(user):
            for attachment in message.get("attachments") or []:
                for action in (attachment.get("content") or {}).get("actions") or []:
                    if action.get("type") == "Action.OpenUrl":
                        links.append(str(action.get("url")))
        return links

    def room_bookings(self) -> Sequence[RoomBooking]:
        """Every device's bookings (what ``Bookings.List`` shows)."""
        found = []
        for device_id, device in list(self.state.devices.items()):
            for booking in self.state.device_bookings(device_id):
                found.append(RoomBooking(
                    device=str(device.get("displayName") or device_id),
                    title=str(booking.get("Title", "")),
                    start=datetime.fromisoformat(
                        str(booking["Time"]["StartTime"]).replace("Z", "+00:00")),
                    dial=booking_dial(booking)))
        return found

    def out_of_office(self, user: str) -> bool:
        """Whether the Calling personal assistant is on with presence out of office."""
        person = self.state.person_by_email(user)
        if person is None:
            return False
        with self.state.lock:
            assistant = dict(self.state.personal_assistant.get(person["id"]) or {})
        return bool(assistant.get("enabled")) and assistant.get("presence") == "OUT_OF_OFFICE"


def booking_dial(booking: dict[str, Any]) -> tuple[str, ...]:
    """The numbers a booking's device dials (``DialInfo.Calls.Call[].Number``, ``Number``)."""
    calls = ((booking.get("DialInfo") or {}).get("Calls") or {}).get("Call") or []
    numbers = [str(c.get("Number")) for c in calls if c.get("Number")]
    return tuple(numbers + ([str(booking["Number"])] if booking.get("Number") else []))


def made_in_webex(state: WebexState) -> list[str]:
    """Lines describing the meetings, spaces and room bookings in the emulator, and the
    people whose Webex Calling personal assistant is on (out of office)."""
    with state.lock:
        meetings = [dict(m) for m in state.meetings.values()]
        spaces = [dict(r) for r in state.rooms.values() if r.get("type") == "group"]
        bookings = {state.devices[d].get("displayName") or d: list(b)
                    for d, b in state.bookings.items() if b}
        away = sorted((state.people[p]["emails"][0], a.get("presence", ""))
                      for p, a in state.personal_assistant.items() if a.get("enabled"))
    lines = [f"Made in Webex (emulator): {len(meetings)} scheduled meeting(s), "
             f"{len(spaces)} space(s), {sum(map(len, bookings.values()))} room booking(s)"]
    lines += [f"  meeting  {m.get('title', ''):<18} host {m.get('hostEmail', '')}  "
              f"{m.get('webLink', '')}  {m.get('sipAddress', '')}" for m in meetings]
    lines += [f"  space    {r.get('title', ''):<18}" for r in spaces]
    lines += [f"  booking  {b.get('Title', ''):<18} on {device}"
              for device, items in bookings.items() for b in items]
    lines += [f"  calling  {email} personal assistant: {presence}" for email, presence in away]
    return lines


@hookimpl
def prepare_demo(demo: DemoSetup) -> DemoPart:
    """Start a Webex emulator for the demo users; configure the ``webex`` sink for it."""
    from hybrid_calendar_webex_emulator.testing import running_webex_emulator

    emu = demo.cleanup.enter_context(running_webex_emulator(
        demo.domain, demo.users, workspaces=ROOM_WORKSPACES, clock=demo.clock))
    app = emu.state.create_service_app("Hybrid Calendar demo")
    emu.state.authorize_service_app(app.application_id)
    _, bot_token = emu.state.create_bot("Hybrid Calendar demo", "hybrid-calendar-demo")
    return DemoPart(
        settings={"webex": {"api_base_url": emu.api_base,
                            "service_app_id": app.application_id,
                            "client_id": app.client_id, "client_secret": app.client_secret,
                            "applications_token": emu.admin_token, "bot_token": bot_token,
                            "target_org_id": emu.state.org_id}},
        notes=(f"Webex emulator on {emu.base_url}",),
        report=lambda: made_in_webex(emu.state),
        meeting_service=WebexDemoService(emu.state, demo.domain))
