"""``hybrid-calendar demo``: the core asks plugins for their parts, then runs for real."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from hybrid_calendar.demo import demo_plugins, meeting_line
from hybrid_calendar.demo_setup import DemoPart, DemoSetup, merge_parts
from hybrid_calendar.errors import ConfigError
from hybrid_calendar.hooks import Hooks
from hybrid_calendar.plugins import get_plugin_manager

from .test_server import free_port

USERS = ("alice@demo.test", "bob@demo.test", "carol@demo.test")


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
        assert part.report is not None
        assert part.report()[0] == ("Made in Webex (emulator): 0 scheduled meeting(s), "
                                    "0 space(s), 0 room booking(s)")


def test_demo_command_lists_every_users_meetings(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("hybrid-calendar")
    done = subprocess.run([str(script), "demo", "--seconds", "0.1", "--port", str(free_port()),
                           "--data-dir", str(tmp_path / "demo")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "alice@demo.example: 9 meeting(s)" in out
    assert "bob@demo.example: 4 meeting(s)" in out
    assert "carol@demo.example (out of office): 0 meeting(s)" in out
    assert re.search(r"Board room call +sip +sip:board@video\.demo\.example", out)
    # @webex: alice's Personal Room, with the address video devices dial
    assert re.search(r"Team-Runde +webex +https://demo\.webex\.com/meet/alice "
                     r"alice@demo\.webex\.com", out)
    # @webex:onetime: a meeting scheduled in the emulator, and its link in the invite
    made = re.search(r"meeting  Angebot +host alice@demo\.example +(https://\S+) +(\d+@\S+)",
                     out)
    assert made, out
    link, sip = made.groups()
    assert re.search(rf"Angebot +webex +{re.escape(link)} {re.escape(sip)}", out)
    assert "Made in Webex (emulator): 1 scheduled meeting(s), 1 space(s), 1 room booking(s)" \
        in out
    assert f"  | Link zur Teilnahme: {link}" in out  # the German join block in the invite
    assert f"  | Über ein Videosystem teilnehmen: {sip}" in out
    # @meet: a Webex space (the default), @meet:meet: Google Meet
    assert re.search(r"Customer call +webex +https://demo\.webex\.com/m/\S+ \d+@demo\.webex",
                     out)
    assert re.search(r"space    Customer call +members alice@demo\.example, bob@demo\.example\n",
                     out)
    assert re.search(r"Partner call +meet +https://meet\.google\.com/", out)
    assert re.search(r"Webex emulator on http://127\.0\.0\.1:\d+; "
                     r"Google emulator on http://127\.0\.0\.1:\d+; data in ", out)
