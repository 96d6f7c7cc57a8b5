"""The personal JSON API: times in the user's zone, all-day dates, Join due, presence, sync."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from .conftest import NOW, PeopleStack, meeting

pytestmark = pytest.mark.anyio

ZONES = [
    ("Pacific/Pago_Pago", "-11:00"), ("Pacific/Honolulu", "-10:00"),
    ("America/Los_Angeles", "-08:00"), ("America/New_York", "-05:00"),
    ("Europe/Berlin", "+01:00"), ("Asia/Tokyo", "+09:00"),
    ("Pacific/Auckland", "+13:00"), ("Pacific/Kiritimati", "+14:00"),
]


@pytest.mark.parametrize(("zone", "offset"), ZONES)
async def test_all_day_events_keep_their_dates_in_the_users_zone(
        stack: PeopleStack, zone: str, offset: str) -> None:
    user = await stack.add_user("zoe", timezone=zone)
    holiday = datetime(2026, 11, 28, tzinfo=UTC)  # how providers' dates are stored
    await stack.put_meetings(user, [
        meeting(user, "holiday", "Holiday", holiday, all_day=True, url=None),
        meeting(user, "late", "Late call", datetime(2026, 11, 27, 23, 30, tzinfo=UTC)),
    ])
    async with stack.client(await stack.token(user)) as client:
        body = (await client.get("/api/v1/me/meetings")).json()
    assert body["time_zone"] == zone
    by_id = {m["event_id"]: m for m in body["meetings"]}
    day = by_id["holiday"]
    assert (day["all_day"], day["date"], day["end_date"]) == (True, "2026-11-28", "2026-11-29")
    assert day["start"] == f"2026-11-28T00:00:00{offset}"
    assert day["end"] == f"2026-11-29T00:00:00{offset}"
    assert day["join_button_due"] is False and day["join_button_at"] is None
    late = by_id["late"]
    local = datetime.fromisoformat(late["start"])
    assert local == datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
    assert local.isoformat().endswith(offset) and late["date"] is None


async def test_meetings_carry_what_a_person_needs(stack: PeopleStack) -> None:
    user = await stack.add_user("ann", timezone="Europe/Berlin")
    await stack.put_meetings(user, [
        meeting(user, "soon", "Soon", NOW + timedelta(minutes=4),
                attendees=("ann@example.com", "ben@example.com")),
        meeting(user, "later", "Later", NOW + timedelta(minutes=30)),
        meeting(user, "nolink", "No link", NOW + timedelta(minutes=2), url=None),
        meeting(user, "old", "Too old", NOW - timedelta(days=8)),
        meeting(user, "far", "Too far", NOW + timedelta(days=32)),
    ])
    async with stack.client(await stack.token(user)) as client:
        body = (await client.get("/api/v1/me/meetings")).json()
        assert [m["title"] for m in body["meetings"]] == ["No link", "Soon", "Later"]
        soon = body["meetings"][1]
        assert soon["invitees"] == ["ann@example.com", "ben@example.com"]
        assert (soon["organizer"], soon["provider"]) == ("ann@example.com", "webex")
        assert soon["join_url"] == "https://example.webex.com/meet/room"
        assert soon["dial"] == "room@example.webex.com"
        assert soon["join_button_due"] is True
        assert soon["join_button_at"] == "2026-11-27T09:59:00+01:00"  # 5 min lead
        assert [m["join_button_due"] for m in body["meetings"]] == [False, True, False]
        stack.clock.advance(timedelta(minutes=25))
        body = (await client.get("/api/v1/me/meetings")).json()
        assert [m["join_button_due"] for m in body["meetings"]] == [False, True, True]
        assert (await client.get("/api/v1/me/presence")).json() == {"out_of_office": None}
        await stack.gateway.store.set_out_of_office(user.id, True)
        assert (await client.get("/api/v1/me/presence")).json() == {"out_of_office": True}
        sync = (await client.get("/api/v1/me/sync")).json()
        assert sync == {"state": "active", "reason": None,
                        "last_sync_at": NOW.isoformat()}
        me = (await client.get("/api/v1/me")).json()
        assert (me["time_zone"], me["join_button_lead_minutes"]) == ("Europe/Berlin", 5.0)


async def test_unknown_or_missing_zone_falls_back_to_the_default(stack: PeopleStack) -> None:
    for name, zone in (("nozone", None), ("badzone", "Mars/Olympus")):
        user = await stack.add_user(name, timezone=zone)
        async with stack.client(await stack.token(user)) as client:
            assert (await client.get("/api/v1/me")).json()["time_zone"] == "UTC"


async def test_a_meeting_the_user_declined_is_listed_without_a_join_button(
        stack: PeopleStack) -> None:
    """The user's own answer (read back from the encrypted store) takes the Join button
    away; another attendee declining does not; the page marks it "Declined"."""
    from dataclasses import replace

    user = await stack.add_user("ann", timezone="Europe/Berlin")
    both = ("ann@example.com", "ben@example.com")
    await stack.put_meetings(user, [
        replace(meeting(user, "no", "Declined review", NOW + timedelta(minutes=4),
                        attendees=both), declined=("Ann@Example.com",)),
        replace(meeting(user, "ben", "Ben cannot come", NOW + timedelta(minutes=4),
                        attendees=both), declined=("ben@example.com",)),
    ])
    async with stack.client(await stack.token(user)) as client:
        body = (await client.get("/api/v1/me/meetings")).json()
        by_id = {m["event_id"]: m for m in body["meetings"]}
        assert (by_id["no"]["declined"], by_id["no"]["join_button_at"],
                by_id["no"]["join_button_due"]) == (True, None, False)
        assert (by_id["ben"]["declined"], by_id["ben"]["join_button_due"]) == (False, True)
        page = (await client.get("/me/fragment")).text
    declined_item = page[page.index('data-event-id="no"'):]
    declined_item = declined_item[:declined_item.index("</li>")]
    assert "Declined" in declined_item and 'class="join"' not in declined_item
    other = page[page.index('data-event-id="ben"'):]
    other = other[:other.index("</li>")]
    assert "Declined" not in other and 'class="join"' in other
