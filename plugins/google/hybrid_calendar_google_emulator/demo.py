"""The Google emulator's part of ``hybrid-calendar demo`` (hook ``prepare_demo``).

Starts the emulator with the demo's users, writes its service-account key into the demo's
data directory, seeds a few invitations that show join-link detection and scheduling
beside the walkthrough's (Teams in Location, a weekly series; a SIP address; ``@webex``
and ``@meet:meet``), and points the ``google`` plugin at the emulator. It plays the
walkthrough's calendar role (:class:`GoogleDemoCalendar`): invitations go in through the
emulator's state, and what the gateway wrote back is read from it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from hybrid_calendar import hookimpl
from hybrid_calendar.demo_roles import Invite, StoredInvite
from hybrid_calendar.demo_setup import DemoPart, DemoSetup

if TYPE_CHECKING:
    from hybrid_calendar_google_emulator.state import EmulatorState


def event_times(start: datetime, minutes: int) -> dict[str, dict[str, str]]:
    """A Google event's ``start`` and ``end`` in UTC."""
    return {"start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
            "end": {"dateTime": (start + timedelta(minutes=minutes)).isoformat(),
                    "timeZone": "UTC"}}


def demo_events(now: datetime, users: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Invitations (Google ``Event`` resources) seeded before the users are activated."""
    def at(hours: float, minutes: int = 30) -> dict[str, dict[str, str]]:
        return event_times((now + timedelta(hours=hours)).replace(second=0, microsecond=0),
                           minutes)

    domain = users[0].partition("@")[2]
    return {
        users[0]: [
            {"summary": "Weekly sync", **at(26), "location":
                "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0",
             "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4"]},
            {"summary": "Team-Runde", **at(4), "location": "@webex"},
            {"summary": "Partner call", **at(30), "location": "@meet:meet"},
        ],
        users[1]: [
            {"summary": "Board room call", **at(3), "location": f"sip:board@video.{domain}"},
        ],
    }


class GoogleDemoCalendar:
    """The walkthrough's calendar role over the emulator's state."""

    name = "Google Calendar"

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    def add_invite(self, invite: Invite) -> str:
        """Insert the invitation as its organiser (the emulator copies it to attendees)."""
        attendees = [{"email": a} for a in invite.attendees] + [
            {"email": r, "resource": True} for r in invite.rooms]
        body: dict[str, Any] = {"summary": invite.title,
                                **event_times(invite.start, invite.minutes)}
        if invite.location:
            body["location"] = invite.location
        if invite.description:
            body["description"] = invite.description
        if attendees:
            body["attendees"] = attendees
        return str(self.state.insert_event(invite.organiser, body)["id"])

    def stored_invite(self, organiser: str, event_id: str) -> StoredInvite:
        """The event as the organiser's calendar holds it."""
        event = self.state.get_event(organiser, event_id)
        return StoredInvite(str(event.get("location", "")), str(event.get("description", "")))

    def set_locale(self, user: str, locale: str) -> None:
        """The Calendar ``locale`` setting."""
        self.state.set_setting(user, "locale", locale)

    def set_vacation(self, user: str, start: datetime, end: datetime) -> None:
        """Gmail's vacation responder, on from ``start`` to ``end``."""
        self.state.set_vacation(user, {
            "enableAutoReply": True, "responseSubject": "Out of office",
            "startTime": str(int(start.timestamp() * 1000)),
            "endTime": str(int(end.timestamp() * 1000))})

    def watched(self, user: str) -> bool:
        """A live ``events.watch`` channel on the user's primary calendar."""
        with self.state.lock:
            return bool(self.state.channels.for_calendar(user))


@hookimpl
def prepare_demo(demo: DemoSetup) -> DemoPart:
    """Start a seeded emulator for the demo users; configure the ``google`` plugin for it."""
    from hybrid_calendar_google_emulator.testing import running_emulator

    emu = demo.cleanup.enter_context(running_emulator(domain=demo.domain, users=demo.users))
    key_file = demo.data_dir / "service-account.json"
    key_file.write_text(json.dumps(emu.service_account_info))
    key_file.chmod(0o600)
    seeded = demo_events(demo.now, demo.users)
    inserted = {(user, event["summary"]): emu.state.insert_event(user, event)["id"]
                for user, events in seeded.items() for event in events}
    return DemoPart(
        settings={"google": {"service_account_file": str(key_file),
                             "calendar_base_url": emu.base_url + "/calendar/v3",
                             "gmail_base_url": emu.base_url}},
        notes=(f"Google emulator on {emu.base_url}",),
        report=lambda: keyword_results(emu.state, seeded, inserted),
        calendar=GoogleDemoCalendar(emu.state))


def keyword_results(state: EmulatorState, seeded: dict[str, list[dict[str, Any]]],
                    inserted: dict[tuple[str, str], str]) -> list[str]:
    """For each seeded invite with a scheduling keyword: its Location before and after."""
    lines = ["Other seeded invites with a keyword in Location, and what the gateway wrote "
             "there:"]
    for user, events in seeded.items():
        for event in events:
            if event.get("location", "").startswith("@"):
                now = state.get_event(user, inserted[user, event["summary"]])
                lines.append(f"  {event['summary']:<14} {event['location']:<12} -> "
                             f"{now.get('location', '')}")
    return lines
