"""The Webex emulator's part of ``hybrid-calendar demo`` (hook ``prepare_demo``).

Starts the emulator with the demo's users (each with a Personal Room and Webex Calling)
and one workspace, ``Room 1``, whose device is linked to the room calendar
``room-1@<domain>``. The organisation's administrator authorises a Service App for the
gateway and a bot is created for Join cards and ``@meet`` spaces; the ``[webex]``
settings returned point the ``webex`` sink at the emulator with those credentials. Once
the users are synced, the part reports what the gateway made in Webex: scheduled
meetings, ``@meet`` spaces, the bookings on the room device and the personal assistant of
the user who is out of office.
"""

from __future__ import annotations

from hybrid_calendar import hookimpl
from hybrid_calendar.demo_setup import DemoPart, DemoSetup
from hybrid_calendar_webex_emulator.state import WebexState

ROOM_WORKSPACES = 1
"""Workspaces the demo's Webex organisation has (``room-1@<domain>`` is the first's)."""


def made_in_webex(state: WebexState) -> list[str]:
    """Lines describing the meetings, spaces and room bookings in the emulator, and the
    people whose Webex Calling personal assistant is on (out of office)."""
    with state.lock:
        meetings = [dict(m) for m in state.meetings.values()]
        spaces = [dict(r) for r in state.rooms.values() if r.get("type") == "group"]
        members = {r["id"]: sorted(state.people[m["personId"]]["emails"][0]
                                   for m in state.memberships.values()
                                   if m["roomId"] == r["id"]
                                   and state.people[m["personId"]].get("type") == "person")
                   for r in spaces}
        bookings = {state.devices[d].get("displayName") or d: list(b)
                    for d, b in state.bookings.items() if b}
        away = sorted((state.people[p]["emails"][0], a.get("presence", ""))
                      for p, a in state.personal_assistant.items() if a.get("enabled"))
    lines = [f"Made in Webex (emulator): {len(meetings)} scheduled meeting(s), "
             f"{len(spaces)} space(s), {sum(map(len, bookings.values()))} room booking(s)"]
    lines += [f"  meeting  {m.get('title', ''):<18} host {m.get('hostEmail', '')}  "
              f"{m.get('webLink', '')}  {m.get('sipAddress', '')}" for m in meetings]
    lines += [f"  space    {r.get('title', ''):<18} members {', '.join(members[r['id']])}"
              for r in spaces]
    lines += [f"  booking  {b.get('Title', ''):<18} on {device}"
              for device, items in bookings.items() for b in items]
    lines += [f"  calling  {email} personal assistant: {presence}" for email, presence in away]
    return lines


@hookimpl
def prepare_demo(demo: DemoSetup) -> DemoPart:
    """Start a Webex emulator for the demo users; configure the ``webex`` sink for it."""
    from hybrid_calendar_webex_emulator.testing import running_webex_emulator

    emu = demo.cleanup.enter_context(running_webex_emulator(
        demo.domain, demo.users, workspaces=ROOM_WORKSPACES))
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
        report=lambda: made_in_webex(emu.state))
