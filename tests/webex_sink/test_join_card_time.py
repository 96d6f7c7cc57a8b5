"""A Join card states its meeting's start in UTC, as it says (through both emulators and
the real outbox)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hybrid_calendar.engine import notify

from ..engine.conftest import Stack
from .conftest import ALICE, WebexWorld

pytestmark = pytest.mark.anyio


def cards(world: WebexWorld, email: str) -> list[dict[str, Any]]:
    return [m for m in world.webex.state.received_messages(email) if m.get("attachments")]


def _event(start: datetime, **extra: Any) -> dict[str, Any]:
    return {"start": {"dateTime": start.isoformat(), "timeZone": "Europe/Berlin"},
            "end": {"dateTime": (start + timedelta(minutes=30)).isoformat(),
                    "timeZone": "Europe/Berlin"}, **extra}


async def test_a_join_card_states_the_start_in_utc_when_the_calendar_is_not_in_utc(
        world: WebexWorld, stack: Stack) -> None:
    # Google renders dateTime in the calendar's time zone (+01:00 / +02:00 for Berlin)
    world.google.state.set_setting(ALICE, "timezone", "Europe/Berlin")
    start = (datetime.now(UTC) + timedelta(minutes=3)).replace(second=0, microsecond=0)
    world.google.state.insert_event(ALICE, _event(
        start, summary="Standup", location="https://acme.zoom.us/j/12345678"))
    await stack.activate(ALICE)
    await notify.deliver_due(stack.gateway)
    [card] = cards(world, ALICE)
    texts = [b["text"] for b in card["attachments"][0]["content"]["body"]]
    assert f"Starts at {start.strftime('%H:%M')} UTC" in texts, texts
