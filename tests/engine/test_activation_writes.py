"""Activation stores what validation read together with its outcome (one user write per
outcome): active, channel refused, or a retry after the channel could not be opened."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hybrid_calendar import hookimpl
from hybrid_calendar.engine.activation import NEW_USER, _never_activated
from hybrid_calendar.models import Job, Organisation, SyncState, User, UserState
from hybrid_calendar.store.base import UserContext

from .conftest import ALICE, BOB, CAROL, Stack
from .test_gateway_with_emulator import at

pytestmark = pytest.mark.anyio


async def test_an_active_user_keeps_the_locale_and_time_zone_validation_read(
        stack: Stack) -> None:
    stack.emu.state.set_setting(ALICE, "locale", "de")
    stack.emu.state.set_setting(ALICE, "timezone", "Europe/Berlin")
    user = await stack.activate(ALICE)
    stored = await stack.gateway.store.get_user(user["id"])
    assert stored is not None
    assert (stored.state, stored.reason, stored.locale, stored.timezone) == (
        UserState.ACTIVE, None, "de", "Europe/Berlin")


@pytest.mark.parametrize(("status", "reason", "refusals", "code"), [
    (403, "forbidden", 1, "channel_refused"),
    (400, "push.webhookUrlNotHttps", 1, "channel_refused"),
    # an address Google will not call: the token is not at fault, so none is minted again
    (401, "push.webhookUrlUnauthorized", 1, "channel_refused"),
    (401, "authError", 2, "channel_refused"),  # tried again once with a fresh token
    # no event is read to validate: the watch on the calendar is its proof of access
    (404, "notFound", 1, "calendar_unreadable"),
])
async def test_a_refused_channel_is_an_error_that_keeps_the_locale(
        stack: Stack, status: int, reason: str, refusals: int, code: str) -> None:
    stack.emu.state.set_setting(BOB, "locale", "fr")
    stack.emu.control({"errors": [{"status": status, "reason": reason, "count": refusals,
                                   "path": "/watch$"}]})
    user = await stack.activate(BOB)
    assert (user["state"], user["reason_code"]) == ("error", code)
    assert reason in user["reason"]  # the provider's words
    stored = await stack.gateway.store.get_user(user["id"])
    assert stored is not None and stored.locale == "fr"
    assert await stack.gateway.store.list_channels(user_id=user["id"]) == []
    assert stack.emu.state.faults.errors == []  # every refusal was met, none left over


async def test_a_push_address_google_will_not_call_is_named_as_such(stack: Stack) -> None:
    # Google calls only domains the project proved it owns; the gateway's loopback
    # address is not one of them
    stack.emu.state.options.verified_push_domains = ("gw.example.com",)
    mark = len(stack.emu.state.request_log)
    user = await stack.activate(BOB)
    assert (user["state"], user["reason_code"]) == ("error", "channel_refused")
    assert "push.webhookUrlUnauthorized" in user["reason"]
    assert "push address" in user["reason"] and "delegation" not in user["reason"]
    assert "127.0.0.1" not in user["reason"]  # messages never carry addresses
    records = stack.emu.state.request_log[mark:]  # a grant's record names no user
    calls = Counter(r.operation for r in records if r.user in (BOB, None))
    assert (calls["oauth2.token"], calls["calendar.events.watch"]) == (1, 1)


async def test_a_channel_that_fails_for_now_is_retried_and_the_locale_kept_meanwhile(
        stack: Stack) -> None:
    stack.emu.state.set_setting(CAROL, "locale", "it")
    stack.emu.control({"errors": [{"status": 503, "count": 20, "path": "/watch$"}]})
    response = await stack.admin.post("/api/v1/organisations/org1/users",
                                      json={"email": CAROL})
    user_id = response.json()["id"]
    await stack.idle()  # the activation failed and waits for its retry
    stored = await stack.gateway.store.get_user(user_id)
    assert stored is not None
    assert (stored.state, stored.locale) == (UserState.VALIDATING, "it")


class CursorWatch:
    """Notes the cursor of every ``fetch_changes`` call (and lets the provider answer)."""

    def __init__(self) -> None:
        self.cursors: list[str | None] = []

    @hookimpl(wrapper=True)
    def fetch_changes(self, gateway: Any, user: Any, cursor: str | None) -> Any:
        self.cursors.append(cursor)
        return (yield)


async def test_a_repeated_activation_syncs_in_full_and_a_first_one_needs_no_reset(
        stack: Stack) -> None:
    """A first activation has no cursor to forget (its job holds the user's lane, so none
    appears meanwhile); a repeated one forgets the cursor, so its sync is a full one."""
    watch = CursorWatch()
    stack.gateway.pm.register(watch, name="cursor-watch")
    stack.emu.state.insert_event(ALICE, at(2, summary="Planning"))
    user = await stack.activate(ALICE)
    assert user["state"] == "active" and watch.cursors == [None]
    assert (await stack.gateway.store.get_sync_state(user["id"])).cursor is not None
    again = await stack.admin.post("/api/v1/organisations/org1/users", json={"email": ALICE})
    assert again.status_code == 202, again.text
    await stack.idle()
    assert watch.cursors == [None, None]  # a full sync again, not an incremental one
    assert len(await stack.meetings(ALICE)) == 1


def _stops(stack: Stack, email: str) -> int:
    return len(stack.calls(email, "POST", "/channels/stop"))


async def test_a_new_users_first_activation_has_no_channel_to_stop_and_a_repeated_one_stops_it(
        stack: Stack) -> None:
    """The job queued with a new user's creation skips the look-up of channels to stop
    (none can exist); every later activation of the user stops the channel it has."""
    user = await stack.activate(ALICE)
    assert user["state"] == "active" and _stops(stack, ALICE) == 0
    first = await stack.gateway.store.list_channels(user_id=user["id"])
    assert len(first) == 1
    again = await stack.admin.post("/api/v1/organisations/org1/users", json={"email": ALICE})
    assert again.status_code == 202, again.text  # an existing user: back to pending
    await stack.idle()
    assert _stops(stack, ALICE) == 1
    second = await stack.gateway.store.list_channels(user_id=user["id"])
    assert len(second) == 1 and second[0].id != first[0].id
    response = await stack.admin.post(f"/api/v1/users/{user['id']}/validate")
    assert response.status_code == 202, response.text
    await stack.idle()
    assert _stops(stack, ALICE) == 2
    third = await stack.gateway.store.list_channels(user_id=user["id"])
    assert len(third) == 1 and third[0].id not in {first[0].id, second[0].id}
    assert (await stack.user(ALICE))["state"] == "active"


def _context(state: UserState) -> UserContext:
    return UserContext(User(id="u1", org_id="org1", email=ALICE, state=state),
                       Organisation("org1", "Example", "example.com"), SyncState("u1"))


def _job(payload: dict[str, Any], attempts: int) -> Job:
    return Job(7, "activate", "activate:u1", payload, attempts, datetime(2026, 1, 1, tzinfo=UTC))


def test_only_the_first_attempt_of_a_new_users_first_job_counts_as_never_activated() -> None:
    new = {"user_id": "u1", NEW_USER: True}
    assert _never_activated(_job(new, 1), _context(UserState.PENDING))
    assert not _never_activated(_job(new, 2), _context(UserState.PENDING))  # a retry
    assert not _never_activated(_job(new, 1), _context(UserState.VALIDATING))  # taken over
    assert not _never_activated(_job({"user_id": "u1"}, 1), _context(UserState.PENDING))


async def test_a_channel_the_activation_could_not_store_is_stopped_and_the_retry_opens_one(
        stack: Stack) -> None:
    """The channel goes into the store with the activation's one write; when that write
    fails, the channel opened at Google is stopped (nothing the gateway knows would stop
    it later), and the retried activation opens and stores one channel of its own."""
    refuse = ("CREATE TRIGGER refuse_channels BEFORE INSERT ON channels "
              "BEGIN SELECT RAISE(ABORT, 'no channels today'); END")
    store = stack.gateway.store
    await store.call(lambda db: db.execute(refuse))
    response = await stack.admin.post("/api/v1/organisations/org1/users",
                                      json={"email": ALICE})
    user_id = response.json()["id"]
    await stack.idle()  # the activation's write failed; its retry waits
    stored = await store.get_user(user_id)
    assert stored is not None and stored.state is UserState.VALIDATING
    channels = stack.emu.state.channels
    assert channels.by_id == {}  # opened at Google, then stopped
    await store.call(
        lambda db: db.execute("DROP TRIGGER refuse_channels"))
    for _ in range(10):  # the retry runs after its backoff
        await stack.advance(timedelta(minutes=1))
        if (await stack.user(ALICE))["state"] == "active":
            break
    assert (await stack.user(ALICE))["state"] == "active"
    [kept] = await store.list_channels(user_id=user_id)
    assert list(channels.by_id) == [kept.id]
