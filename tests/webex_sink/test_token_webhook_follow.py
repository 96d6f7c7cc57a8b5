"""The Webex sink across restarts and processes: a revoked stored refresh token, a dead
token at start-up, one webhook secret for every process, attendees followed, Retry-After
as a date."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from hybrid_calendar_webex.context import context

from ..engine.conftest import Stack
from .conftest import ALICE, BOB, CAROL, WebexWorld, at, running_gateway

pytestmark = pytest.mark.anyio


async def test_a_revoked_stored_refresh_token_falls_back_to_the_service_app_token(
        world: WebexWorld) -> None:
    """The admin de-authorised and re-authorised the Service App while the gateway was
    down (the ``deauthorized`` webhook never reached it): the stored pair's refresh token
    is revoked. The gateway must fetch a new pair with the applications token instead of
    refusing every keyword for good."""
    async with running_gateway(world) as stack:
        await stack.activate(ALICE)
    app_id = world.webex_settings["service_app_id"]
    world.webex.state.deauthorize_service_app(app_id)
    world.webex.state.authorize_service_app(app_id)
    # inserted while the gateway is down: the start-up catch-up sync finds it
    event = world.google.state.insert_event(ALICE, at(3, summary="After re-auth",
                                                      location="@webex:onetime"))
    async with running_gateway(world, provision=False) as again:
        again.user_ids[ALICE] = (await again.user(ALICE))["id"]
        await again.idle()
    stored = world.google.state.get_event(ALICE, event["id"])
    assert "lacks a Webex permission" not in stored.get("description", "")
    assert [m["title"] for m in world.meetings(ALICE)] == ["After re-auth"]


async def test_an_attendee_added_to_a_onetime_meeting_is_invited_in_webex(
        world: WebexWorld, stack: Stack) -> None:
    """The module table of follow.py: "time, title or attendees changed: PUT"."""
    event = world.google.state.insert_event(ALICE, at(5, summary="Review",
                                                      location="@webex:onetime",
                                                      attendees=[{"email": BOB}]))
    await stack.activate(ALICE)
    [meeting] = world.meetings(ALICE)
    assert [i["email"] for i in meeting["_invitees"]] == [BOB]
    world.google.state.patch_event(ALICE, event["id"], {
        "attendees": [{"email": BOB}, {"email": CAROL}]})
    await stack.idle()
    [after] = world.meetings(ALICE)
    assert sorted(i["email"] for i in after["_invitees"]) == [BOB, CAROL]


async def test_readyz_is_not_healthy_when_the_stored_token_is_dead(world: WebexWorld
                                                                  ) -> None:
    """De-authorised while the gateway was down (the webhook was missed): at the next
    start the stored pair carries scopes, but Webex rejects it; /readyz must not report
    the organisation healthy."""
    async with running_gateway(world) as stack:
        await stack.activate(ALICE)
    world.webex.state.deauthorize_service_app(world.webex_settings["service_app_id"])
    async with running_gateway(world, provision=False) as again:
        service = (await again.admin.get("/readyz")).json()["services"]["webex:org1"]
    assert service["healthy"] is False, service


async def test_two_processes_behind_one_url_both_accept_the_webhooks(
        world: WebexWorld, postgres_url: str) -> None:
    """Two gateway processes share one database and one public URL (the documented way
    to scale out). Each start-up must not leave the other process unable to verify
    Webex's webhooks: here Webex delivers to the first process (the load balancer's
    choice) and the de-authorisation must be seen."""
    async with running_gateway(world, database=postgres_url):
        pass  # provisions the organisation
    async with running_gateway(world, provision=False, database=postgres_url) as first, \
            running_gateway(world, provision=False, database=postgres_url,
                            public_url=first.base_url):
        world.webex.state.deauthorize_service_app(world.webex_settings["service_app_id"])
        await asyncio.to_thread(world.webex.wait_for_webhooks)
        tasks = list(context(first.gateway).tasks)
        if tasks:
            await asyncio.gather(*tasks)
        service = (await first.admin.get("/readyz")).json()["services"]["webex:org1"]
    assert service["healthy"] is False, service


def test_retry_after_as_an_http_date_without_a_date_header_is_not_zero() -> None:
    """RFC 9110 allows ``Retry-After: <HTTP-date>``; without a ``Date`` header the wait is
    measured from now, not taken as 0 (which retried a 429 at once)."""
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    from hybrid_calendar_webex.client import retry_after

    when = datetime.now(UTC) + timedelta(seconds=120)
    response = httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)})
    wait = retry_after(response)
    assert wait is not None and 100 <= wait <= 121


async def test_processes_starting_at_once_agree_on_one_webhook_secret(
        world: WebexWorld, postgres_url: str) -> None:
    """Two processes start together on a new organisation: each found no secret, made
    its own and kept it in memory while the store kept the last one written, so one of
    them refused (401) every webhook Webex signed with the other's."""
    from hybrid_calendar.models import Organisation
    from hybrid_calendar_webex.webhooks import SECRET_NAME, _shared_secret

    async with running_gateway(world, database=postgres_url) as first, \
            running_gateway(world, provision=False, database=postgres_url,
                            public_url=first.base_url) as second:
        for n in range(5):
            org_id = f"new{n}"
            await first.gateway.store.put_organisation(
                Organisation(id=org_id, name="New", domain=f"new{n}.example"))
            secrets = await asyncio.gather(_shared_secret(first.gateway, org_id),
                                           _shared_secret(second.gateway, org_id),
                                           _shared_secret(first.gateway, org_id))
            stored = await second.gateway.store.get_org_secret(org_id, SECRET_NAME)
            assert set(secrets) == {stored}, n
