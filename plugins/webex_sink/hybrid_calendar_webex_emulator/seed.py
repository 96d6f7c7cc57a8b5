"""Seeding: upcoming meetings for every person (``--seed N``, the ``seed`` control)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from hybrid_calendar_webex_emulator import meetings_model

if TYPE_CHECKING:
    from hybrid_calendar_webex_emulator.state import WebexState


def seed_meetings(state: WebexState, per_user: int) -> int:
    """Create ``per_user`` one-hour meetings for each person, one a day from tomorrow 09:00
    UTC; returns how many (no webhooks fire)."""
    count = 0
    with state.lock:
        base = state.clock.now().replace(hour=9, minute=0, second=0, microsecond=0)
        hosts = [p for p in state.people.values()
                 if p["type"] == "person" and p["id"] != state.admin_id]
        for host in hosts:
            for index in range(per_user):
                start = base + timedelta(days=index + 1)
                body = {"title": f"Seeded meeting {index + 1}", "timezone": "UTC"}
                meeting = meetings_model.build(state, body, host, start,
                                               start + timedelta(hours=1))
                state.meetings[meeting["id"]] = meeting
                count += 1
    return count
