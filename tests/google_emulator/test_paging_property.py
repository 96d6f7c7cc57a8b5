"""Property: paging through events.list yields every event once, whatever the page size."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from hybrid_calendar_google_emulator.api_errors import ApiError
from hybrid_calendar_google_emulator.app import build_dispatcher
from hybrid_calendar_google_emulator.dispatch import ApiRequest, Dispatcher
from hybrid_calendar_google_emulator.options import CALENDAR_SCOPE, EmulatorOptions
from hybrid_calendar_google_emulator.state import EmulatorState
from tests.google_emulator.helpers import ALICE, timed


@settings(max_examples=40, deadline=None)
@given(count=st.integers(0, 30), page_size=st.integers(1, 12), deleted=st.integers(0, 5))
def test_pages_partition_the_result(count: int, page_size: int, deleted: int) -> None:
    state = EmulatorState(EmulatorOptions(users=[ALICE], fresh_key=False))
    try:
        ids = [state.insert_event(ALICE, timed(f"e{i}", "2026-12-01T10:00:00Z",
                                               "2026-12-01T11:00:00Z"))["id"]
               for i in range(count)]
        for event_id in ids[:deleted]:
            state.delete_event(ALICE, event_id)
        token, _ = state.tokens.issue(ALICE, frozenset([CALENDAR_SCOPE]), 3600)
        dispatcher = build_dispatcher(state)
        seen: list[str] = []
        page_token = None
        while True:
            params = [("maxResults", str(page_size)), ("showDeleted", "true")]
            if page_token:
                params.append(("pageToken", page_token))
            response = dispatcher.handle(ApiRequest(
                "GET", "/calendar/v3/calendars/primary/events", params,
                {"authorization": f"Bearer {token}"}))
            page = json.loads(response.body)
            assert response.status == 200
            assert len(page["items"]) <= page_size
            assert ("nextPageToken" in page) != ("nextSyncToken" in page)
            seen += [item["id"] for item in page["items"]]
            page_token = page.get("nextPageToken")
            if page_token is None:
                break
        assert sorted(seen) == sorted(ids)
    finally:
        state.close()


def _list_all(dispatcher: Dispatcher, token: str, params: list[tuple[str, str]]
              ) -> tuple[list[dict[str, object]], str]:
    """Every item of events.list (following nextPageToken) and the final sync token."""
    items: list[dict[str, object]] = []
    page_token = None
    while True:
        query = list(params) + ([("pageToken", page_token)] if page_token else [])
        response = dispatcher.handle(ApiRequest(
            "GET", "/calendar/v3/calendars/primary/events", query,
            {"authorization": f"Bearer {token}"}))
        page = json.loads(response.body)
        items += page["items"]
        page_token = page.get("nextPageToken")
        if page_token is None:
            return items, page["nextSyncToken"]


operations = st.lists(st.tuples(st.sampled_from(["insert", "patch", "delete", "sync"]),
                                st.integers(0, 20)), max_size=25)


@settings(max_examples=40, deadline=None)
@given(ops=operations, page_size=st.integers(1, 6))
def test_incremental_sync_mirror_matches_full_sync(ops: list[tuple[str, int]],
                                                   page_size: int) -> None:
    state = EmulatorState(EmulatorOptions(users=[ALICE], fresh_key=False))
    try:
        token, _ = state.tokens.issue(ALICE, frozenset([CALENDAR_SCOPE]), 3600)
        dispatcher = build_dispatcher(state)
        size = [("maxResults", str(page_size))]
        items, sync_token = _list_all(dispatcher, token, size)
        mirror = {item["id"]: item for item in items}
        live: list[str] = []
        for op, n in ops:
            if op == "insert":
                live.append(state.insert_event(ALICE, timed(
                    f"e{n}", "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"))["id"])
            elif op == "patch" and live:
                state.patch_event(ALICE, live[n % len(live)], {"summary": f"p{n}"})
            elif op == "delete" and live:
                state.delete_event(ALICE, live.pop(n % len(live)))
            elif op == "sync":
                changes, sync_token = _list_all(dispatcher, token,
                                                [*size, ("syncToken", sync_token)])
                for change in changes:
                    if change["status"] == "cancelled":
                        mirror.pop(str(change["id"]), None)
                    else:
                        mirror[str(change["id"])] = change
        changes, _ = _list_all(dispatcher, token, [*size, ("syncToken", sync_token)])
        for change in changes:
            if change["status"] == "cancelled":
                mirror.pop(str(change["id"]), None)
            else:
                mirror[str(change["id"])] = change
        fresh, _ = _list_all(dispatcher, token, size)
        assert mirror == {str(item["id"]): item for item in fresh}
    finally:
        state.close()


recurring_ops = st.lists(st.tuples(
    st.sampled_from(["series", "single", "patch_instance", "delete_instance", "delete",
                     "patch_master", "sync"]),
    st.integers(0, 20)), max_size=20)


def _apply(mirror: dict[str, dict[str, object]], changes: list[dict[str, object]]) -> None:
    for change in changes:
        if change["status"] == "cancelled":
            mirror.pop(str(change["id"]), None)
        else:
            mirror[str(change["id"])] = change


@settings(max_examples=60, deadline=None)
@given(ops=recurring_ops, page_size=st.integers(1, 7))
def test_single_events_mirror_matches_full_sync(ops: list[tuple[str, int]],
                                                page_size: int) -> None:
    state = EmulatorState(EmulatorOptions(users=[ALICE], fresh_key=False))
    try:
        token, _ = state.tokens.issue(ALICE, frozenset([CALENDAR_SCOPE]), 3600)
        dispatcher = build_dispatcher(state)
        params = [("maxResults", str(page_size)), ("singleEvents", "true")]
        items, sync_token = _list_all(dispatcher, token, params)
        mirror = {str(item["id"]): item for item in items}
        masters: list[str] = []
        singles: list[str] = []
        for op, n in ops:
            if op == "series":
                masters.append(state.insert_event(ALICE, {
                    "summary": f"s{n}", "recurrence": [f"RRULE:FREQ=DAILY;COUNT={1 + n % 4}"],
                    "start": {"dateTime": "2026-12-01T10:00:00", "timeZone": "Europe/Berlin"},
                    "end": {"dateTime": "2026-12-01T11:00:00", "timeZone": "Europe/Berlin"},
                })["id"])
            elif op == "single":
                singles.append(state.insert_event(ALICE, timed(
                    f"e{n}", "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"))["id"])
            elif op in ("patch_instance", "delete_instance") and masters:
                master = masters[n % len(masters)]
                instance = f"{master}_202612{1 + n % 2:02d}T090000Z"
                try:
                    if op == "patch_instance":
                        state.patch_event(ALICE, instance, {"summary": f"x{n}"})
                    else:
                        state.delete_event(ALICE, instance)
                except ApiError as err:  # the instance may be gone already
                    assert err.code in (404, 410)
            elif op == "patch_master" and masters:
                state.patch_event(ALICE, masters[n % len(masters)], {"summary": f"m{n}"})
            elif op == "delete" and (masters or singles):
                pool = masters if n % 2 and masters else singles or masters
                state.delete_event(ALICE, pool.pop(n % len(pool)))
            elif op == "sync":
                changes, sync_token = _list_all(dispatcher, token,
                                                [*params, ("syncToken", sync_token)])
                _apply(mirror, changes)
        changes, _ = _list_all(dispatcher, token, [*params, ("syncToken", sync_token)])
        _apply(mirror, changes)
        fresh, _ = _list_all(dispatcher, token, params)
        assert mirror == {str(item["id"]): item for item in fresh}
    finally:
        state.close()
