"""The Webex sink's invite write stays at one Google write per keyword event (issue 14):
a ``@webex`` edit costs one list, one ``events.update`` (one quota unit) and one list for
the echo of that write, as the Google emulator counts them."""

from __future__ import annotations

import pytest

from ..engine.conftest import Stack
from .conftest import ALICE, WebexWorld, at

pytestmark = pytest.mark.anyio


async def test_a_webex_keyword_costs_one_list_one_write_and_one_echo(world: WebexWorld,
                                                                     stack: Stack) -> None:
    event = world.google.state.insert_event(ALICE, at(3, summary="Sync", location="Room 2"))
    await stack.activate(ALICE)
    mark = len(world.google.state.request_log)
    world.google.state.patch_event(ALICE, event["id"], {"location": "Room 2 @webex"})
    await stack.idle()
    calls = [(r.operation, r.units) for r in world.google.state.request_log[mark:]
             if r.user == ALICE]
    assert calls == [("calendar.events.list", 1), ("calendar.events.update", 1),
                     ("calendar.events.list", 1)]
    stored = world.google.state.get_event(ALICE, event["id"])
    assert stored["location"] == "Room 2 https://example.webex.com/meet/alice"
