"""The iCalendar feed, parsed back with icalendar and with a second parser (vobject)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import pytest
import vobject

from .conftest import NOW, PeopleStack, meeting

pytestmark = pytest.mark.anyio


async def _feed(stack: PeopleStack, zone: str) -> tuple[str, str]:
    user = await stack.add_user("fay", timezone=zone)
    await stack.put_meetings(user, [
        meeting(user, "call", "Budget, Q4; final", NOW + timedelta(hours=2),
                attendees=("fay@example.com", "gus@example.com")),
        meeting(user, "holiday", "Holiday", datetime(2026, 11, 30, tzinfo=UTC),
                all_day=True, url=None),
        meeting(user, "far", "Too far", NOW + timedelta(days=40)),
    ])
    token = await stack.token(user)
    async with stack.client() as subscriber:  # calendar apps subscribe by URL only
        response = await subscriber.get(f"/api/v1/me/calendar.ics?token={token}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/calendar")
        denied = await subscriber.get(f"/api/v1/me/meetings?token={token}")
        assert denied.status_code == 401  # the query token opens the feed only
    return response.text, token


async def test_feed_parses_back_with_vobject(stack: PeopleStack) -> None:
    text, token = await _feed(stack, "America/Los_Angeles")
    assert token not in text
    calendar = vobject.readOne(text)
    events = {str(e.uid.value).split("@")[0]: e for e in calendar.vevent_list}
    assert set(events) == {"call", "holiday"}
    call = events["call"]
    assert call.summary.value == "Budget, Q4; final"
    assert call.dtstart.value == NOW + timedelta(hours=2)
    assert call.dtend.value == NOW + timedelta(hours=2, minutes=30)
    assert call.url.value == "https://example.webex.com/meet/room"
    conferences = {c.value: c.params for c in call.conference_list}
    assert conferences["https://example.webex.com/meet/room"] == {
        "VALUE": ["URI"], "FEATURE": ["AUDIO", "VIDEO"], "LABEL": ["Join (webex)"]}
    assert conferences["sip:room@example.webex.com"]["FEATURE"] == ["VIDEO"]
    assert call.organizer.value == "mailto:fay@example.com"
    assert sorted(a.value for a in call.attendee_list) == [
        "mailto:fay@example.com", "mailto:gus@example.com"]
    holiday = events["holiday"]
    assert (holiday.dtstart.value, holiday.dtend.value) == (date(2026, 11, 30),
                                                            date(2026, 12, 1))
    assert not hasattr(holiday, "url")


async def test_feed_parses_back_with_icalendar_and_declares_a_refresh(
        stack: PeopleStack) -> None:
    text, _token = await _feed(stack, "Asia/Tokyo")
    calendar = icalendar.Calendar.from_ical(text)
    refresh = calendar["REFRESH-INTERVAL"].to_ical()
    assert isinstance(refresh, bytes) and refresh.decode() == "PT15M"
    assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert str(calendar["X-WR-TIMEZONE"]) == "Asia/Tokyo"
    events = list(calendar.walk("VEVENT"))
    holiday = next(e for e in events if str(e["SUMMARY"]) == "Holiday")
    assert holiday.decoded("DTSTART") == date(2026, 11, 30)
    call = next(e for e in events if str(e["SUMMARY"]) == "Budget, Q4; final")
    assert str(call["STATUS"]) == "CONFIRMED"
    conference = call["CONFERENCE"]  # two values: icalendar gives a list (not in its hints)
    assert isinstance(conference, list)
    assert [str(c) for c in conference] == ["https://example.webex.com/meet/room",
                                            "sip:room@example.webex.com"]


async def test_a_private_meeting_is_classed_private_in_the_feed(stack: PeopleStack) -> None:
    """A meeting its organiser marked private carries ``CLASS:PRIVATE`` (RFC 5545), so an
    app the feed is shared on shows it as busy only; the others carry no class."""
    user = await stack.add_user("hal", timezone="UTC")
    await stack.put_meetings(user, [
        replace(meeting(user, "secret", "Layoff planning", NOW + timedelta(hours=2)),
                private=True),
        meeting(user, "open", "Team lunch", NOW + timedelta(hours=3)),
    ])
    token = await stack.token(user)
    async with stack.client() as subscriber:
        response = await subscriber.get(f"/api/v1/me/calendar.ics?token={token}")
    assert response.status_code == 200
    events = {str(e["summary"]): e for e in
              icalendar.Calendar.from_ical(response.text).walk("VEVENT")}
    assert str(events["Layoff planning"]["class"]) == "PRIVATE"
    assert "class" not in events["Team lunch"]


async def test_declined_attendees_are_marked_and_the_users_decline_frees_the_time(
        stack: PeopleStack) -> None:
    user = await stack.add_user("fay", timezone="Europe/Berlin")
    both = ("fay@example.com", "gus@example.com")
    await stack.put_meetings(user, [
        replace(meeting(user, "skip", "Skipped", NOW + timedelta(hours=2), attendees=both),
                declined=("Fay@Example.com",)),
        replace(meeting(user, "gus", "Without Gus", NOW + timedelta(hours=3),
                        attendees=both), declined=("gus@example.com",)),
    ])
    async with stack.client(await stack.token(user)) as client:
        text = (await client.get("/api/v1/me/calendar.ics")).text
    calendar = vobject.readOne(text)
    events = {str(e.uid.value).split("@")[0]: e for e in calendar.vevent_list}

    def partstat(event: Any) -> dict[str, list[str]]:
        return {a.value: a.params.get("PARTSTAT", []) for a in event.attendee_list}

    assert partstat(events["skip"]) == {"mailto:fay@example.com": ["DECLINED"],
                                        "mailto:gus@example.com": []}
    assert events["skip"].transp.value == "TRANSPARENT"
    assert partstat(events["gus"]) == {"mailto:fay@example.com": [],
                                       "mailto:gus@example.com": ["DECLINED"]}
    assert not hasattr(events["gus"], "transp")
