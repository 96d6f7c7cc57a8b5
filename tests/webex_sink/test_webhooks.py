"""Webex webhooks: a de-authorised Service App puts the organisation in error, meetings
changed or deleted in Webex by their host are reconciled with the calendar."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
import pytest

from hybrid_calendar_webex.context import context

from ..engine.conftest import Stack
from .conftest import ALICE, WebexWorld, at

pytestmark = pytest.mark.anyio


async def webhooks_handled(world: WebexWorld, stack: Stack) -> None:
    """Wait until the emulator delivered its webhooks and the gateway acted on them."""
    await asyncio.to_thread(world.webex.wait_for_webhooks)
    tasks = list(context(stack.gateway).tasks)
    if tasks:
        await asyncio.gather(*tasks)
    await stack.idle()


def as_host(world: WebexWorld) -> httpx.Client:
    return httpx.Client(base_url=world.webex.api_base, headers={
        "Authorization": f"Bearer {world.webex.token(ALICE, ['meeting:schedules_write'])}"})


async def test_a_deauthorized_service_app_puts_the_organisation_in_error(
        world: WebexWorld, org_stack: Stack) -> None:
    stack = org_stack
    await stack.activate(ALICE)
    assert (await stack.admin.get("/readyz")).json()["services"]["webex:org1"]["healthy"]
    world.webex.state.deauthorize_service_app(world.webex_settings["service_app_id"])
    await webhooks_handled(world, stack)
    service = (await stack.admin.get("/readyz")).json()["services"]["webex:org1"]
    assert service["healthy"] is False and "de-authorised" in service["reason"]
    event = world.google.state.insert_event(ALICE, at(3, summary="After",
                                                      location="@webex:onetime"))
    await stack.idle()
    assert "lacks a Webex permission" in world.google.state.get_event(
        ALICE, event["id"])["description"]


async def test_a_meeting_deleted_in_webex_is_made_again_and_the_invite_rewritten(
        world: WebexWorld, org_stack: Stack) -> None:
    stack = org_stack
    event = world.google.state.insert_event(ALICE, at(5, summary="Keep",
                                                      location="@webex:onetime"))
    await stack.activate(ALICE)
    [first] = world.meetings(ALICE)
    with as_host(world) as host:
        assert host.delete(f"/meetings/{first['id']}").status_code == 204
    await webhooks_handled(world, stack)
    [again] = world.meetings(ALICE)
    assert again["id"] != first["id"]
    stored = world.google.state.get_event(ALICE, event["id"])
    assert stored["location"] == again["webLink"]
    assert again["webLink"] in stored["description"]
    assert first["webLink"] not in stored["description"]


async def test_a_meeting_moved_in_webex_is_put_back_to_the_calendar(
        world: WebexWorld, org_stack: Stack) -> None:
    stack = org_stack
    world.google.state.insert_event(ALICE, at(5, summary="Fixed", location="@webex:onetime"))
    await stack.activate(ALICE)
    [meeting] = world.meetings(ALICE)
    start = datetime.fromisoformat(meeting["start"].replace("Z", "+00:00"))
    with as_host(world) as host:
        moved = host.patch(f"/meetings/{meeting['id']}", json={
            "start": (start + timedelta(hours=2)).isoformat(),
            "end": (start + timedelta(hours=2, minutes=30)).isoformat()})
        assert moved.status_code == 200, moved.text
    await webhooks_handled(world, stack)
    [back] = world.meetings(ALICE)
    assert datetime.fromisoformat(back["start"].replace("Z", "+00:00")) == start


async def test_unsigned_or_unknown_webhooks_are_refused(world: WebexWorld, org_stack: Stack
                                                        ) -> None:
    stack = org_stack
    await stack.activate(ALICE)
    body = b'{"resource": "serviceApp", "event": "deauthorized", "data": {}}'
    assert (await stack.admin.post("/webhooks/webex/org1", content=body, headers={
        "X-Spark-Signature": "0" * 40})).status_code == 401
    assert (await stack.admin.post("/webhooks/webex/nobody", content=body)).status_code == 404
    assert (await stack.admin.get("/readyz")).json()["services"]["webex:org1"]["healthy"]
