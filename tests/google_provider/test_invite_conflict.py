"""A conflicting invite write (412) carries the gateway's change over to the organiser's
concurrent edit instead of writing its stale plan back over it."""

from __future__ import annotations

from typing import Any

import pytest

from hybrid_calendar.join_info.keywords import KeywordConfig, find_keyword
from hybrid_calendar.join_info.render import BEGIN_MARKER, plan_invite_update
from hybrid_calendar.models import JoinInfo, User, UserState

from .test_emulator_sync import _timed

ALICE = User(id="u1", org_id="org1", email="alice@example.com", state=UserState.ACTIVE)


JOIN = JoinInfo(provider="webex", source="created", url="https://example.webex.com/meet/alice")


@pytest.mark.anyio
async def test_conflicting_write_keeps_the_organisers_concurrent_edit(
        emu_gateway: Any, emulator: Any) -> None:
    """A 412 means someone edited the invite after it was listed: the retried write must
    carry their edit, not the description and Location planned from the stale copy."""
    created = emulator.state.insert_event("alice@example.com", _timed(
        "Planning", 1, location="Room 9 @webex", description="Agenda: budget"))
    batch = await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, None)
    event = next(e for e in batch.events if e.id == created["id"])
    request = find_keyword(event.location, KeywordConfig())
    assert request is not None
    update = plan_invite_update(event, JOIN, "en", request)
    assert update is not None
    # the organiser edits the agenda and the room while the meeting is being created
    emulator.state.patch_event("alice@example.com", created["id"], {
        "description": "Agenda: budget, hiring", "location": "Room 12 @webex"})
    await emu_gateway.hooks.update_invite(emu_gateway, ALICE, event, update)
    stored = emulator.state.get_event("alice@example.com", created["id"])
    assert stored["description"].startswith("Agenda: budget, hiring")
    assert stored["description"].count(BEGIN_MARKER) == 1
    assert stored["location"] == "Room 12 https://example.webex.com/meet/alice"


@pytest.mark.parametrize(("base", "ours", "theirs", "expected"), [
    ("@webex", "https://x.webex", "Room 4 @webex", "Room 4 https://x.webex"),
    ("Room 9 @webex", "Room 9 https://x", "Room 9, floor 2 @webex", "Room 9, floor 2 https://x"),
    ("Room 9 @webex", "Room 9 https://x", "Room 9", "Room 9"),  # keyword removed: theirs
    ("Room 9 @webex", "Room 9 https://x", "Room 9 @webex", "Room 9 https://x"),
])
def test_rebased_location(base: str, ours: str, theirs: str, expected: str) -> None:
    from hybrid_calendar_google.invites import _rebase_location
    assert _rebase_location(base, ours, theirs) == expected
