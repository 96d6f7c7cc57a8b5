"""Deactivation takes away what plugins mirrored of the user's meetings: the gateway
stops following the calendar, so ``mirror_meetings`` is told that every stored meeting
is gone (no meetings, every stored event id as deleted), before the meetings are
deleted. A user whose meetings cannot be read any more (their data key gone) is still
deactivated, with a log line. Through the whole gateway against the Google emulator, on
SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hybrid_calendar_google_emulator.testing import RunningEmulator

from .conftest import ALICE, BOB, MirrorRecorder, Stack, running_stack
from .test_gateway_with_emulator import at

pytestmark = pytest.mark.anyio


@pytest.fixture
async def stack(store_url: str | None, emulator: RunningEmulator,
                tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(emulator, tmp_path, database=store_url) as running:
        yield running


async def test_deactivation_tells_the_mirrors_every_stored_meeting_is_gone(
        stack: Stack) -> None:
    mirror = MirrorRecorder()
    stack.gateway.pm.register(mirror, name="mirror-recorder")
    ids = sorted(stack.emu.state.insert_event(ALICE, at(hours, summary=title))["id"]
                 for hours, title in ((2, "Review"), (5, "Planning"), (30, "Retro")))
    await stack.activate(ALICE)
    await stack.activate(BOB)  # no meetings: nothing mirrored, nothing to take away
    assert mirror.calls == [(ids, [])]

    await stack.deactivate(BOB)
    assert mirror.calls == [(ids, [])]
    await stack.deactivate(ALICE)
    assert mirror.calls == [(ids, []), ([], ids)]
    await stack.deactivate(ALICE)  # again: nothing is stored any more
    assert len(mirror.calls) == 2


async def test_a_user_whose_meetings_cannot_be_read_is_still_deactivated(
        stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    mirror = MirrorRecorder()
    stack.gateway.pm.register(mirror, name="mirror-recorder")
    stack.emu.state.insert_event(ALICE, at(2, summary="Review"))
    await stack.activate(ALICE)
    user = await stack.gateway.store.get_user(stack.user_ids[ALICE])
    assert user is not None
    await stack.gateway.cipher.forget_user(user.org_id, user.id)  # the data key is gone
    with caplog.at_level(logging.WARNING, logger="hybrid_calendar.engine.activation"):
        await stack.deactivate(ALICE)
    assert len(mirror.calls) == 1
    assert any("not read to take their mirrors away" in r.getMessage() for r in caplog.records)
    assert await stack.meetings(ALICE) == []


async def test_without_a_mirroring_plugin_deactivation_reads_no_meetings(
        stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    """No enabled plugin mirrors meetings: there is nothing to take away, so the
    deactivation does not open the user's meetings at all (here their data key is gone:
    a read would fail and log)."""
    assert not stack.gateway.pm.hook.mirror_meetings.get_hookimpls()
    stack.emu.state.insert_event(ALICE, at(2, summary="Review"))
    await stack.activate(ALICE)
    user = await stack.gateway.store.get_user(stack.user_ids[ALICE])
    assert user is not None
    await stack.gateway.cipher.forget_user(user.org_id, user.id)
    with caplog.at_level(logging.WARNING, logger="hybrid_calendar.engine.activation"):
        await stack.deactivate(ALICE)
    assert not any("mirrors" in r.getMessage() for r in caplog.records)
    assert await stack.meetings(ALICE) == []
