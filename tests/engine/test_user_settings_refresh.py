"""A user's calendar language and time zone are read again once a day, each user at its
own time (real engine, store and sweep, the Google emulator's settings)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hybrid_calendar.engine import sweeps
from hybrid_calendar.engine.user_settings import last_turn, refresh_user_settings

from .conftest import ALICE, BOB, Stack, counting_user_listings

pytestmark = pytest.mark.anyio


def settings_reads(stack: Stack, email: str) -> int:
    return len([r for r in stack.emu.state.request_log
                if r.user == email and r.operation == "calendar.settings.list"])


async def stored(stack: Stack, email: str) -> tuple[str | None, str | None]:
    user = await stack.gateway.store.get_user(stack.user_ids[email])
    assert user is not None
    return user.locale, user.timezone


async def test_a_changed_language_and_zone_are_stored_within_a_day(stack: Stack) -> None:
    for email in (ALICE, BOB):
        stack.emu.state.set_setting(email, "locale", "de")
        stack.emu.state.set_setting(email, "timezone", "Europe/Berlin")
        await stack.activate(email)
    await stack.deactivate(BOB)
    assert await stored(stack, ALICE) == ("de", "Europe/Berlin")
    before = settings_reads(stack, ALICE), settings_reads(stack, BOB)
    for email in (ALICE, BOB):  # they moved to New York and switched to English
        stack.emu.state.set_setting(email, "locale", "en")
        stack.emu.state.set_setting(email, "timezone", "America/New_York")

    await sweeps.run_sweep(stack.gateway)  # first seen: counted as read at its last turn
    assert await stored(stack, ALICE) == ("de", "Europe/Berlin")
    for _ in range(24):  # a day of sweeps, one an hour: Alice's turn comes once
        stack.clock.advance(timedelta(hours=1))
        await refresh_user_settings(stack.gateway)
    assert await stored(stack, ALICE) == ("en", "America/New_York")
    assert (await stack.user(ALICE))["state"] == "active"
    assert settings_reads(stack, ALICE) == before[0] + 1
    assert settings_reads(stack, BOB) == before[1]  # inactive: never read
    assert await stored(stack, BOB) == ("de", "Europe/Berlin")


async def test_a_refused_read_keeps_the_settings_and_the_users_state(stack: Stack) -> None:
    stack.emu.state.set_setting(ALICE, "locale", "de")
    await stack.activate(ALICE)
    await refresh_user_settings(stack.gateway)
    stack.emu.state.revoke_delegation(ALICE)
    stack.clock.advance(timedelta(days=1))
    assert await refresh_user_settings(stack.gateway) == 0
    assert (await stored(stack, ALICE))[0] == "de"
    assert (await stack.user(ALICE))["state"] == "active"  # the sync judges access


def test_each_user_has_its_own_turn_within_the_period() -> None:
    day = 86_400.0
    turns = {last_turn(f"u{n}", 10 * day, day) % day for n in range(200)}
    assert len(turns) > 190  # spread over the day, not all at one time
    for n in range(50):
        now = 10 * day + n * 1_234.5
        turn = last_turn(f"u{n}", now, day)
        assert now - day < turn <= now
        assert last_turn(f"u{n}", now + day, day) == turn + day


async def test_the_sweep_lists_the_active_users_once_for_both_per_user_reads(
        stack: Stack) -> None:
    """The vacation responder and the calendar settings are both read per active user;
    listing the users decrypts every address, so the sweep lists them once for both."""
    stack.emu.state.set_setting(ALICE, "locale", "de")
    await stack.activate(ALICE)
    await sweeps.poll_users(stack.gateway)  # first seen: settings counted as read
    stack.emu.state.set_setting(ALICE, "locale", "en")
    stack.clock.advance(timedelta(days=1))  # both are due
    vacation_reads = len([r for r in stack.emu.state.request_log if r.user == ALICE
                          and str(r.operation).endswith("getVacation")])
    settings_before = settings_reads(stack, ALICE)
    with counting_user_listings(stack) as listed:
        await sweeps.poll_users(stack.gateway)
    assert listed == [1]
    assert len([r for r in stack.emu.state.request_log if r.user == ALICE
                and str(r.operation).endswith("getVacation")]) == vacation_reads + 1
    assert settings_reads(stack, ALICE) == settings_before + 1
    assert (await stored(stack, ALICE))[0] == "en"
