"""The Google emulator's part of ``hybrid-calendar demo`` (hook ``prepare_demo``).

Starts the emulator with the demo's users, writes its service-account key into the demo's
data directory, seeds invitations that exercise join-link detection and keyword
scheduling (Zoom, Teams, SIP; ``@webex``, ``@webex:onetime`` with the room
``room-1@<domain>``, ``@meet`` and ``@meet:meet``), a vacation responder and a German
calendar for the first user, and points the ``google`` plugin at the emulator. Once the
users are synced, it reports the join block the gateway wrote into the German
organiser's ``@webex:onetime`` invite.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from hybrid_calendar import hookimpl
from hybrid_calendar.demo_setup import DemoPart, DemoSetup

if TYPE_CHECKING:
    from hybrid_calendar_google_emulator.state import EmulatorState


def demo_events(now: datetime, users: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Invitations (Google ``Event`` resources) for the first three demo users."""
    def at(hours: float, minutes: int = 30) -> dict[str, dict[str, str]]:
        start = (now + timedelta(hours=hours)).replace(second=0, microsecond=0)
        return {"start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
                "end": {"dateTime": (start + timedelta(minutes=minutes)).isoformat(),
                        "timeZone": "UTC"}}

    domain = users[0].partition("@")[2]
    return {
        users[0]: [
            {"summary": "Design review", **at(0.1),
             "description": "Join Zoom Meeting\nhttps://us02web.zoom.us/j/81234567890?pwd=abc"
                            "\nMeeting ID: 812 3456 7890",
             "attendees": [{"email": users[1]}]},
            {"summary": "Weekly sync", **at(26), "location":
                "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0",
             "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4"]},
            {"summary": "Customer call", **at(50), "location": "@meet",
             "attendees": [{"email": users[1]}]},
            {"summary": "Team-Runde", **at(4), "location": "@webex"},
            {"summary": "Angebot", **at(6, 60), "location": "Raum 1 @webex:onetime",
             "description": "Agenda: Preise, Fragen",
             "attendees": [{"email": users[1]},
                           {"email": f"room-1@{domain}", "resource": True}]},
            {"summary": "Partner call", **at(30), "location": "@meet:meet"},
        ],
        users[1]: [
            {"summary": "Board room call", **at(3), "location": f"sip:board@video.{domain}"},
        ],
        users[2]: [],
    }


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
    emu.state.set_vacation(demo.users[2], {
        "enableAutoReply": True, "responseSubject": "Out of office",
        "startTime": str(int((demo.now - timedelta(days=1)).timestamp() * 1000)),
        "endTime": str(int((demo.now + timedelta(days=5)).timestamp() * 1000))})
    emu.state.set_setting(demo.users[0], "locale", "de")
    return DemoPart(
        settings={"google": {"service_account_file": str(key_file),
                             "calendar_base_url": emu.base_url + "/calendar/v3",
                             "gmail_base_url": emu.base_url}},
        notes=(f"Google emulator on {emu.base_url}",),
        report=lambda: [*keyword_results(emu.state, seeded, inserted),
                        *written_join_block(emu.state, demo.users[0],
                                            inserted[demo.users[0], "Angebot"])])


def keyword_results(state: EmulatorState, seeded: dict[str, list[dict[str, Any]]],
                    inserted: dict[tuple[str, str], str]) -> list[str]:
    """For each seeded invite with a scheduling keyword: its Location before and after."""
    lines = ["Keywords in Location and what the gateway wrote there (@webex: Personal Room,",
             "  @webex:onetime: a new Webex meeting, @meet: a Webex space, @meet:meet: "
             "Google Meet):"]
    for user, events in seeded.items():
        for event in events:
            if "@" in event.get("location", "") and "sip:" not in event["location"]:
                now = state.get_event(user, inserted[user, event["summary"]])
                lines.append(f"  {event['summary']:<14} {event['location']:<22} -> "
                             f"{now.get('location', '')}")
    return lines


def written_join_block(state: EmulatorState, organiser: str, event_id: str) -> list[str]:
    """The Location and description the gateway wrote into ``organiser``'s
    ``@webex:onetime`` invite ("Angebot"), as lines to print."""
    event = state.get_event(organiser, event_id)
    return ["", f"The invite 'Angebot' in {organiser}'s calendar (locale de) after the gateway:",
            f"  Location: {event.get('location', '')}",
            *(f"  | {line}" for line in str(event.get("description", "")).splitlines())]
