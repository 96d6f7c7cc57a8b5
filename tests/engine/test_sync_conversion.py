"""The sync's per-event conversion gives exactly what the straightforward code gave.

``meeting_from_event`` and ``join_button_items`` run for every event of every sync and
are written for speed (positional fields, each start put in ISO form once); here they
are compared with the keyword-argument versions they replaced, over the join benchmark's
realistic mix (``bench/parse_join.py``) with its events made cancelled, all-day,
organiser-marked and without join information in turn.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hybrid_calendar.builder import build_gateway
from hybrid_calendar.engine import invites
from hybrid_calendar.engine.notify import join_button_items, join_button_key
from hybrid_calendar.engine.sync import meeting_from_event
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.join_info import detect
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import (
    CalendarEvent,
    JoinInfo,
    Meeting,
    ScheduledNotification,
    User,
    UserState,
)
from hybrid_calendar.store.codec import join_to_json
from hybrid_calendar_google.event_json import event_from_google
from tests.bench_events import join_benchmark_events

ROOT = Path(__file__).resolve().parents[2]


def reference_meeting(user: User, event: CalendarEvent, join: JoinInfo | None) -> Meeting:
    """``meeting_from_event`` as it was written before (keyword arguments)."""
    assert event.start is not None and event.end is not None
    return Meeting(
        user_id=user.id, event_id=event.id, calendar_id=event.calendar_id, status=event.status,
        start=event.start, end=event.end, title=event.summary, description=event.description,
        location=event.location, organizer=event.organizer,
        attendees=tuple(a.email for a in event.attendees), join=join, all_day=event.all_day,
        recurring_event_id=event.recurring_event_id, etag=event.etag,
        marker=event.private_properties.get(invites.MARKER_KEY), html_link=event.html_link,
        private=event.private,
        declined=tuple(a.email for a in event.attendees if a.response_status == "declined"))


def reference_buttons(gateway: Gateway, user: User, meetings: Sequence[Meeting]
                      ) -> list[ScheduledNotification]:
    """``join_button_items`` as it was written before."""
    lead = timedelta(minutes=float(gateway.config.get("notifications",
                                                      "join_button_lead_minutes")))
    return [ScheduledNotification(
        key=join_button_key(user, m), user_id=user.id, event_id=m.event_id,
        due_at=m.start - lead, start=m.start, end=m.end,
        payload={"event_id": m.event_id, "title": m.title, "start": m.start.isoformat(),
                 "end": m.end.isoformat(), "join": join_to_json(m.join)})
        for m in meetings if m.join is not None and m.status != "cancelled" and not m.all_day
        and user.email not in m.declined]


def _variants(resource: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The resource, sometimes cancelled, all-day, marked by the gateway or recurring."""
    choice = rng.random()
    if choice < 0.1:
        return {**resource, "status": "cancelled"}
    if choice < 0.2:
        return {**resource, "start": {"date": "2026-03-03"}, "end": {"date": "2026-03-04"}}
    if choice < 0.3:
        return {**resource, "extendedProperties": {"private": {invites.MARKER_KEY: "webex:1"}},
                "recurringEventId": "series1", "htmlLink": "https://calendar.example/e"}
    if choice < 0.35:
        return {**resource, "start": {"dateTime": "2026-03-03T10:00:00Z"},
                "end": {"dateTime": "2026-03-03T11:00:00+05:30"}}
    if choice < 0.45:
        return {**resource, "visibility": rng.choice(["private", "confidential", "public"])}
    if choice < 0.55:  # the user or another attendee answered
        return {**resource, "attendees": [
            {"email": rng.choice(["u1@example.com", "other@example.com"]),
             "responseStatus": rng.choice(["declined", "accepted", "tentative"])},
            {"email": "room@example.com", "resource": True,
             "responseStatus": rng.choice(["declined", "accepted"])}]}
    return resource


def test_meetings_and_buttons_equal_the_straightforward_code(tmp_path: Path) -> None:
    config, pm = load_config(overrides={
        "plugins": {"enabled": ["join_info"], "load_entrypoints": False},
        "gateway": {"data_dir": str(tmp_path)}}, environ={})
    gateway = build_gateway(config, pm)
    user = User(id="u1", org_id="org", email="u1@example.com", state=UserState.ACTIVE)
    rng = random.Random(5)
    events = [event_from_google(_variants(resource, rng), "primary")
              for resource in join_benchmark_events(1_500, seed=21)]
    pairs = [(event, detect(event)) for event in events if event.start is not None]
    assert len(pairs) > 1_000 and any(join is None for _, join in pairs)
    meetings = [meeting_from_event(user, event, join) for event, join in pairs]
    assert meetings == [reference_meeting(user, event, join) for event, join in pairs]
    assert any(m.marker for m in meetings) and any(m.all_day for m in meetings)
    assert any(m.private for m in meetings) and not all(m.private for m in meetings)
    assert any(m.declined_by(user.email) and m.join for m in meetings)
    assert any(m.declined and not m.declined_by(user.email) for m in meetings)
    buttons = join_button_items(gateway, user, meetings)
    assert buttons == reference_buttons(gateway, user, meetings)
    assert 500 < len(buttons) < len(meetings)
    moved = [replace(m, start=m.start.astimezone(UTC), end=datetime(2030, 1, 1, tzinfo=UTC))
             for m in meetings]
    assert join_button_items(gateway, user, moved) == reference_buttons(gateway, user, moved)


def test_the_fields_passed_positionally_keep_their_order() -> None:
    """``meeting_from_event`` passes every field of ``Meeting`` by position, and
    ``join_button_items`` the leading ones of ``ScheduledNotification``: a model whose
    fields move must fail here, not store a title as a description."""
    assert tuple(f.name for f in fields(Meeting)) == (
        "user_id", "event_id", "calendar_id", "status", "start", "end", "title",
        "description", "location", "organizer", "attendees", "join", "all_day",
        "recurring_event_id", "etag", "marker", "html_link", "private", "declined")
    assert tuple(f.name for f in fields(ScheduledNotification))[:7] == (
        "key", "user_id", "event_id", "due_at", "start", "end", "payload")
