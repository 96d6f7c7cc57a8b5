"""Google calls and quota units at the floor, as the emulator counts and charges them
(issue 14): an ordinary change is one incremental list; a keyword event one list, one
write and at most one list for the echo of that write; onboarding repeats no call."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hybrid_calendar_google.context import context

from .conftest import ALICE, Stack

pytestmark = pytest.mark.anyio


def at(hours: float, **extra: Any) -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0)
    return {"start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(minutes=30)).isoformat()}, **extra}


class Calls:
    """The emulator's request log from a mark on: operations, and units charged."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.mark = len(stack.emu.state.request_log)

    def since(self) -> list[Any]:
        records = self.stack.emu.state.request_log[self.mark:]
        self.mark = len(self.stack.emu.state.request_log)
        return [r for r in records if r.user == ALICE]


def operations(records: list[Any]) -> Counter[str]:
    return Counter(str(r.operation).removeprefix("calendar.") for r in records)


async def test_onboarding_repeats_no_call(stack: Stack) -> None:
    stack.emu.state.insert_event(ALICE, at(5, summary="Plain", location="Room 1"))
    stack.emu.state.insert_event(ALICE, at(6, summary="Meet", location="@meet"))
    calls = Calls(stack)
    await stack.activate(ALICE)
    records = calls.since()
    api = [r for r in records if r.operation != "oauth2.token"]
    assert operations(api) == {"settings.list": 1,  # locale and time zone
                               "gmail.users.settings.getVacation": 1, "events.watch": 1,
                               "events.list": 2,  # the full sync, the echo of the write
                               "events.update": 1}
    repeated = Counter((r.method, r.path) for r in api if r.operation != "calendar.events.list")
    assert [key for key, count in repeated.items() if count > 1] == []
    assert sum(r.units for r in records) == 6
    # the gateway's budget took exactly the units the emulator charged
    assert len(context(stack.gateway).quota.project) == 6


async def test_an_ordinary_change_costs_one_incremental_list(stack: Stack) -> None:
    event = stack.emu.state.insert_event(ALICE, at(5, summary="Plain", location="Room 1"))
    await stack.activate(ALICE)
    calls = Calls(stack)
    stack.emu.state.patch_event(ALICE, event["id"], {"summary": "Plain, edited"})
    await stack.idle()
    records = calls.since()
    assert [(r.operation, r.units) for r in records] == [("calendar.events.list", 1)]


async def test_a_keyword_event_costs_a_list_one_write_and_one_echo(stack: Stack) -> None:
    event = stack.emu.state.insert_event(ALICE, at(5, summary="Plain", location="Room 1"))
    await stack.activate(ALICE)
    calls = Calls(stack)
    stack.emu.state.patch_event(ALICE, event["id"], {"location": "Room 1 @meet"})
    await stack.idle()
    records = calls.since()
    assert [(r.operation, r.units) for r in records] == [
        ("calendar.events.list", 1), ("calendar.events.update", 1),
        ("calendar.events.list", 1)]  # the echo of the write, which writes nothing


async def test_an_unserved_keyword_is_logged_once_a_minute_not_per_event_and_sync(
        stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    events = [stack.emu.state.insert_event(ALICE, at(5 + n, summary=f"Meeting {n}",
                                                     location="@webex"))
              for n in range(30)]  # no enabled plugin in this stack serves @webex
    unserved = "no enabled plugin creates meetings for keyword"
    with caplog.at_level(logging.WARNING, "hybrid_calendar.engine.invites"):
        await stack.activate(ALICE)
        for event in events[:5]:
            stack.emu.state.patch_event(ALICE, event["id"], {"summary": "edited"})
        await stack.idle()
        assert sum(unserved in r.getMessage() for r in caplog.records) == 1
        stack.clock.advance(timedelta(seconds=61))
        stack.emu.state.patch_event(ALICE, events[6]["id"], {"summary": "edited again"})
        await stack.idle()
    lines = [r.getMessage() for r in caplog.records if unserved in r.getMessage()]
    assert len(lines) == 2
    assert lines[1].endswith("(34 more like it in the last 60 s)")


async def test_per_user_budgets_are_stored_without_the_address(stack: Stack) -> None:
    await stack.activate(ALICE)
    # more than the pool's share of a sub-window (6 of 600): her own budget is taken too
    await context(stack.gateway).quota.acquire(ALICE, units=7)

    def names(handle: Any) -> list[str]:
        return [row[0] for row in
                handle.execute("SELECT DISTINCT name FROM budget_usage").fetchall()]

    stored = await stack.gateway.store.call(names)
    assert any(name.startswith("google:user:") for name in stored)
    assert "google:user" in stored  # the pool's row
    assert not any(ALICE in name or ALICE.split("@")[0] in name for name in stored)
