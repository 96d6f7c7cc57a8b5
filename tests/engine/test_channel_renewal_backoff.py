"""A push channel Google will not renew is not asked for again on every sweep.

The sweep runs every ``sync.sweep_seconds`` (30 s): without a pause, a push address Google
stopped accepting would cost one ``events.watch`` per active user per sweep (the whole
project's quota, at a few thousand users) and a warning each. A failed renewal is tried
again after :data:`~hybrid_calendar.engine.sweeps.RENEW_RETRY_FIRST`, doubling up to
:data:`~hybrid_calendar.engine.sweeps.RENEW_RETRY_MAX`; the old channel serves until it
expires and the safety re-sync covers the rest.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from itertools import pairwise

import pytest

from hybrid_calendar.engine import sweeps

from .conftest import ALICE, BOB, CAROL, Stack, counting_user_listings

pytestmark = pytest.mark.anyio


def watches(stack: Stack, user: str) -> int:
    return len(stack.calls(user, "POST", "/watch"))


def renewal_due(stack: Stack) -> None:
    """Every 7-day channel is within the renewal horizon."""
    stack.gateway.config = stack.gateway.config.replace("sync", channel_renew_before_hours=192)


async def test_a_refused_renewal_waits_doubling_then_renews_once_google_accepts_again(
        stack: Stack) -> None:
    await stack.activate(ALICE)
    user_id = stack.user_ids[ALICE]
    [old] = await stack.gateway.store.list_channels(user_id=user_id)
    renewal_due(stack)
    stack.emu.state.options.verified_push_domains = ("gw.example.com",)  # now refused
    before = watches(stack, ALICE)
    for _sweep in range(5):
        await sweeps.renew_channels(stack.gateway)
    assert watches(stack, ALICE) == before + 1  # one try, not one per sweep
    assert await stack.gateway.store.list_channels(user_id=user_id) == [old]  # kept

    first = sweeps.RENEW_RETRY_FIRST
    stack.clock.advance(first - timedelta(seconds=1))
    await sweeps.renew_channels(stack.gateway)
    assert watches(stack, ALICE) == before + 1  # not yet
    stack.clock.advance(timedelta(seconds=1))
    await sweeps.renew_channels(stack.gateway)
    assert watches(stack, ALICE) == before + 2  # tried again, refused again
    stack.clock.advance(2 * first - timedelta(seconds=1))
    await sweeps.renew_channels(stack.gateway)
    assert watches(stack, ALICE) == before + 2  # the pause doubled
    stack.clock.advance(timedelta(seconds=1))
    await sweeps.renew_channels(stack.gateway)
    assert watches(stack, ALICE) == before + 3

    stack.emu.state.options.verified_push_domains = None  # the address is fixed
    stack.clock.advance(sweeps.RENEW_RETRY_MAX)
    await sweeps.renew_channels(stack.gateway)
    [new] = await stack.gateway.store.list_channels(user_id=user_id)
    assert new.id != old.id
    assert user_id not in stack.gateway.memory.channel_renewals  # forgotten once renewed


def test_the_pause_doubles_up_to_its_cap() -> None:
    pauses = [sweeps.renewal_pause(failures) for failures in range(1, 12)]
    assert pauses[0] == sweeps.RENEW_RETRY_FIRST
    assert all(b == min(2 * a, sweeps.RENEW_RETRY_MAX) for a, b in pairwise(pauses))
    assert pauses[-1] == sweeps.RENEW_RETRY_MAX


async def test_refused_renewals_of_many_users_log_one_line(
        stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    for email in (ALICE, BOB, CAROL):
        await stack.activate(email)
    renewal_due(stack)
    stack.emu.state.options.verified_push_domains = ("gw.example.com",)
    with caplog.at_level(logging.INFO):
        await sweeps.renew_channels(stack.gateway)
    assert [watches(stack, email) for email in (ALICE, BOB, CAROL)] == [2, 2, 2]
    lines = [r for r in caplog.records
             if r.levelno >= logging.WARNING and "not renewed" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert "push.webhookUrlUnauthorized" in lines[0].getMessage()
    assert not [r for r in caplog.records if "watch failed" in r.getMessage()]


async def test_a_whole_sweep_opens_the_active_users_addresses_once(stack: Stack) -> None:
    """Listing the users decrypts every address (≈ 11 ms per 1,000 users): the channel
    renewal, the safety re-sync and the catch-up need only who is active, so of a whole
    sweep only the per-user reads (vacation responder, settings) list the users; a
    renewal reads its few users one by one. A user deactivated meanwhile is skipped."""
    for email in (ALICE, BOB, CAROL):
        await stack.activate(email)
    await stack.deactivate(CAROL)
    renewal_due(stack)
    before = {email: watches(stack, email) for email in (ALICE, BOB, CAROL)}
    with counting_user_listings(stack) as listed:
        await sweeps.run_sweep(stack.gateway)
        stack.clock.advance(timedelta(seconds=1))  # a start after every sync so far
        queued = await sweeps.catch_up(stack.gateway, stack.clock.now())
    assert listed == [1]  # poll_users' listing, for both of its per-user reads
    assert {email: watches(stack, email) - before[email] for email in before} == {
        ALICE: 1, BOB: 1, CAROL: 0}  # renewed: the two active users only
    assert queued == 2
