"""events.list: paging, filters, syncToken incremental sync, 410 and full resync."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from hybrid_calendar_google_emulator.testing import RunningEmulator
from tests.google_emulator.helpers import ALICE, timed


def seed(emu: RunningEmulator, count: int, day: int = 1) -> list[dict[str, Any]]:
    """``count`` one-hour events on 2026-12-{day} onwards, one per hour."""
    events = []
    for i in range(count):
        hour = 8 + i % 10
        d = day + i // 10
        events.append(emu.state.insert_event(ALICE, timed(
            f"E{i}", f"2026-12-{d:02d}T{hour:02d}:00:00Z", f"2026-12-{d:02d}T{hour + 1:02d}:00:00Z",
            extendedProperties={"private": {"n": str(i % 3)}})))
    return events


def list_all(cal: Any, **params: Any) -> tuple[list[dict[str, Any]], str, int]:
    """Page through events.list; returns items, the sync token, and the page count."""
    items: list[dict[str, Any]] = []
    pages = 0
    token = None
    while True:
        page = cal.events().list(calendarId="primary", pageToken=token, **params).execute()
        pages += 1
        items.extend(page["items"])
        assert ("nextPageToken" in page) != ("nextSyncToken" in page)
        if "nextPageToken" not in page:
            return items, page["nextSyncToken"], pages
        token = page["nextPageToken"]


def test_paging_xor_tokens_and_default_size(emu: RunningEmulator, cal: Any) -> None:
    seed(emu, 25)
    items, _, pages = list_all(cal, maxResults=10)
    assert pages == 3 and len(items) == 25 and len({e["id"] for e in items}) == 25
    first = cal.events().list(calendarId="primary").execute()
    assert len(first["items"]) == 25 and "nextSyncToken" in first


def test_max_results_capped_at_2500(emu: RunningEmulator, cal: Any) -> None:
    emu.state.bulk_seed([ALICE], 2600)
    page = cal.events().list(calendarId="primary", maxResults=5000).execute()
    assert len(page["items"]) == 2500 and "nextPageToken" in page
    default = cal.events().list(calendarId="primary").execute()
    assert len(default["items"]) == 250


def test_page_token_bound_to_query(emu: RunningEmulator, cal: Any) -> None:
    seed(emu, 5)
    page = cal.events().list(calendarId="primary", maxResults=2).execute()
    with pytest.raises(HttpError) as info:
        cal.events().list(calendarId="primary", maxResults=2, q="E1",
                          pageToken=page["nextPageToken"]).execute()
    assert info.value.status_code == 400


def test_full_incremental_410_resync_cycle(emu: RunningEmulator, cal: Any) -> None:
    created = seed(emu, 12)
    items, sync_token, _ = list_all(cal, maxResults=5)
    assert len(items) == 12
    # changes: one edit through the API, one by the user (state API), one delete, one new
    cal.events().patch(calendarId="primary", eventId=created[0]["id"],
                       body={"summary": "moved"}).execute()
    emu.state.patch_event(ALICE, created[1]["id"], {"location": "@webex"})
    cal.events().delete(calendarId="primary", eventId=created[2]["id"]).execute()
    new = cal.events().insert(calendarId="primary", body=timed(
        "new", "2026-12-05T10:00:00Z", "2026-12-05T11:00:00Z")).execute()
    changes, sync_token2, _ = list_all(cal, syncToken=sync_token, maxResults=2)
    by_id = {e["id"]: e for e in changes}
    assert set(by_id) == {created[0]["id"], created[1]["id"], created[2]["id"], new["id"]}
    assert by_id[created[0]["id"]]["summary"] == "moved"
    assert by_id[created[2]["id"]] == {"kind": "calendar#event", "id": created[2]["id"],
                                       "etag": by_id[created[2]["id"]]["etag"],
                                       "status": "cancelled"}
    # nothing changed: empty incremental page with a token
    empty = cal.events().list(calendarId="primary", syncToken=sync_token2).execute()
    assert empty["items"] == [] and "nextSyncToken" in empty
    # the token is expired on demand: 410 fullSyncRequired, then a full resync works
    emu.state.invalidate_sync_tokens(ALICE)
    with pytest.raises(HttpError) as info:
        cal.events().list(calendarId="primary", syncToken=sync_token2).execute()
    assert info.value.status_code == 410
    assert info.value.error_details[0]["reason"] == "fullSyncRequired"
    resynced, token3, _ = list_all(cal)
    assert len(resynced) == 12  # 12 seeded - 1 deleted + 1 new
    assert cal.events().list(calendarId="primary", syncToken=token3).execute()["items"] == []


def test_garbage_sync_token_is_410_and_ttl(emu: RunningEmulator, cal: Any) -> None:
    with pytest.raises(HttpError) as info:
        cal.events().list(calendarId="primary", syncToken="CPDAlvWDx70CEPDAlvWDx").execute()
    assert info.value.status_code == 410
    token = cal.events().list(calendarId="primary").execute()["nextSyncToken"]
    emu.control({"sync_token_ttl": 0})
    with pytest.raises(HttpError) as info:
        cal.events().list(calendarId="primary", syncToken=token).execute()
    assert info.value.status_code == 410


@pytest.mark.parametrize("param", [
    {"timeMin": "2026-12-01T00:00:00Z"}, {"timeMax": "2026-12-01T00:00:00Z"},
    {"updatedMin": "2026-12-01T00:00:00Z"}, {"q": "x"}, {"orderBy": "updated"},
    {"iCalUID": "x@google.com"}, {"privateExtendedProperty": "a=b"},
    {"sharedExtendedProperty": "a=b"}, {"showDeleted": False},
])
def test_forbidden_params_with_sync_token(cal: Any, param: dict[str, Any]) -> None:
    token = cal.events().list(calendarId="primary").execute()["nextSyncToken"]
    with pytest.raises(HttpError) as info:
        cal.events().list(calendarId="primary", syncToken=token, **param).execute()
    assert info.value.status_code == 400


def test_show_deleted_in_full_list(emu: RunningEmulator, cal: Any) -> None:
    events = seed(emu, 3)
    emu.state.delete_event(ALICE, events[0]["id"])
    assert len(cal.events().list(calendarId="primary").execute()["items"]) == 2
    with_deleted = cal.events().list(calendarId="primary", showDeleted=True).execute()
    assert {e["status"] for e in with_deleted["items"]} == {"confirmed", "cancelled"}


def test_time_window_overlap(emu: RunningEmulator, cal: Any) -> None:
    seed(emu, 3)  # 08-09, 09-10, 10-11 on Dec 1
    page = cal.events().list(calendarId="primary", timeMin="2026-12-01T09:00:00Z",
                             timeMax="2026-12-01T10:00:01Z").execute()
    assert [e["summary"] for e in page["items"]] == ["E1", "E2"]
    with pytest.raises(HttpError) as info:
        cal.events().list(calendarId="primary", timeMin="2026-12-02T00:00:00Z",
                          timeMax="2026-12-01T00:00:00Z").execute()
    assert info.value.error_details[0]["reason"] == "timeRangeEmpty"


def test_filters_q_extended_props_updated_min(emu: RunningEmulator, cal: Any) -> None:
    events = seed(emu, 6)
    by_prop = cal.events().list(calendarId="primary", privateExtendedProperty="n=1").execute()
    assert sorted(e["summary"] for e in by_prop["items"]) == ["E1", "E4"]
    both = cal.events().list(calendarId="primary",
                             privateExtendedProperty=["n=1", "missing=x"]).execute()
    assert both["items"] == []
    assert [e["summary"] for e in cal.events().list(
        calendarId="primary", q="e5").execute()["items"]] == ["E5"]
    later = emu.state.patch_event(ALICE, events[3]["id"], {"summary": "E3b"})
    recent = cal.events().list(calendarId="primary", updatedMin=later["updated"]).execute()
    assert [e["summary"] for e in recent["items"]] == ["E3b"]


def test_order_by_start_time_requires_single_events(emu: RunningEmulator, cal: Any) -> None:
    emu.state.insert_event(ALICE, timed("late", "2026-12-03T10:00:00Z", "2026-12-03T11:00:00Z"))
    emu.state.insert_event(ALICE, timed("early", "2026-12-02T10:00:00Z", "2026-12-02T11:00:00Z"))
    with pytest.raises(HttpError) as info:
        cal.events().list(calendarId="primary", orderBy="startTime").execute()
    assert info.value.status_code == 400
    ordered = cal.events().list(calendarId="primary", orderBy="startTime",
                                singleEvents=True).execute()
    assert [e["summary"] for e in ordered["items"]] == ["early", "late"]


def test_long_get_sent_as_post_with_method_override(emu: RunningEmulator, cal: Any) -> None:
    seed(emu, 2)
    request = cal.events().list(calendarId="primary", q="E1",
                                fields="items(summary)," + ",".join(["kind"] * 300))
    assert len(request.uri) > 2048
    assert request.execute()["items"] == [{"summary": "E1"}]
    assert request.method == "POST"
    assert request.headers["x-http-method-override"] == "GET"


def test_page_token_retry_and_other_calendar(emu: RunningEmulator, cal: Any,
                                             make_service: Any) -> None:
    seed(emu, 5)
    first = cal.events().list(calendarId="primary", maxResults=2).execute()
    again = cal.events().list(calendarId="primary", maxResults=2,
                              pageToken=first["nextPageToken"]).execute()
    retried = cal.events().list(calendarId="primary", maxResults=2,
                                pageToken=first["nextPageToken"]).execute()
    assert [e["id"] for e in again["items"]] == [e["id"] for e in retried["items"]]
    bob = make_service("bob@example.com")
    with pytest.raises(HttpError) as info:
        bob.events().list(calendarId="primary", maxResults=2,
                          pageToken=first["nextPageToken"]).execute()
    assert info.value.status_code == 400


def test_updated_min_too_long_ago() -> None:
    from hybrid_calendar_google_emulator.testing import running_emulator
    from tests.google_emulator.helpers import calendar_service

    with running_emulator(users=[ALICE], updated_min_max_age=3600, fresh_key=False) as emu:
        cal = calendar_service(emu)
        try:
            cal.events().list(calendarId="primary",
                              updatedMin="2099-01-01T00:00:00Z").execute()
            with pytest.raises(HttpError) as info:
                cal.events().list(calendarId="primary",
                                  updatedMin="2020-01-01T00:00:00Z").execute()
            assert info.value.status_code == 410
            assert info.value.error_details[0]["reason"] == "updatedMinTooLongAgo"
        finally:
            cal.close()
