"""Find before create: a crash, a retry or a re-sync never makes a second Webex meeting."""

from __future__ import annotations

import pytest

from .conftest import ALICE, WebexWorld, at, running_gateway

pytestmark = pytest.mark.anyio


async def test_a_gateway_killed_between_create_and_invite_makes_one_meeting(
        world: WebexWorld) -> None:
    event = world.google.state.insert_event(ALICE, at(4, summary="Board",
                                                      location="@webex:onetime"))
    # The invite write fails for good in the first process: it stops after creating
    # the Webex meeting and before the invite says so.
    world.google.control({"errors": [{"status": 503, "method": "PUT", "rate": 1.0}]})
    async with running_gateway(world) as first:
        await first.activate(ALICE)
        assert len(world.meetings(ALICE)) == 1
        assert world.google.state.get_event(ALICE, event["id"])["location"] == \
            "@webex:onetime"
    world.google.control({"clear_errors": True})

    async with running_gateway(world, provision=False) as second:  # same data directory
        second.user_ids[ALICE] = (await second.user(ALICE))["id"]
        await second.run_retries()  # the persisted sync job runs again
        [meeting] = world.meetings(ALICE)
        assert world.webex_calls("POST", "/meetings") == 1
        stored = world.google.state.get_event(ALICE, event["id"])
        assert stored["location"] == meeting["webLink"]


async def test_a_rate_limited_create_is_retried_and_the_keyword_kept(world: WebexWorld
                                                                    ) -> None:
    event = world.google.state.insert_event(ALICE, at(4, summary="Ops",
                                                      location="@webex:onetime"))
    world.webex.control({"errors": [{"status": 429, "count": 1, "retryAfter": 30,
                                     "method": "POST", "path": "/meetings$"}]})
    async with running_gateway(world) as stack:
        await stack.activate(ALICE)
        assert world.meetings(ALICE) == []  # Webex said 429: nothing made yet ...
        assert world.google.state.get_event(ALICE, event["id"])["location"] == \
            "@webex:onetime"  # ... and the keyword is still there
        await stack.run_retries()
        [meeting] = world.meetings(ALICE)
        assert world.google.state.get_event(ALICE, event["id"])["location"] == \
            meeting["webLink"]
