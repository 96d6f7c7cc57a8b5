"""A full sync that finds the calendar as stored (after a token reset, or an activation of
a user whose meetings are stored) tells no one: no meetings-changed notification (none
queued, none delivered to a sink or to the user's stream outbox) and no
``mirror_meetings`` call. A change found by the next one is told once, with exactly
the meeting that changed. On SQLite and on PostgreSQL, through the whole gateway against
the Google emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hybrid_calendar.models import NotificationKind, User
from hybrid_calendar.people.service import EVENT_NAMES
from hybrid_calendar_google_emulator.testing import RunningEmulator

from .conftest import ALICE, MirrorRecorder, Stack, running_stack
from .test_gateway_with_emulator import at

pytestmark = pytest.mark.anyio

MEETINGS = EVENT_NAMES[NotificationKind.MEETINGS_CHANGED]
"""The stream's name of a meetings-changed notification."""


@pytest.fixture
async def stack(store_url: str | None, emulator: RunningEmulator,
                tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(emulator, tmp_path, database=store_url,
                             plugins=["google", "join_info", "kms_local", "people"]) as running:
        yield running


async def _stream_outbox(stack: Stack, email: str) -> list[tuple[Any, ...]]:
    """The meetings events of the user's stream outbox (what the SSE stream replays):
    kind and key, in order."""
    user_id = stack.user_ids[email]
    return list(await stack.gateway.store.call(lambda db: [tuple(row) for row in db.execute(
        "SELECT kind, key FROM people_outbox WHERE user_id = ? AND kind = ? ORDER BY seq",
        [user_id, MEETINGS]).fetchall()]))


async def _told(stack: Stack) -> tuple[int, int]:
    """Meetings-changed notifications delivered to the sink, and ever queued."""
    queued = [n for n in await stack.gateway.store.list_notifications(
        await _user(stack)) if n.kind is NotificationKind.MEETINGS_CHANGED]
    return len(stack.sink.of_kind(NotificationKind.MEETINGS_CHANGED)), len(queued)


async def _user(stack: Stack) -> User:
    user = await stack.gateway.store.get_user(stack.user_ids[ALICE])
    assert user is not None
    return user


async def _full_sync(stack: Stack) -> None:
    """Make Alice's sync token answer 410, ask for a sync and wait: a full sync."""
    gone_before = sum(r.status == 410 for r in stack.calls(ALICE, "GET", "/events"))
    stack.emu.state.invalidate_sync_tokens(ALICE)
    response = await stack.admin.post(f"/api/v1/users/{stack.user_ids[ALICE]}/sync")
    assert response.status_code == 202, response.text
    await stack.idle()
    assert sum(r.status == 410 for r in stack.calls(ALICE, "GET", "/events")) \
        == gone_before + 1, "the sync was a full one"


async def _activated_with_two_meetings(stack: Stack) -> tuple[MirrorRecorder, dict[str, Any]]:
    """A ``mirror_meetings`` recorder registered, then Alice activated with two meetings
    (the first with a Meet link); the recorder and the first event."""
    mirror = MirrorRecorder()
    stack.gateway.pm.register(mirror, name="mirror-recorder")
    review = stack.emu.state.insert_event(ALICE, at(2, summary="Design review",
                                                    location="https://meet.google.com/abc"))
    stack.emu.state.insert_event(ALICE, at(5, summary="Planning"))
    await stack.activate(ALICE)
    return mirror, review


async def test_a_full_sync_of_an_unchanged_calendar_tells_no_one(stack: Stack) -> None:
    mirror, review = await _activated_with_two_meetings(stack)
    meetings = await stack.meetings(ALICE)
    assert sorted(m["title"] for m in meetings) == ["Design review", "Planning"]
    told = await _told(stack)
    assert told == (1, 1)  # the first sync: both meetings are new
    outbox = await _stream_outbox(stack, ALICE)
    assert len(outbox) == 1
    assert len(mirror.calls) == 1 and len(mirror.calls[0][0]) == 2

    await _full_sync(stack)  # the calendar as stored: nothing to tell
    await _full_sync(stack)
    syncs = len(stack.calls(ALICE, "GET", "/events"))
    assert (await stack.user(ALICE))["state"] == "active"
    await stack.activate(ALICE)  # added again while active: its cursor reset, a full sync
    assert len(stack.calls(ALICE, "GET", "/events")) > syncs
    assert await stack.meetings(ALICE) == meetings
    assert await _told(stack) == told
    assert await _stream_outbox(stack, ALICE) == outbox
    assert len(mirror.calls) == 1

    stack.emu.control({"drop_notifications": 1.0})  # only a full sync finds the change
    stack.emu.state.patch_event(ALICE, review["id"], {"summary": "Design review (moved)"})
    await stack.idle()
    assert await _told(stack) == told
    await _full_sync(stack)  # one meeting changed: told once, with that meeting
    assert sorted(m["title"] for m in await stack.meetings(ALICE)) == [
        "Design review (moved)", "Planning"]
    assert await _told(stack) == (told[0] + 1, told[1] + 1)
    changed = await _stream_outbox(stack, ALICE)
    assert changed[:len(outbox)] == outbox
    assert len(changed) == len(outbox) + 1
    assert mirror.calls[1:] == [([review["id"]], [])]


async def test_a_meeting_a_full_sync_no_longer_finds_is_mirrored_as_deleted(
        stack: Stack) -> None:
    """Google lists no tombstone in a full sync (no ``showDeleted``): a meeting deleted
    while the gateway was not told reaches ``mirror_meetings`` as deleted all the same,
    so a room device drops its booking."""
    mirror, review = await _activated_with_two_meetings(stack)
    assert len(mirror.calls) == 1

    stack.emu.control({"drop_notifications": 1.0})  # the gateway is not told
    stack.emu.state.delete_event(ALICE, review["id"])
    await stack.idle()
    assert len(mirror.calls) == 1
    await _full_sync(stack)
    assert [m["title"] for m in await stack.meetings(ALICE)] == ["Planning"]
    assert mirror.calls[1:] == [([], [review["id"]])]
