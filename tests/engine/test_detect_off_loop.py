"""Where the sync parses an event's join information: on the event loop's own thread up
to :data:`~hybrid_calendar.engine.sync.OFF_LOOP_CHARACTERS` of text, in a worker thread
beyond (a hostile description never holds the loop long; an ordinary invitation pays no
hand-off)."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hybrid_calendar.engine import sync
from hybrid_calendar.models import CalendarEvent, Conference, ConferenceEntryPoint, JoinInfo

from .conftest import ALICE, Stack
from .test_gateway_with_emulator import at

pytestmark = pytest.mark.anyio

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _event(description: str = "", location: str = "",
           conference: Conference | None = None) -> CalendarEvent:
    return CalendarEvent(id="e1", calendar_id="primary", status="confirmed", start=START,
                         end=START + timedelta(minutes=30), summary="Sync",
                         description=description, location=location, conference=conference)


@pytest.fixture
def parsed_in(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The threads ``best_join`` ran on (it answers a fixed join)."""
    threads: list[int] = []

    def recording(gateway: Any, event: CalendarEvent) -> JoinInfo:
        threads.append(threading.get_ident())
        return JoinInfo(provider="webex", url="https://example.webex.com/meet/a",
                        source="description")
    monkeypatch.setattr(sync, "best_join", recording)
    return threads


async def test_a_long_html_invitation_is_parsed_on_the_loop(parsed_in: list[int]) -> None:
    """10 kB of invitation text (a Teams or Zoom HTML body is often 4–12 kB) stays on the
    loop's thread: a hand-off to a worker thread cost more CPU than the parsing."""
    join = await sync.detect_join(object(), _event(description="x" * 10_000))  # type: ignore[arg-type]
    assert join is not None and join.provider == "webex"
    assert parsed_in == [threading.get_ident()]


async def test_text_at_the_limit_stays_on_the_loop(parsed_in: list[int]) -> None:
    entry = ConferenceEntryPoint(kind="video", uri="https://meet.example/" + "a" * 84)
    size = sync.OFF_LOOP_CHARACTERS - 100 - len(entry.uri)
    event = _event(description="d" * size, location="l" * 100,
                   conference=Conference(solution="", conference_id="", entry_points=(entry,)))
    await sync.detect_join(object(), event)  # type: ignore[arg-type]
    assert parsed_in == [threading.get_ident()]


async def test_more_text_than_the_limit_goes_to_a_worker_thread(parsed_in: list[int]) -> None:
    """Description, location and conference entry points count together."""
    event = _event(description="d" * sync.OFF_LOOP_CHARACTERS, location="l")
    join = await sync.detect_join(object(), event)  # type: ignore[arg-type]
    assert join is not None
    assert len(parsed_in) == 1 and parsed_in[0] != threading.get_ident()


async def test_a_page_of_long_invitations_gives_the_loop_its_turn(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Six 10 kB invitations are parsed on the loop, but the sync gives the loop its turn
    whenever it has parsed more than ``OFF_LOOP_CHARACTERS`` there since the last one
    (a full sync against the emulator; a ticking task shows each turn)."""
    order: list[str] = []

    def recording(gateway: Any, event: CalendarEvent) -> None:
        order.append("parse")
    monkeypatch.setattr(sync, "best_join", recording)
    for hour in range(6):
        stack.emu.state.insert_event(ALICE, at(2 + hour, summary=f"Review {hour}",
                                               description="Agenda. " * 1250))
    activation = asyncio.create_task(stack.activate(ALICE))
    while not activation.done():
        order.append("tick")
        await asyncio.sleep(0)
    await activation
    parsing = "".join("p" if step == "parse" else "t" for step in order).strip("t")
    assert parsing.count("p") == 6
    assert "ppp" not in parsing  # 3 × 10 kB on the loop without a turn: 30 kB > 16 kB
    assert parsing.count("pp") <= 3
