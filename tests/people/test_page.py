"""The web page in a real headless Chromium: no-JS render, live Join button, keyboard,
screen-reader names, phone size and a screenshot check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from hybrid_calendar.engine import notify
from hybrid_calendar.models import Notification, NotificationKind, User

from .browser import chromium, read_png, share_of_colour
from .conftest import NOW, PeopleStack, meeting, offer

pytestmark = pytest.mark.anyio
SQLITE_ONLY = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
"""Rendering does not depend on the store; the live Join button test runs on both."""
JOIN_GREEN = (0x12, 0x70, 0x3A)
BANNER_YELLOW = (0xFF, 0xF4, 0xD6)


async def _world(stack: PeopleStack) -> User:
    user = await stack.add_user("dora", timezone="Europe/Berlin")
    review = meeting(user, "review", "Design review", NOW + timedelta(minutes=10),
                     url=f"{stack.base_url}/healthz?meeting=review")
    await stack.put_meetings(user, [
        review,
        meeting(user, "hands", "All hands", NOW + timedelta(hours=3), url=None),
        meeting(user, "holiday", "Company holiday", datetime(2026, 11, 28, tzinfo=UTC),
                all_day=True, url=None),
        meeting(user, "plan", "Planning", NOW + timedelta(days=2)),
        meeting(user, "old", "Yesterday's", NOW - timedelta(days=1)),
    ])
    await notify.schedule_join_buttons(stack.gateway, user, [review])
    return user


async def _signed_in_page(stack: PeopleStack, browser: Any, user: User, **context: Any
                          ) -> Any:
    link = (await stack.admin.post(f"/api/v1/users/{user.id}/access",
                                   json={"kind": "link"})).json()["url"]
    page = await (await browser.new_context(**context)).new_page()
    await page.goto(link)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{stack.base_url}/me")
    return page


@SQLITE_ONLY
async def test_page_renders_its_list_without_javascript(stack: PeopleStack) -> None:
    user = await _world(stack)
    await stack.gateway.store.set_out_of_office(user.id, True)
    async with chromium() as browser:
        page = await _signed_in_page(stack, browser, user, java_script_enabled=False)
        today = page.locator("section[aria-labelledby=today-h]")
        assert await today.get_by_role("heading").inner_text() == "Today, Friday 27 November"
        assert await today.locator(".title").all_inner_texts() == ["Design review",
                                                                   "All hands"]
        times = today.locator(".meeting").first.locator("time")
        assert await times.all_inner_texts() == ["10:10", "10:40"]
        assert await times.first.get_attribute("datetime") == "2026-11-27T10:10:00+01:00"
        upcoming = page.locator("section[aria-labelledby=upcoming-h]")
        assert await upcoming.get_by_role("heading", level=3).all_inner_texts() == [
            "Saturday 28 November", "Sunday 29 November"]
        assert await upcoming.locator(".title").all_inner_texts() == ["Company holiday",
                                                                      "Planning"]
        assert "Out of office." in await page.get_by_role("note").inner_text()
        assert await page.locator("a.join").count() == 0  # 10 minutes out, lead is 5
        assert await page.locator(".later").first.inner_text() == "Join from 10:05"
        assert "Yesterday" not in await page.content()


async def test_join_button_appears_live_when_the_clock_reaches_the_lead_time(
        stack: PeopleStack) -> None:
    user = await _world(stack)
    async with chromium() as browser:
        page = await _signed_in_page(stack, browser, user)
        await page.wait_for_selector("body[data-live='1']")
        assert await page.locator("a.join").count() == 0
        stack.clock.advance(timedelta(minutes=4, seconds=59))
        await notify.deliver_due(stack.gateway)
        stack.clock.advance(timedelta(seconds=1))  # start − 5 minutes
        await notify.deliver_due(stack.gateway)
        join = page.get_by_role("link", name="Join Design review")
        await join.wait_for(timeout=10_000)
        await expect(page.locator("#announcer")).to_have_text(
            "Join button available: Design review")
        async with page.context.expect_page() as opened:
            await join.click()
        meeting_page = await opened.value
        await meeting_page.wait_for_load_state()
        assert meeting_page.url == f"{stack.base_url}/healthz?meeting=review"
        await offer(stack, Notification(
            kind=NotificationKind.PRESENCE, user=user, payload={"out_of_office": True},
            key="ooo-1"))
        await stack.gateway.store.set_out_of_office(user.id, True)
        await offer(stack, Notification(
            kind=NotificationKind.MEETINGS_CHANGED, user=user, payload={}, key="m-2"))
        await page.get_by_role("note").wait_for(timeout=10_000)


@SQLITE_ONLY
async def test_keyboard_and_screen_reader_use(stack: PeopleStack) -> None:
    user = await _world(stack)
    stack.clock.advance(timedelta(minutes=6))  # the Join button is due
    async with chromium() as browser:
        page = await _signed_in_page(stack, browser, user)
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.textContent") == \
            "Skip to meetings"
        await page.keyboard.press("Enter")
        for _ in range(10):
            await page.keyboard.press("Tab")
            if await page.evaluate("document.activeElement.className") == "join":
                break
        else:
            raise AssertionError("the Join button is not reachable by keyboard")
        assert await page.evaluate("document.activeElement.textContent") == \
            "Join Design review"
        tree = await page.locator("body").aria_snapshot()
        for expected in ('heading "Your meetings" [level=1]',
                         'heading "Today, Friday 27 November" [level=2]',
                         'link "Join Design review"', "- main", "- status"):
            assert expected in tree, tree


@SQLITE_ONLY
async def test_phone_sized_screen_and_screenshot(stack: PeopleStack, tmp_path: Path) -> None:
    user = await _world(stack)
    await stack.gateway.store.set_out_of_office(user.id, True)
    stack.clock.advance(timedelta(minutes=6))
    async with chromium() as browser:
        page = await _signed_in_page(stack, browser, user,
                                     viewport={"width": 375, "height": 740},
                                     device_scale_factor=1, is_mobile=True, has_touch=True)
        overflow = await page.evaluate("document.documentElement.scrollWidth - "
                                       "document.documentElement.clientWidth")
        assert overflow <= 0
        join = await page.locator("a.join").bounding_box()
        assert join is not None and join["height"] >= 44 and join["width"] >= 300
        banner = await page.get_by_role("note").bounding_box()
        assert banner is not None
        shot = await page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
        width, height, rows = read_png(shot)
        assert width == 375 and height >= 740
        inner = (int(join["x"]) + 8, int(join["y"]) + 4, int(join["width"]) - 16, 6)
        assert share_of_colour(rows, inner, JOIN_GREEN) > 0.5
        band = (int(banner["x"]) + 30, int(banner["y"]) + 2, 200, 3)
        assert share_of_colour(rows, band, BANNER_YELLOW) > 0.5


@SQLITE_ONLY
async def test_a_declined_meeting_shows_declined_and_no_join_button(
        stack: PeopleStack, tmp_path: Path) -> None:
    from dataclasses import replace

    user = await stack.add_user("dora", timezone="Europe/Berlin")
    both = (user.email, "erik@example.com")
    await stack.put_meetings(user, [
        replace(meeting(user, "clash", "Budget review", NOW + timedelta(minutes=2),
                        attendees=both), declined=(user.email,)),
        meeting(user, "sync", "Team sync", NOW + timedelta(minutes=3), attendees=both),
    ])
    async with chromium() as browser:
        page = await _signed_in_page(stack, browser, user,
                                     viewport={"width": 800, "height": 400})
        declined = page.locator("li.meeting[data-event-id=clash]")
        await expect(declined.locator(".badge")).to_have_text("Declined")
        assert await declined.locator("a.join").count() == 0
        assert await declined.locator(".later").count() == 0
        attending = page.locator("li.meeting[data-event-id=sync]")
        await expect(attending.get_by_role("link", name="Join Team sync")).to_be_visible()
        assert await attending.locator(".badge").count() == 0
        await page.screenshot(path=str(tmp_path / "declined.png"))
