"""``hybrid-calendar demo``: the core asks plugins for their parts, then walks through the
mission against the real emulators and checks every step at the source."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from hybrid_calendar.demo import (
    MARKER,
    demo_plugins,
    free_port,
    fresh_data_dir,
    meeting_line,
)
from hybrid_calendar.demo_setup import DemoPart, DemoSetup, merge_parts
from hybrid_calendar.errors import ConfigError
from hybrid_calendar.hooks import Hooks
from hybrid_calendar.plugins import get_plugin_manager

USERS = ("alice@demo.test", "bob@demo.test", "carol@demo.test")
STEPS = 8


def run_demo_command(*args: str, env: dict[str, str] | None = None
                     ) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("hybrid-calendar")
    return subprocess.run([str(script), "demo", *args], capture_output=True, text=True,
                          timeout=180, check=False, env=env)


def test_demo_enables_the_emulator_of_each_enabled_plugin() -> None:
    assert demo_plugins(["google", "join_info", "kms_local"]) == [
        "google", "join_info", "kms_local", "google_emulator"]
    assert demo_plugins(["google", "webex"]) == [
        "google", "webex", "google_emulator", "webex_emulator"]
    assert demo_plugins(["join_info", "google_emulator"]) == ["join_info", "google_emulator"]


def test_meeting_line_shows_the_link_and_video_address_or_a_refusal_note() -> None:
    meeting = {"start": "2026-01-05T09:00:00+00:00", "title": "Sync", "join": {
        "provider": "webex", "url": "https://acme.webex.com/meet/jo", "source": "location",
        "dial": "jo@acme.webex.com", "extra": {}}}
    assert meeting_line(meeting) == ("  2026-01-05T09:00  Sync               webex    "
                                     "https://acme.webex.com/meet/jo jo@acme.webex.com")
    refused = {**meeting, "join": {"provider": "webex", "url": None, "source": "refused",
                                   "dial": None, "extra": {"note": "No Webex account."}}}
    assert meeting_line(refused).endswith("webex    No Webex account.")
    assert meeting_line({**meeting, "join": None}).endswith("Sync               -")


def test_merge_parts_refuses_two_owners_of_one_key() -> None:
    merged = merge_parts({"gateway": {"port": 1}}, [DemoPart(settings={"acme": {"url": "a"}}),
                                                   DemoPart(settings={"gateway": {"x": 2}})])
    assert merged == {"gateway": {"port": 1, "x": 2}, "acme": {"url": "a"}}
    with pytest.raises(ConfigError, match="more than one part") as caught:
        merge_parts({"acme": {"url": "a"}}, [DemoPart(settings={"acme": {"url": "b"}})])
    assert caught.value.key == "acme.url"


def test_the_demo_empties_only_its_own_directory(tmp_path: Path) -> None:
    mine = tmp_path / "demo"
    fresh_data_dir(mine)
    (mine / "gateway.db").write_text("previous run")
    fresh_data_dir(mine)
    assert sorted(p.name for p in mine.iterdir()) == [MARKER]
    assert mine.stat().st_mode & 0o777 == 0o700
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("not the demo's")
    with pytest.raises(ConfigError, match="not a demo directory"):
        fresh_data_dir(other)
    assert (other / "keep.txt").read_text() == "not the demo's"


def test_hook_prepare_demo_plugins_contribute_their_parts(tmp_path: Path) -> None:
    hooks = Hooks(get_plugin_manager(["google_emulator", "kms_local", "join_info"],
                                     load_entrypoints=False))
    with contextlib.ExitStack() as cleanup:
        parts = hooks.prepare_demo(DemoSetup(domain="demo.test", users=USERS,
                                             data_dir=tmp_path, now=datetime.now(UTC),
                                             cleanup=cleanup))
        settings = merge_parts({}, parts)
        google = settings["google"]
        key = json.loads(Path(google["service_account_file"]).read_text())
        base = google["gmail_base_url"]
        assert key["token_uri"] == base + "/token"  # the key trusts the started emulator
        assert google["calendar_base_url"] == base + "/calendar/v3"
        assert settings["kms_local"] == {"key_file": str(tmp_path / "kms-keys.json")}
        assert [note for part in parts for note in part.notes] == [
            f"Google emulator on {base}"]
        [calendar] = [part.calendar for part in parts if part.calendar is not None]
        assert not calendar.watched(USERS[0])  # nobody subscribed yet


def test_hook_prepare_demo_webex_emulator_authorises_the_gateways_service_app(
        tmp_path: Path) -> None:
    hooks = Hooks(get_plugin_manager(["webex_emulator"], load_entrypoints=False))
    with contextlib.ExitStack() as cleanup:
        [part] = hooks.prepare_demo(DemoSetup(domain="demo.test", users=USERS,
                                              data_dir=tmp_path, now=datetime.now(UTC),
                                              cleanup=cleanup))
        webex = part.settings["webex"]
        [note] = part.notes
        assert note == f"Webex emulator on {webex['api_base_url'].removesuffix('/v1')}"
        headers = {"Authorization": f"Bearer {webex['applications_token']}"}
        token = httpx.post(f"{webex['api_base_url']}/applications/"
                           f"{webex['service_app_id']}/token", headers=headers, json={
                               "clientId": webex["client_id"],
                               "clientSecret": webex["client_secret"],
                               "targetOrgId": webex["target_org_id"]})
        assert token.status_code == 200, token.text  # the administrator authorised the app
        bot = httpx.get(f"{webex['api_base_url']}/people/me",
                        headers={"Authorization": f"Bearer {webex['bot_token']}"})
        assert bot.json()["type"] == "bot"
        service = part.meeting_service
        assert service is not None
        assert service.room == "room-1@demo.test"
        assert service.personal_room(USERS[1]) is not None
        assert service.scheduled_meeting(USERS[0], "anything") is None
        assert service.join_buttons(USERS[0]) == [] and not service.out_of_office(USERS[2])
        assert part.report is not None
        assert part.report()[0] == ("Made in Webex (emulator): 0 scheduled meeting(s), "
                                    "0 space(s), 0 room booking(s)")


@pytest.mark.slow
def test_demo_once_walks_through_the_mission_and_every_step_passes(tmp_path: Path) -> None:
    done = run_demo_command("--once", "--data-dir", str(tmp_path / "demo"))
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    summary = out[out.index("\nSummary"):]
    lines = [line for line in summary.splitlines() if re.match(r"(PASS|FAIL)  \[\d\]", line)]
    assert len(lines) == STEPS and all(line.startswith("PASS") for line in lines), summary
    assert f"demo: {STEPS} passed, 0 failed" in summary
    # the German join block, with the link the Webex emulator recorded for the meeting
    made = re.search(r"PASS Webex recorded meeting 'Angebot' hosted by alice@demo\.example: "
                     r"(https://\S+) ", out)
    assert made, out
    assert f"reads 'Link zur Teilnahme: {made.group(1)}' (de)" in out
    assert "reads 'Join link: https://demo.webex.com/meet/bob' (en)" in out
    assert re.search(r"Webex recorded space 'Customer call' with members alice@demo\.example, "
                     r"bob@demo\.example", out)
    assert "room-1@demo.example's video device holds booking 'Angebot'" in out
    assert "received a Join button in the Webex app for https://us02web.zoom.us/j/" in out
    assert "PASS Webex shows carol@demo.example out of office" in out
    assert "carol@demo.example (out of office): 0 meeting(s)" in out
    assert re.search(r"Partner call +meet +https://meet\.google\.com/", out)
    assert re.search(r"Board room call +sip +sip:board@video\.demo\.example", out)


@pytest.mark.slow
def test_demo_once_fails_when_a_step_fails(tmp_path: Path) -> None:
    # without the people plugin nobody gets a personal token, page, feed or stream
    env = {**os.environ, "HYBRID_CALENDAR_PLUGINS__ENABLED": "google,join_info,kms_local,webex"}
    done = run_demo_command("--once", "--data-dir", str(tmp_path / "demo"), env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert re.search(r"FAIL  \[1\] The administrator provisions .*404 Not Found", done.stdout)
    assert re.search(r"PASS  \[2\] alice@demo\.example invites", done.stdout)  # Webex works
    assert re.search(r"^demo: \d passed, [1-9] failed$", done.stdout, re.MULTILINE)


@pytest.mark.slow
def test_demo_keeps_serving_and_prints_the_pages(tmp_path: Path) -> None:
    port = free_port()
    done = run_demo_command("--seconds", "0.1", "--port", str(port),
                            "--data-dir", str(tmp_path / "demo"))
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert f"Admin page: http://127.0.0.1:{port}/admin" in out
    for name in ("alice", "bob", "carol"):
        assert f"{name}@demo.example's page: http://127.0.0.1:{port}/me" in out
    links = re.findall(rf"sign in once with (http://127\.0\.0\.1:{port}/me/sign-in\?code="
                       r"hcp_\S+)", out)
    assert len(links) == 3
    assert len(re.findall(r"personal token \(API, stream, devices\): hcp_\S+", out)) == 3
    assert "Summary" not in out  # the live demo narrates, it does not grade
