"""The Service App's tokens: fetched once, stored encrypted, refreshed before expiry in a
single flight; scopes checked at start-up and reported in /readyz."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from hybrid_calendar_webex.context import context
from hybrid_calendar_webex.tokens import ORG_SECRET_NAME

from ..engine.conftest import Stack
from .conftest import ALICE, WebexWorld, at, running_gateway

pytestmark = pytest.mark.anyio


def token_calls(world: WebexWorld) -> tuple[int, int]:
    """(Service App token fetches, refreshes) seen by the Webex emulator."""
    log = world.webex.state.request_log
    return (len([r for r in log if r[1].endswith("/token")]),
            len([r for r in log if r[1].endswith("/access_token")]))


async def test_tokens_are_stored_encrypted_and_refreshed_once_before_expiry(
        world: WebexWorld) -> None:
    async with running_gateway(world) as stack:
        await stack.activate(ALICE)
        secret = await stack.gateway.store.get_org_secret("org1", ORG_SECRET_NAME)
        assert secret and "access_token" in secret
        raw = await stack.gateway.store.call(lambda db: db.execute(
            "SELECT value FROM org_secrets WHERE name = ?", (ORG_SECRET_NAME,)).fetchone())
        token = context(stack.gateway).clients["org1"].tokens
        assert (await token.access_token()) not in raw[0]  # sealed at rest
        fetched, refreshed = token_calls(world)
        assert fetched == 1 and refreshed == 0

        stack.clock.advance(timedelta(days=14) - timedelta(minutes=30))  # inside the margin
        results = await asyncio.gather(*(token.access_token() for _ in range(20)))
        assert len(set(results)) == 1
        assert token_calls(world) == (1, 1)  # one refresh for twenty callers

    async with running_gateway(world, provision=False) as again:  # a restart
        again.user_ids[ALICE] = (await again.user(ALICE))["id"]
        world.google.state.insert_event(ALICE, at(3, summary="After", location="@webex"))
        await again.idle()
        assert token_calls(world) == (1, 1)  # the stored pair is used


async def test_readyz_names_missing_scopes(world: WebexWorld) -> None:
    app = world.webex.state.create_service_app("Narrow", scopes=["spark-admin:people_read"])
    world.webex.state.authorize_service_app(app.application_id)
    narrow = {"service_app_id": app.application_id, "client_id": app.client_id,
              "client_secret": app.client_secret}
    async with running_gateway(world, webex=narrow):
        pass  # provisions the organisation
    async with running_gateway(world, webex=narrow, provision=False) as stack:
        ready = (await stack.admin.get("/readyz")).json()
        service = ready["services"]["webex:org1"]
        assert service["healthy"] is False
        assert "meeting:admin_schedule_write" in service["reason"]


async def test_hook_report_health_is_healthy_with_a_full_service_app(org_stack: Stack
                                                                    ) -> None:
    assert await org_stack.gateway.hooks.report_health(org_stack.gateway) == {
        "webex:org1": {"healthy": True, "reason": None}}


async def test_an_admin_integration_token_works_instead_of_a_service_app(
        world: WebexWorld) -> None:
    admin = {"service_app_id": "", "client_id": "", "client_secret": "",
             "applications_token": "", "access_token": world.webex.admin_token}
    event = world.google.state.insert_event(ALICE, at(3, summary="Via admin",
                                                      location="@webex:onetime"))
    async with running_gateway(world, webex=admin) as stack:
        await stack.activate(ALICE)
    [meeting] = world.meetings(ALICE)
    assert world.google.state.get_event(ALICE, event["id"])["location"] == meeting["webLink"]
    assert token_calls(world) == (0, 0)  # a static token: nothing fetched
