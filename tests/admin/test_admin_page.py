"""The admin page in a real headless Chromium (Debian's ``chromium``) driven by Playwright:
sign in, see users with state, reason and health, activate, import a CSV, validate,
deactivate, read the audit log; an auditor sees no change controls. Ends with a
screenshot whose pixels are checked."""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from hybrid_calendar.admin.credentials import Role, add_credential
from hybrid_calendar_google.quota import PROJECT_BUDGET_NAME as PROJECT
from hybrid_calendar_google.quota import USER_BUDGET_NAME as USER
from tests.engine.conftest import ALICE, BOB, CAROL, Stack
from tests.engine.test_gateway_with_emulator import at

pytestmark = pytest.mark.anyio
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
expect.set_options(timeout=30_000)  # a loaded CI machine renders slowly; no fixed waits
SCREENSHOT = Path(os.environ.get("HYBRID_CALENDAR_SCREENSHOT_DIR", "/tmp")) / "admin-page.png"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    assert Path(CHROMIUM).exists(), "apt-get install chromium (.ci/run does)"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def sign_in(page: Page, stack: Stack, name: str, secret: str) -> None:
    await page.goto(stack.base_url + "/admin")
    await page.fill("#name", name)
    await page.fill("#secret", secret)
    await page.click("#signin-form button")
    await expect(page.locator("#app")).to_be_visible()


def row(page: Page, email: str) -> object:
    return page.locator(f'#users tbody tr[data-email="{email}"]')


async def reload_users(page: Page, stack: Stack) -> None:
    await stack.idle()
    await page.click("#orgs tbody a >> text=org1")


async def test_admin_page_end_to_end(stack: Stack, browser: Browser, tmp_path: Path) -> None:
    stack.emu.state.insert_event(ALICE, at(2, summary="Standup"))
    await stack.activate(ALICE)
    await stack.activate("dave@example.com")  # unknown to Google: error with a code
    secret = await add_credential(stack.gateway, "ops", Role.ADMIN)
    page = await browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    await sign_in(page, stack, "ops", secret)

    budgets = {b["name"]: b for b in (await stack.admin.get(
        "/api/v1/organisations/org1/health")).json()["budgets"]}
    project = budgets[PROJECT]
    assert project["used"] > 0
    quota = page.locator("#orgs tbody tr").first.locator("td.quota")
    await expect(quota.locator(f'div[data-budget="{PROJECT}"]')).to_have_text(
        f"{PROJECT}: {project['used']} / 10000")
    await expect(quota.locator(f'div[data-budget="{USER}"]')).to_contain_text(" / 600")

    alice = page.locator(f'#users tbody tr[data-email="{ALICE}"]')
    await expect(alice.locator("td").nth(1)).to_have_text("active")
    await expect(alice.locator("td").nth(7)).to_have_text("1")  # meetings
    dave = page.locator('#users tbody tr[data-email="dave@example.com"]')
    await expect(dave.locator("td").nth(1)).to_have_text("error")
    await expect(dave.locator("td").nth(2)).to_contain_text("access_denied: ")
    color = await dave.locator("td").nth(1).evaluate("e => getComputedStyle(e).color")
    assert color == "rgb(179, 38, 30)"

    await page.fill("#emails", f"{BOB}\nnobody@elsewhere.org")
    await page.click("#activate-form button")
    await expect(page.locator("#message")).to_contain_text(
        "nobody@elsewhere.org: domain_not_verified")
    csv = tmp_path / "people.csv"
    csv.write_text(f"email\n{CAROL}\n")
    await page.set_input_files("#csv", str(csv))
    await expect(page.locator("#message")).to_contain_text("Import people.csv — queued")
    await reload_users(page, stack)
    for email in (BOB, CAROL):
        state = page.locator(f'#users tbody tr[data-email="{email}"] td').nth(1)
        await expect(state).to_have_text("active")

    await alice.locator("button", has_text="Deactivate").click()
    await expect(page.locator("#message")).to_contain_text(f"Deactivate: {ALICE} — queued")
    await reload_users(page, stack)
    await expect(alice.locator("td").nth(1)).to_have_text("inactive")
    await dave.locator("button", has_text="Validate").click()
    await reload_users(page, stack)
    await expect(dave.locator("td").nth(1)).to_have_text("error")

    audit = page.locator("#audit tbody tr")
    await expect(audit.first).to_contain_text("ops")
    await expect(page.locator("#audit")).to_contain_text("deactivate.user")
    await expect(page.locator("#audit")).to_contain_text("import.users")
    await page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert errors == []
    check_screenshot(SCREENSHOT.read_bytes())


async def test_auditor_sees_no_change_controls(stack: Stack, browser: Browser) -> None:
    await stack.activate(ALICE)
    secret = await add_credential(stack.gateway, "audit", Role.AUDITOR)
    page = await browser.new_page()
    await sign_in(page, stack, "audit", secret)
    await expect(page.locator("#who")).to_have_text("audit · auditor (read-only)")
    await expect(page.locator(f'#users tbody tr[data-email="{ALICE}"]')).to_be_visible()
    await expect(page.locator("#activate-form")).to_be_hidden()
    assert await page.locator("#users button").count() == 0


async def test_wrong_secret_is_refused_on_the_page(stack: Stack, browser: Browser) -> None:
    await add_credential(stack.gateway, "ops", Role.ADMIN)
    page = await browser.new_page()
    await page.goto(stack.base_url + "/admin")
    await page.fill("#name", "ops")
    await page.fill("#secret", "guess")
    await page.click("#signin-form button")
    await expect(page.locator("#message")).to_contain_text("Sign-in refused")
    await expect(page.locator("#app")).to_be_hidden()


def check_screenshot(png: bytes) -> None:
    """A real rendering: PNG of the full page, the dark header band across the top and
    the light page below (decoded here, no image library needed)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == 1400 and height >= 600
    rows = _decode_rgb_rows(png, width)
    header, body = rows[5], rows[height - 5]
    assert _mean(header) < 80, "the header band should be dark (#1d2430)"
    assert _mean(body) > 200, "the page background should be light"


def _decode_rgb_rows(png: bytes, width: int) -> list[bytes]:
    offset, chunks = 8, b""
    colour_type = png[25]
    channels = {2: 3, 6: 4}[colour_type]
    while offset < len(png):
        length = struct.unpack(">I", png[offset:offset + 4])[0]
        kind = png[offset + 4:offset + 8]
        if kind == b"IDAT":
            chunks += png[offset + 8:offset + 8 + length]
        offset += 12 + length
    raw = zlib.decompress(chunks)
    stride = width * channels
    rows, previous = [], bytes(stride)
    for start in range(0, len(raw), stride + 1):
        filter_type, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            predictor = {0: 0, 1: left, 2: up, 3: (left + up) // 2,
                         4: _paeth(left, up, corner)}[filter_type]
            line[i] = (line[i] + predictor) & 0xFF
        previous = bytes(line)
        rows.append(bytes(b for i, b in enumerate(line) if i % channels < 3))
    return rows


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _mean(row: bytes) -> float:
    return sum(row) / len(row)
