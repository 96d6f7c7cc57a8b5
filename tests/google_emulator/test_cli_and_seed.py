"""The ``emulator google`` command (through the plugin hooks) and bulk seeding."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httplib2
import pytest
from google.oauth2 import service_account
from googleapiclient.discovery import build

from hybrid_calendar.hooks import Hooks
from hybrid_calendar.plugins import get_plugin_manager
from hybrid_calendar_google_emulator.testing import RunningEmulator, cli_environment
from tests.google_emulator.helpers import ALICE, CALENDAR


def test_command_registered_through_hook() -> None:
    pm = get_plugin_manager(["google_emulator"], load_entrypoints=False)
    found: dict[str, argparse.ArgumentParser] = {}

    def register(name: str, help: str, configure: object, run: object) -> None:
        parser = argparse.ArgumentParser()
        configure(parser)  # type: ignore[operator]
        found[name] = parser

    Hooks(pm).register_commands(register)
    args = found["emulator google"].parse_args(
        ["--port", "0", "--domain", "d.example", "--users", "a@d.example",
         "--service-account-out", "/tmp/x.json"])
    assert args.port == 0 and args.users == "a@d.example"


def test_cli_serves_and_writes_trusted_key(tmp_path: Path) -> None:
    key_file = tmp_path / "sa.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "hybrid_calendar.cli", "emulator", "google", "--port", "0",
         "--domain", "example.com", "--users", f"{ALICE},bob@example.com",
         "--service-account-out", str(key_file), "--seed", "3", "--no-gzip"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_environment())
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "Google API emulator on http://127.0.0.1:" in line
        assert ALICE not in line  # no emails in output
        info = json.loads(key_file.read_text())
        assert oct(key_file.stat().st_mode & 0o777) == "0o600"
        base = info["token_uri"].removesuffix("/token")
        creds = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]  # google-auth: no hints
            str(key_file), scopes=[CALENDAR]).with_subject(ALICE)
        service = build("calendar", "v3", credentials=creds,
                        client_options={"api_endpoint": base + "/calendar/v3/"},
                        static_discovery=True, cache_discovery=False)
        try:
            # google-api-python-client asks for gzip; --no-gzip answers identity
            request = service.events().list(calendarId="primary")
            response, _ = service._http.request(request.uri, headers=request.headers)
            assert response.status == 200 and "-content-encoding" not in response
            assert "content-encoding" not in response
            assert len(request.execute()["items"]) == 3
        finally:
            service.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        process.stderr.close()


def test_cli_rejects_users_outside_domain(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hybrid_calendar.cli", "emulator", "google", "--port", "0",
         "--domain", "example.com", "--users", "x@other.example",
         "--service-account-out", str(tmp_path / "k.json")],
        capture_output=True, text=True, timeout=30, env=cli_environment())
    assert result.returncode == 2 and "not in domain" in result.stderr
    assert "x@other.example" not in result.stderr


def test_bulk_seed_1000_users_x_50_events(emu: RunningEmulator) -> None:
    # its speed is measured by tests/google_emulator/bench_emulator.py, not asserted here
    users = [f"user{i}@example.com" for i in range(1000)]
    created = emu.state.bulk_seed(users, 50, days=30)
    assert created == 50_000
    http = httplib2.Http()
    try:
        from google_auth_httplib2 import AuthorizedHttp

        creds = emu.credentials("user999@example.com")
        service = build("calendar", "v3", http=AuthorizedHttp(creds, http=http),
                        client_options={"api_endpoint": emu.calendar_endpoint},
                        static_discovery=True, cache_discovery=False)
        page = service.events().list(calendarId="primary", maxResults=2500).execute()
        assert len(page["items"]) == 50 and "nextSyncToken" in page
    finally:
        http.close()


@pytest.mark.parametrize("bad", [{"unknown_setting": 1}])
def test_unknown_settings_rejected(bad: dict[str, Any]) -> None:  # deliberately not a setting
    from hybrid_calendar_google_emulator.testing import running_emulator

    with pytest.raises(TypeError, match="unknown_setting"), running_emulator(**bad):
        pass


@pytest.mark.parametrize(("extra", "message"), [
    (["--faults", "{latency"], "argument --faults: not JSON"),
    (["--faults", "[1]"], "argument --faults: must be a JSON object"),
    (["--faults", '{"no_such_control": 1}'], "error: --faults: unknown control key"),
    (["--seed", "many"], "argument --seed: invalid int value"),
])
def test_cli_rejects_bad_faults_and_seed(tmp_path: Path, extra: list[str], message: str
                                         ) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hybrid_calendar.cli", "emulator", "google", "--port", "0",
         "--users", ALICE, "--service-account-out", str(tmp_path / "k.json"), *extra],
        capture_output=True, text=True, timeout=30, env=cli_environment())
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "k.json").exists()
