"""The admin API's meetings list shows a private meeting (its organiser set the event's
visibility to ``private`` or ``confidential``) as busy time only: when it is, that it is
private, its status and which service it is on, but not its title, place, organiser or
the details to join it. Admins and auditors run the gateway; the meeting's details are
for its attendees, as in Google Calendar. The user's own meetings list still shows
everything (people plugin)."""

from __future__ import annotations

import httpx
import pytest

from hybrid_calendar.admin.credentials import Role, add_credential
from tests.engine.conftest import ALICE, Stack
from tests.engine.test_gateway_with_emulator import at

pytestmark = pytest.mark.anyio

JOIN = "https://acme.zoom.us/j/98765432101?pwd=s3cret"


async def test_a_private_meeting_is_listed_as_busy_time_only(stack: Stack) -> None:
    for visibility in ("private", "confidential", "default"):
        stack.emu.state.insert_event(ALICE, at(
            2, summary=f"Salary talk ({visibility})", location=f"Room 4, {JOIN}",
            visibility=visibility))
    await stack.activate(ALICE)
    secret = await add_credential(stack.gateway, "ann", Role.AUDITOR)
    async with httpx.AsyncClient(base_url=stack.base_url, auth=("ann", secret)) as ann:
        as_auditor = (await ann.get(
            f"/api/v1/users/{stack.user_ids[ALICE]}/meetings")).json()["meetings"]
    listed = await stack.meetings(ALICE)
    assert as_auditor == listed
    by_title = {m["title"]: m for m in listed}
    assert set(by_title) == {None, "Salary talk (default)"}
    shown = by_title["Salary talk (default)"]
    assert shown["private"] is False
    assert shown["location"] == f"Room 4, {JOIN}" and shown["organizer"] == ALICE
    assert shown["join"]["url"] == JOIN and shown["join"]["passcode"] is None

    hidden = [m for m in listed if m["private"]]
    assert len(hidden) == 2
    for meeting in hidden:
        assert meeting["title"] is None and meeting["location"] is None
        assert meeting["organizer"] is None
        assert meeting["join"] == {"provider": "zoom", "source": shown["join"]["source"]}
        assert (meeting["start"], meeting["end"], meeting["status"]) == (
            shown["start"], shown["end"], shown["status"])
        assert "Salary" not in str(meeting) and "98765432101" not in str(meeting)
