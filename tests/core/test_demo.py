"""``hybrid-calendar demo``: the core asks plugins for their parts, then runs for real."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hybrid_calendar.demo import demo_plugins
from hybrid_calendar.demo_setup import DemoPart, DemoSetup, merge_parts
from hybrid_calendar.errors import ConfigError
from hybrid_calendar.hooks import Hooks
from hybrid_calendar.plugins import get_plugin_manager

from .test_server import free_port

USERS = ("alice@demo.test", "bob@demo.test", "carol@demo.test")


def test_demo_enables_the_emulator_of_each_enabled_plugin() -> None:
    assert demo_plugins(["google", "join_info", "kms_local"]) == [
        "google", "join_info", "kms_local", "google_emulator"]
    assert demo_plugins(["join_info", "google_emulator"]) == ["join_info", "google_emulator"]


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


def test_demo_command_lists_every_users_meetings(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("hybrid-calendar")
    done = subprocess.run([str(script), "demo", "--seconds", "0.1", "--port", str(free_port()),
                           "--data-dir", str(tmp_path / "demo")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "alice@demo.example: 6 meeting(s)" in out
    assert "bob@demo.example: 2 meeting(s)" in out
    assert "carol@demo.example (out of office): 0 meeting(s)" in out
    assert re.search(r"Customer call +meet +https://meet\.google\.com/", out)  # @meet keyword
    assert re.search(r"Board room call +sip +sip:board@video\.demo\.example", out)
    assert re.search(r"Google emulator on http://127\.0\.0\.1:\d+; data in ", out)
