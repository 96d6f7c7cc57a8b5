"""Provider hooks through the real hook machinery, against a faked remote (MockTransport).

The behaviours that need a stateful Google (recurrence, real sync tokens, push) are in
``test_emulator_*.py``; these cover the wire details and error paths precisely.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from hybrid_calendar.errors import PreconditionFailedError, SyncTokenExpiredError
from hybrid_calendar.models import CalendarEvent, Channel, InviteUpdate, User, UserState
from hybrid_calendar_google.event_json import event_from_google as to_event

from .conftest import FakeGoogle, body, error, google_settings

EVENTS = "/calendar/v3/calendars/alice@example.com/events"
ALICE = User(id="u1", org_id="org1", email="alice@example.com", state=UserState.ACTIVE)


def _event(event_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": event_id, "status": "confirmed", "etag": f"\"{event_id}-1\"",
            "start": {"dateTime": "2026-12-01T10:00:00Z"},
            "end": {"dateTime": "2026-12-01T11:00:00Z"}, **extra}


@pytest.fixture
async def gateway(make_gateway: Any, sa_info: dict[str, str], http: httpx.AsyncClient) -> Any:
    return await make_gateway(google_settings(sa_info), http)


@pytest.mark.anyio
async def test_full_then_incremental_sync_pages(gateway: Any, fake: FakeGoogle) -> None:
    def events(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if "syncToken" in params:
            assert params["syncToken"] == "S1"
            assert "timeMin" not in params and params["singleEvents"] == "true"
            return httpx.Response(200, json={"items": [{"id": "a", "status": "cancelled"}],
                                             "nextSyncToken": "S2"})
        assert params["singleEvents"] == "true" and params["maxResults"] == "2500"
        assert params["timeMin"] < params["timeMax"]
        if params.get("pageToken") == "P2":
            return httpx.Response(200, json={"items": [_event("b")], "nextSyncToken": "S1"})
        return httpx.Response(200, json={"items": [_event("a")], "nextPageToken": "P2"})

    fake.routes[("GET", EVENTS)] = events
    full = await gateway.hooks.fetch_changes(gateway, ALICE, None)
    assert full.full_sync and [e.id for e in full.events] == ["a", "b"]
    listed = full.next_cursor
    assert listed.startswith("g2:") and listed.endswith(":S1")
    changes = await gateway.hooks.fetch_changes(gateway, ALICE, full.next_cursor)
    assert not changes.full_sync and changes.next_cursor == listed[:-2] + "S2"
    assert [(e.id, e.cancelled) for e in changes.events] == [("a", True)]


@pytest.mark.anyio
async def test_window_follows_configuration(make_gateway: Any, sa_info: dict[str, str],
                                            http: httpx.AsyncClient, fake: FakeGoogle) -> None:
    gateway = await make_gateway(google_settings(sa_info), http,
                                 sync={"retention_past_days": 1, "retention_future_days": 2})
    seen: list[httpx.URL] = []

    def events(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={"items": [], "nextSyncToken": "S"})

    fake.routes[("GET", EVENTS)] = events
    await gateway.hooks.fetch_changes(gateway, ALICE, None)
    low = datetime.fromisoformat(seen[0].params["timeMin"])
    high = datetime.fromisoformat(seen[0].params["timeMax"])
    assert (high - low).days == 3
    assert abs((datetime.now(UTC) - low).total_seconds() - 86400) < 60


@pytest.mark.anyio
async def test_expired_sync_token_raises(gateway: Any, fake: FakeGoogle) -> None:
    fake.failures.append(error(410, "fullSyncRequired", "Sync token is no longer valid"))
    with pytest.raises(SyncTokenExpiredError):
        await gateway.hooks.fetch_changes(
            gateway, ALICE, f"g2:{int(datetime.now(UTC).timestamp())}:OLD")


@pytest.mark.anyio
async def test_full_sync_restarts_once_when_paging_is_interrupted(gateway: Any,
                                                                  fake: FakeGoogle) -> None:
    calls: list[str | None] = []

    def events(request: httpx.Request) -> httpx.Response:
        page = request.url.params.get("pageToken")
        calls.append(page)
        if page == "P2" and calls.count("P2") == 1:
            return error(410, "fullSyncRequired", "Sync token is no longer valid")
        if page == "P2":
            return httpx.Response(200, json={"items": [_event("b")], "nextSyncToken": "S"})
        return httpx.Response(200, json={"items": [_event("a")], "nextPageToken": "P2"})

    fake.routes[("GET", EVENTS)] = events
    batch = await gateway.hooks.fetch_changes(gateway, ALICE, None)
    assert [e.id for e in batch.events] == ["a", "b"] and batch.full_sync
    assert calls == [None, "P2", None, "P2"]


@pytest.mark.anyio
async def test_full_sync_gives_up_after_second_interruption(gateway: Any,
                                                            fake: FakeGoogle) -> None:
    def events(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("pageToken"):
            return error(410, "fullSyncRequired", "Sync token is no longer valid")
        return httpx.Response(200, json={"items": [_event("a")], "nextPageToken": "P2"})

    fake.routes[("GET", EVENTS)] = events
    with pytest.raises(SyncTokenExpiredError):
        await gateway.hooks.fetch_changes(gateway, ALICE, None)
    assert len(fake.api_requests()) == 4


@pytest.mark.anyio
async def test_foreign_cursor_forces_full_sync(gateway: Any, fake: FakeGoogle) -> None:
    with pytest.raises(SyncTokenExpiredError, match="unknown format"):
        await gateway.hooks.fetch_changes(gateway, ALICE, "v0:whatever")
    assert fake.requests == []


@pytest.mark.anyio
async def test_other_providers_users_are_passed_on(gateway: Any, fake: FakeGoogle) -> None:
    other = User(id="u2", org_id="org1", email="x@example.com", provider="exchange")
    assert gateway.pm.hook.fetch_changes(gateway=gateway, user=other, cursor=None) is None
    assert fake.requests == []


UPDATE = InviteUpdate(location="https://example.webex.com/meet/alice",
                      description="Join: https://example.webex.com/meet/alice", marker="m1")


@pytest.mark.anyio
async def test_update_invite_sends_the_listed_event_back_with_if_match_and_marker(
        gateway: Any, fake: FakeGoogle) -> None:
    def update(request: httpx.Request) -> httpx.Response:
        sent = body(request)
        return httpx.Response(200, json={**sent, "etag": "\"e1-2\""})

    fake.routes[("PUT", EVENTS + "/e1")] = update
    listed = _event("e1", colorId="5", reminders={"useDefault": False, "overrides": []},
                    attachments=[{"fileUrl": "https://drive.example/f"}],
                    extendedProperties={"private": {"keep": "me"}, "shared": {"s": "1"}})
    event = to_event(listed, "alice@example.com")
    updated = await gateway.hooks.update_invite(gateway, ALICE, event, UPDATE)
    [request] = fake.api_requests()
    assert request.method == "PUT" and request.headers["if-match"] == "\"e1-1\""
    assert request.url.params["conferenceDataVersion"] == "1"
    assert request.url.params["supportsAttachments"] == "true"
    assert body(request) == {**listed, "location": UPDATE.location,
                             "description": UPDATE.description,
                             "extendedProperties": {"private": {"keep": "me", "hcMarker": "m1"},
                                                    "shared": {"s": "1"}}}
    assert updated.private_properties["hcMarker"] == "m1" and updated.etag == "\"e1-2\""


@pytest.mark.anyio
async def test_update_invite_writes_nothing_when_marked(gateway: Any, fake: FakeGoogle) -> None:
    event = to_event(_event("e1", extendedProperties={"private": {"hcMarker": "m1"}}),
                     "alice@example.com")
    assert await gateway.hooks.update_invite(gateway, ALICE, event, UPDATE) is event
    assert fake.requests == []


@pytest.mark.anyio
async def test_update_invite_rereads_on_412(gateway: Any, fake: FakeGoogle) -> None:
    etags: list[str] = []

    def update(request: httpx.Request) -> httpx.Response:
        etags.append(request.headers["if-match"])
        if len(etags) == 1:
            return error(412, "conditionNotMet", "Precondition Failed")
        assert body(request)["summary"] == "changed meanwhile"  # the re-read is sent back
        return httpx.Response(200, json={**body(request), "etag": "\"e1-3\""})

    fake.routes[("PUT", EVENTS + "/e1")] = update
    fake.routes[("GET", EVENTS + "/e1")] = lambda r: httpx.Response(
        200, json=_event("e1", etag="\"e1-2\"", summary="changed meanwhile"))
    updated = await gateway.hooks.update_invite(
        gateway, ALICE, to_event(_event("e1"), "alice@example.com"), UPDATE)
    assert etags == ["\"e1-1\"", "\"e1-2\""]
    assert updated.etag == "\"e1-3\""
    assert [r.method for r in fake.api_requests()] == ["PUT", "GET", "PUT"]


@pytest.mark.anyio
async def test_update_invite_reads_an_event_it_was_not_given_whole(gateway: Any,
                                                                  fake: FakeGoogle) -> None:
    fake.routes[("GET", EVENTS + "/e1")] = lambda r: httpx.Response(200, json=_event("e1"))
    fake.routes[("PUT", EVENTS + "/e1")] = lambda r: httpx.Response(
        200, json={**body(r), "etag": "\"e1-2\""})
    bare = CalendarEvent(id="e1", calendar_id="alice@example.com", status="confirmed",
                         start=None, end=None)
    await gateway.hooks.update_invite(gateway, ALICE, bare, UPDATE)
    assert [r.method for r in fake.api_requests()] == ["GET", "PUT"]


@pytest.mark.anyio
async def test_update_invite_stops_if_reread_shows_marker(gateway: Any,
                                                          fake: FakeGoogle) -> None:
    fake.routes[("PUT", EVENTS + "/e1")] = lambda r: error(412, "conditionNotMet", "x")
    fake.routes[("GET", EVENTS + "/e1")] = lambda r: httpx.Response(200, json=_event(
        "e1", etag="\"e1-2\"", extendedProperties={"private": {"hcMarker": "m1"}}))
    result = await gateway.hooks.update_invite(
        gateway, ALICE, to_event(_event("e1"), "alice@example.com"), UPDATE)
    assert result.etag == "\"e1-2\""
    assert [r.method for r in fake.api_requests()] == ["PUT", "GET"]


@pytest.mark.anyio
async def test_update_invite_gives_up_after_bounded_conflicts(gateway: Any,
                                                              fake: FakeGoogle) -> None:
    fake.routes[("PUT", EVENTS + "/e1")] = lambda r: error(412, "conditionNotMet", "x")
    fake.routes[("GET", EVENTS + "/e1")] = lambda r: httpx.Response(200, json=_event("e1"))
    with pytest.raises(PreconditionFailedError, match="3 attempts"):
        await gateway.hooks.update_invite(
            gateway, ALICE, to_event(_event("e1"), "alice@example.com"), UPDATE)
    assert [r.method for r in fake.api_requests()].count("PUT") == 3


@pytest.mark.anyio
async def test_watch_and_stop(gateway: Any, fake: FakeGoogle) -> None:
    def watch(request: httpx.Request) -> httpx.Response:
        sent = body(request)
        assert sent["type"] == "web_hook" and sent["params"] == {"ttl": "604800"}
        assert sent["address"] == "https://gw.test/webhooks/google"  # built by the plugin
        assert len(sent["id"]) <= 64
        return httpx.Response(200, json={"kind": "api#channel", "id": sent["id"],
                                         "resourceId": "R1", "token": sent["token"],
                                         "expiration": "1798761600000"})

    fake.routes[("POST", EVENTS + "/watch")] = watch
    fake.routes[("POST", "/calendar/v3/channels/stop")] = lambda r: httpx.Response(204)
    gateway.config = gateway.config.replace("gateway", public_url="https://gw.test/")
    channel = await gateway.hooks.watch_calendar(gateway, ALICE, "tok")
    assert channel.resource_id == "R1" and channel.token == "tok" and channel.user_id == "u1"
    assert channel.expires_at == datetime(2027, 1, 1, tzinfo=UTC)
    assert await gateway.hooks.stop_watch(gateway, ALICE, channel) is True
    assert body(fake.api_requests()[-1]) == {"id": channel.id, "resourceId": "R1"}


@pytest.mark.anyio
async def test_stop_of_unknown_channel_is_done(gateway: Any, fake: FakeGoogle) -> None:
    channel = Channel("c1", "u1", "R1", "tok", datetime(2027, 1, 1, tzinfo=UTC))
    assert await gateway.hooks.stop_watch(gateway, ALICE, channel) is True  # fake answers 404
    [stop] = fake.api_requests()  # the stop really was asked for, once
    assert (stop.method, stop.url.path) == ("POST", "/calendar/v3/channels/stop")
    assert body(stop) == {"id": "c1", "resourceId": "R1"}


@pytest.mark.anyio
async def test_out_of_office_and_locale(gateway: Any, fake: FakeGoogle) -> None:
    fake.routes[("GET", "/gmail/v1/users/me/settings/vacation")] = lambda r: httpx.Response(
        200, json={"enableAutoReply": True, "responseSubject": "Away",
                   "startTime": "1798761600000", "endTime": "1799366400000"})
    fake.routes[("GET", "/calendar/v3/users/me/settings/locale")] = lambda r: httpx.Response(
        200, json={"id": "locale", "value": "pt_BR"})
    ooo = await gateway.hooks.read_out_of_office(gateway, ALICE)
    assert ooo.enabled and ooo.start == datetime(2027, 1, 1, tzinfo=UTC)
    assert ooo.end == datetime(2027, 1, 8, tzinfo=UTC) and ooo.message == "Away"
    assert await gateway.hooks.read_locale(gateway, ALICE) == "pt_BR"


@pytest.mark.anyio
async def test_no_mailbox_means_no_responder(gateway: Any, fake: FakeGoogle) -> None:
    fake.failures.append(error(400, "failedPrecondition", "Mail service not enabled"))
    assert (await gateway.hooks.read_out_of_office(gateway, ALICE)).enabled is False


@pytest.mark.anyio
def _settings(*pages: dict[str, str | None]) -> Any:
    """A ``settings.list`` route answering ``pages`` in turn, by ``pageToken``."""
    def answer(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("pageToken", "0"))
        items = [{"kind": "calendar#setting", "id": k, "value": v}
                 for k, v in pages[number].items()]
        more = {"nextPageToken": str(number + 1)} if number + 1 < len(pages) else {}
        return httpx.Response(200, json={"kind": "calendar#settings", "items": items,
                                         **more})
    return answer


SETTINGS_LIST = ("GET", "/calendar/v3/users/me/settings")


@pytest.mark.anyio
async def test_check_access_reports_settings(gateway: Any, fake: FakeGoogle) -> None:
    fake.routes[SETTINGS_LIST] = _settings(
        {"autoAddHangouts": "false", "locale": "de", "timezone": "Europe/Berlin"})
    check = await gateway.hooks.check_access(gateway, ALICE)
    assert (check.ok, check.locale, check.timezone) == (True, "de", "Europe/Berlin")
    assert fake.grants[0]["sub"] == "alice@example.com"
    [listed] = fake.api_requests()  # both settings in one call
    assert listed.url.path == SETTINGS_LIST[1] and "pageToken" not in listed.url.params


@pytest.mark.anyio
async def test_check_access_reads_further_pages_only_while_a_setting_is_missing(
        gateway: Any, fake: FakeGoogle) -> None:
    fake.routes[SETTINGS_LIST] = _settings({"locale": "de"}, {"format24HourTime": "true"},
                                           {"timezone": "Asia/Tokyo"}, {"weekStart": "1"})
    check = await gateway.hooks.check_access(gateway, ALICE)
    assert (check.ok, check.locale, check.timezone) == (True, "de", "Asia/Tokyo")
    assert [r.url.params.get("pageToken") for r in fake.api_requests()] == [None, "1", "2"]


@pytest.mark.anyio
async def test_check_access_without_the_settings_reports_none(gateway: Any,
                                                             fake: FakeGoogle) -> None:
    fake.routes[SETTINGS_LIST] = _settings({"weekStart": "1"}, {"locale": None})
    check = await gateway.hooks.check_access(gateway, ALICE)
    assert (check.ok, check.locale, check.timezone) == (True, None, None)
    assert len(fake.api_requests()) == 2


@pytest.mark.anyio
async def test_check_access_stops_at_a_page_token_given_back_unchanged(
        gateway: Any, fake: FakeGoogle) -> None:
    fake.routes[SETTINGS_LIST] = lambda r: httpx.Response(
        200, json={"items": [{"id": "locale", "value": "de"}], "nextPageToken": "again"})
    check = await gateway.hooks.check_access(gateway, ALICE)
    assert (check.ok, check.locale, check.timezone) == (True, "de", None)
    assert [r.url.params.get("pageToken") for r in fake.api_requests()] == [None, "again"]


@pytest.mark.anyio
async def test_check_access_maps_refused_delegation(gateway: Any, fake: FakeGoogle) -> None:
    fake.token_failures.append(httpx.Response(401, json={
        "error": "unauthorized_client", "error_description": "Unauthorized client or scope"}))
    check = await gateway.hooks.check_access(gateway, ALICE)
    assert not check.ok and check.reason is not None
    assert "Domain-wide delegation" in check.reason and "@" not in check.reason
    assert fake.api_requests() == []


@pytest.mark.anyio
async def test_check_access_maps_403(gateway: Any, fake: FakeGoogle) -> None:
    fake.failures.append(error(403, "forbidden", "Forbidden"))
    check = await gateway.hooks.check_access(gateway, ALICE)
    assert not check.ok and check.reason and "denied access" in check.reason


@pytest.mark.anyio
async def test_check_access_without_key_names_the_setting(make_gateway: Any,
                                                          http: httpx.AsyncClient) -> None:
    gateway = await make_gateway({}, http)
    check = await gateway.hooks.check_access(gateway, ALICE)
    assert not check.ok and "google.service_account_file" in (check.reason or "")


@pytest.mark.anyio
async def test_key_from_organisation_secret_wins(make_gateway: Any, sa_info: dict[str, str],
                                                 http: httpx.AsyncClient,
                                                 fake: FakeGoogle) -> None:
    import json

    gateway = await make_gateway({"calendar_base_url": "https://calendar.test/calendar/v3",
                                  "service_account_file": "/nonexistent.json"}, http)
    await gateway.store.put_org_secret("org1", "google_service_account", json.dumps(sa_info))
    fake.routes[("GET", "/calendar/v3/users/me/settings/locale")] = lambda r: httpx.Response(
        200, json={"value": "fr"})
    assert await gateway.hooks.read_locale(gateway, ALICE) == "fr"


@pytest.mark.anyio
async def test_activation_and_sync_mint_one_token_per_user(gateway: Any, fake: FakeGoogle
                                                           ) -> None:
    """Activation's calls and the first sync, even at once, share one signed grant."""
    import asyncio

    fake.routes[SETTINGS_LIST] = _settings({"locale": "de", "timezone": "Europe/Berlin"})
    fake.routes[("GET", "/calendar/v3/users/me/settings/locale")] = lambda r: httpx.Response(
        200, json={"value": "de"})
    fake.routes[("GET", EVENTS)] = lambda r: httpx.Response(
        200, json={"items": [_event("a")], "nextSyncToken": "S1"})
    check, batch, locale = await asyncio.gather(
        gateway.hooks.check_access(gateway, ALICE),
        gateway.hooks.fetch_changes(gateway, ALICE, None),
        gateway.hooks.read_locale(gateway, ALICE))
    assert check.ok and [e.id for e in batch.events] == ["a"] and locale == "de"
    await gateway.hooks.fetch_changes(gateway, ALICE, batch.next_cursor)
    assert [claims["sub"] for claims in fake.grants] == ["alice@example.com"]
