"""Onboarding and syncing users leaves no reference cycle of the gateway's own: what an
activation and a sync allocate (responses, errors, their frames) goes as soon as its last
reference does. Cyclic garbage waits for the collector, whose pass over it pauses the
event loop (push answers, pages) for as long as freeing it takes: 30,000 objects took
47 ms on the build machine (docs/performance.md). Through the whole gateway against the
Google emulator; garbage of the emulator, the test's own client and the standard library
is not the gateway's and is not counted."""

from __future__ import annotations

import collections
import gc
import types
from collections.abc import Iterator

import pytest

from .conftest import ALICE, BOB, CAROL, Stack
from .test_gateway_with_emulator import at

pytestmark = pytest.mark.anyio

OURS = ("hybrid_calendar", "hybrid_calendar_google", "hybrid_calendar_webex",
        "hybrid_calendar_kms")
"""The gateway's packages (not the emulators': ``hybrid_calendar_google_emulator``...)."""


def _ours(thing: object) -> str | None:
    """What ``thing`` is, when it is the gateway's (an instance of one of its classes, or a
    frame of its code); else ``None``."""
    if isinstance(thing, types.FrameType):
        code = thing.f_code  # a folder of the path names the package
        ours = any(part in OURS for part in code.co_filename.split("/"))
        return f"frame of {code.co_qualname}" if ours else None
    kind = type(thing)
    return kind.__qualname__ if kind.__module__.split(".")[0] in OURS else None


@pytest.fixture
def saved_garbage() -> Iterator[list[object]]:
    """Cyclic garbage made while the test runs, kept for inspection (``DEBUG_SAVEALL``)."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


async def test_onboarding_and_syncs_leave_no_cycle_of_the_gateways(
        stack: Stack, saved_garbage: list[object]) -> None:
    for email in (ALICE, BOB, CAROL):
        stack.emu.state.insert_event(email, at(2, summary="Review", location="@webex"))
        stack.emu.state.insert_event(email, at(5, summary="Call",
                                               location="https://meet.google.com/abc"))
    await stack.activate(ALICE)  # first use of everything lazy: imports, caches, keys
    gc.collect()
    saved_garbage.clear()

    await stack.activate(BOB)  # validation, channel, presence, full sync
    await stack.activate(CAROL)
    stack.emu.state.insert_event(BOB, at(8, summary="Later"))  # a push, an incremental sync
    await stack.idle()
    assert len(await stack.meetings(BOB)) == 3
    gc.collect()
    found = collections.Counter(name for name in map(_ours, saved_garbage) if name)
    assert found == {}, f"the gateway left reference cycles: {found.most_common(10)}"


async def test_a_refused_channel_leaves_no_cycle_of_the_gateways(
        stack: Stack, saved_garbage: list[object]) -> None:
    """The refusal travels from the watch to the user's reason as an error object (its
    traceback holds the frames it passed, none of which may hold it in turn)."""
    await stack.activate(ALICE)  # first use of everything lazy
    stack.emu.control({"errors": [{"status": 404, "reason": "notFound", "count": 1,
                                   "path": "/watch$"}]})
    gc.collect()
    saved_garbage.clear()

    user = await stack.activate(BOB)
    assert (user["state"], user["reason_code"]) == ("error", "calendar_unreadable")
    gc.collect()
    found = collections.Counter(name for name in map(_ours, saved_garbage) if name)
    assert found == {}, f"the gateway left reference cycles: {found.most_common(10)}"
