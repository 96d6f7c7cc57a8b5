"""Provider hooks against the Google emulator over real HTTP: sync, invites, settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hybrid_calendar.models import InviteUpdate, User, UserState

ALICE = User(id="u1", org_id="org1", email="alice@example.com", state=UserState.ACTIVE)
BOB = User(id="u2", org_id="org1", email="bob@example.com", state=UserState.ACTIVE)


def _at(days: float, hours: float = 10) -> str:
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return (day + timedelta(days=days, hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _timed(summary: str, days: float, **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "start": {"dateTime": _at(days)},
            "end": {"dateTime": _at(days, 11)}, **extra}


@pytest.mark.anyio
async def test_full_sync_returns_window_with_recurring_instances(emu_gateway: Any,
                                                                 emulator: Any) -> None:
    state = emulator.state
    inside = state.insert_event("alice@example.com", _timed("inside", 2))
    state.insert_event("alice@example.com", _timed("too old", -20))
    state.insert_event("alice@example.com", _timed("too far", 60))
    series = state.insert_event("alice@example.com", {
        "summary": "weekly", "start": {"dateTime": _at(-30), "timeZone": "UTC"},
        "end": {"dateTime": _at(-30, 11), "timeZone": "UTC"},
        "recurrence": ["RRULE:FREQ=WEEKLY"]})
    state.insert_event("bob@example.com", _timed("bob's", 1))
    batch = await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, None)
    assert batch.full_sync and batch.next_cursor
    ids = {e.id for e in batch.events}
    assert inside["id"] in ids
    instances = [e for e in batch.events if e.recurring_event_id == series["id"]]
    # 7 days back + 31 ahead holds 5 or 6 weekly instances, and never the master
    assert 5 <= len(instances) <= 6 and series["id"] not in ids
    assert len(batch.events) == len(instances) + 1
    assert all(e.calendar_id == "alice@example.com" for e in batch.events)


@pytest.mark.anyio
async def test_incremental_sync_sees_changes_and_tombstones(emu_gateway: Any,
                                                            emulator: Any) -> None:
    state = emulator.state
    keep = state.insert_event("alice@example.com", _timed("keep", 1))
    gone = state.insert_event("alice@example.com", _timed("gone", 2))
    first = await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, None)
    quiet = await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, first.next_cursor)
    assert quiet.events == () and not quiet.full_sync
    state.patch_event("alice@example.com", keep["id"], {"location": "@webex"})
    state.delete_event("alice@example.com", gone["id"])
    added = state.insert_event("alice@example.com", _timed("new", 3))
    changes = await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, quiet.next_cursor)
    by_id = {e.id: e for e in changes.events}
    assert set(by_id) == {keep["id"], gone["id"], added["id"]}
    assert by_id[keep["id"]].location == "@webex"
    assert by_id[gone["id"]].cancelled
    lists = [r for r in state.request_log if r.operation == "calendar.events.list"]
    assert all(r.status == 200 for r in lists)


@pytest.mark.anyio
async def test_paging_collects_every_page(make_gateway: Any, emulator: Any) -> None:
    from .conftest import emulator_settings

    gateway = await make_gateway(emulator_settings(emulator, page_size=7))
    for index in range(30):
        emulator.state.insert_event("alice@example.com", _timed(f"e{index}", index % 20))
    batch = await gateway.hooks.fetch_changes(gateway, ALICE, None)
    assert len({e.id for e in batch.events}) == 30
    pages = [r for r in emulator.state.request_log if r.operation == "calendar.events.list"]
    assert len(pages) >= 5


@pytest.mark.anyio
async def test_update_invite_writes_once_and_is_a_fixpoint(emu_gateway: Any,
                                                           emulator: Any) -> None:
    created = emulator.state.insert_event("alice@example.com",
                                          _timed("standup", 1, location="@webex"))
    batch = await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, None)
    event = next(e for e in batch.events if e.id == created["id"])
    update = InviteUpdate(location="https://example.webex.com/meet/alice",
                          description="Join Webex meeting", marker="hash-1")
    written = await emu_gateway.hooks.update_invite(emu_gateway, ALICE, event, update)
    stored = emulator.state.get_event("alice@example.com", created["id"])
    assert stored["location"] == update.location
    assert stored["extendedProperties"]["private"]["hcMarker"] == "hash-1"
    assert written.etag == stored["etag"] != event.etag
    # the change comes back through sync carrying the marker: nothing more is written
    changes = await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, batch.next_cursor)
    echoed = next(e for e in changes.events if e.id == created["id"])
    before = len(emulator.state.request_log)
    await emu_gateway.hooks.update_invite(emu_gateway, ALICE, echoed, update)
    assert len(emulator.state.request_log) == before


@pytest.mark.anyio
async def test_update_invite_survives_concurrent_edit(emu_gateway: Any, emulator: Any) -> None:
    created = emulator.state.insert_event("alice@example.com", _timed("1:1", 1))
    batch = await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, None)
    event = next(e for e in batch.events if e.id == created["id"])
    emulator.state.patch_event("alice@example.com", created["id"], {"summary": "1:1 (moved)"})
    update = InviteUpdate(location="https://example.webex.com/meet/alice",
                          description="Join", marker="hash-2")
    await emu_gateway.hooks.update_invite(emu_gateway, ALICE, event, update)
    stored = emulator.state.get_event("alice@example.com", created["id"])
    assert stored["summary"] == "1:1 (moved)"
    assert stored["extendedProperties"]["private"]["hcMarker"] == "hash-2"
    statuses = [(r.operation, r.status, r.units) for r in emulator.state.request_log
                if r.operation in ("calendar.events.update", "calendar.events.get")]
    assert statuses == [("calendar.events.update", 412, 1), ("calendar.events.get", 200, 1),
                        ("calendar.events.update", 200, 1)]  # 3 units, a patch alone costs 3


@pytest.mark.anyio
async def test_settings_and_vacation(emu_gateway: Any, emulator: Any) -> None:
    emulator.state.set_setting("alice@example.com", "locale", "de")
    emulator.state.set_setting("alice@example.com", "timezone", "Europe/Berlin")
    start = datetime(2027, 1, 4, tzinfo=UTC)
    emulator.state.set_vacation("alice@example.com", {
        "enableAutoReply": True, "responseSubject": "Away",
        "startTime": str(int(start.timestamp() * 1000)),
        "endTime": str(int((start + timedelta(days=5)).timestamp() * 1000))})
    check = await emu_gateway.hooks.check_access(emu_gateway, ALICE)
    assert (check.ok, check.locale, check.timezone) == (True, "de", "Europe/Berlin")
    assert await emu_gateway.hooks.read_locale(emu_gateway, ALICE) == "de"
    ooo = await emu_gateway.hooks.read_out_of_office(emu_gateway, ALICE)
    assert ooo.enabled and ooo.start == start and ooo.end == start + timedelta(days=5)
    assert ooo.active_at(start + timedelta(days=1))
    assert not ooo.active_at(start + timedelta(days=6))
    bob = await emu_gateway.hooks.read_out_of_office(emu_gateway, BOB)
    assert not bob.enabled


@pytest.mark.anyio
async def test_only_the_users_asked_for_are_called(emu_gateway: Any, emulator: Any) -> None:
    await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, None)
    await emu_gateway.hooks.read_locale(emu_gateway, ALICE)
    assert {r.user for r in emulator.state.request_log if r.user} == {"alice@example.com"}


@pytest.mark.anyio
async def test_recurring_changes_arrive_as_instances(emu_gateway: Any, emulator: Any) -> None:
    state = emulator.state
    series = state.insert_event("alice@example.com", {
        "summary": "daily", "start": {"dateTime": _at(-1), "timeZone": "UTC"},
        "end": {"dateTime": _at(-1, 11), "timeZone": "UTC"},
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=5"]})
    full = await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, None)
    instances = sorted(e.id for e in full.events)
    assert len(instances) == 5
    state.delete_event("alice@example.com", instances[2])
    changes = await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, full.next_cursor)
    assert [(e.id, e.cancelled, e.recurring_event_id) for e in changes.events] == [
        (instances[2], True, series["id"])]
    state.delete_event("alice@example.com", series["id"])
    gone = await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, changes.next_cursor)
    assert series["id"] not in {e.id for e in gone.events if not e.cancelled}
    assert {e.id for e in gone.events if e.cancelled} >= set(instances) - {instances[2]}


@pytest.mark.anyio
async def test_time_zones_all_day_and_wall_clock_of_series(emu_gateway: Any,
                                                           emulator: Any) -> None:
    from zoneinfo import ZoneInfo

    state = emulator.state
    new_york = ZoneInfo("America/New_York")
    day = datetime.now(UTC).date() + timedelta(days=2)
    offset = state.insert_event("alice@example.com", {
        "summary": "offset", "start": {"dateTime": f"{day}T10:00:00+05:30"},
        "end": {"dateTime": f"{day}T11:00:00+05:30"}})
    all_day = state.insert_event("alice@example.com", {
        "summary": "holiday", "start": {"date": str(day)},
        "end": {"date": str(day + timedelta(days=1))}})
    first = datetime.now(new_york).date() - timedelta(days=30)
    series = state.insert_event("alice@example.com", {
        "summary": "stand-up", "recurrence": ["RRULE:FREQ=WEEKLY"],
        "start": {"dateTime": f"{first}T09:00:00", "timeZone": "America/New_York"},
        "end": {"dateTime": f"{first}T09:30:00", "timeZone": "America/New_York"}})
    batch = await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, None)
    by_id = {e.id: e for e in batch.events}
    assert by_id[offset["id"]].start == datetime.combine(day, datetime.min.time(), UTC
                                                         ) + timedelta(hours=4, minutes=30)
    assert by_id[offset["id"]].start.tzinfo is not None
    holiday = by_id[all_day["id"]]
    assert holiday.all_day and holiday.start is not None
    assert holiday.start.date() == day
    instances = [e for e in batch.events if e.recurring_event_id == series["id"]]
    assert len(instances) >= 5
    # the local wall-clock time holds across any DST change in the window
    assert {(e.start.astimezone(new_york).hour, e.start.astimezone(new_york).minute)
            for e in instances if e.start is not None} == {(9, 0)}


@pytest.mark.anyio
async def test_event_moved_out_of_the_window_arrives_with_its_new_time(
        emu_gateway: Any, emulator: Any) -> None:
    state = emulator.state
    moving = state.insert_event("alice@example.com", _timed("moving", 1))
    first = await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, None)
    assert moving["id"] in {e.id for e in first.events}
    state.patch_event("alice@example.com", moving["id"], {
        "start": {"dateTime": _at(90)}, "end": {"dateTime": _at(90, 11)}})
    changes = await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, first.next_cursor)
    (moved,) = changes.events
    assert moved.id == moving["id"] and not moved.cancelled
    assert moved.start == datetime.strptime(_at(90), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
