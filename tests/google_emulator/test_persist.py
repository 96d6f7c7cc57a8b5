"""Optional persistence: state file round trip, in process and through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from google.oauth2 import service_account
from googleapiclient.discovery import build

from hybrid_calendar_google_emulator.options import EmulatorOptions
from hybrid_calendar_google_emulator.persist import load, save
from hybrid_calendar_google_emulator.state import EmulatorState
from hybrid_calendar_google_emulator.testing import cli_environment
from tests.google_emulator.helpers import ALICE, BOB, CALENDAR, timed


def test_state_round_trip(tmp_path: Path) -> None:
    state = EmulatorState(EmulatorOptions(users=[ALICE, BOB], fresh_key=False))
    event = state.insert_event(ALICE, timed("x", "2026-12-01T10:00:00Z",
                                            "2026-12-01T11:00:00Z",
                                            attendees=[{"email": BOB}]))
    state.delete_event(ALICE, event["id"])
    state.set_vacation(BOB, {"enableAutoReply": True, "startTime": 1})
    path = tmp_path / "state.json"
    save(state, path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    again = EmulatorState(EmulatorOptions(users=[ALICE], fresh_key=False))
    assert load(again, path)
    assert again.service_account_info == state.service_account_info
    assert again.get_event(BOB, event["id"])["status"] == "cancelled"
    assert again.users[BOB].vacation == {"enableAutoReply": True, "startTime": "1"}
    assert again.journal.seq == state.journal.seq
    state.close()
    again.close()


def run_cli(key_file: Path, state_file: Path) -> subprocess.Popen[str]:
    """Start the emulator CLI with a state file; returns once it serves."""
    process = subprocess.Popen(
        [sys.executable, "-m", "hybrid_calendar.cli", "emulator", "google", "--port", "0",
         "--users", ALICE, "--service-account-out", str(key_file),
         "--state-file", str(state_file)], stdout=subprocess.PIPE, text=True, env=cli_environment())
    assert process.stdout is not None
    assert "Google API emulator on" in process.stdout.readline()
    return process


def stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM and wait (the state is saved on the way out)."""
    process.terminate()
    assert process.wait(timeout=10) == 0
    assert process.stdout is not None
    process.stdout.close()


def service(key_file: Path) -> Any:
    """Alice's Calendar client from the key file (googleapiclient builds it at run time
    from the discovery document: it has no static type)."""
    info = json.loads(key_file.read_text())
    creds = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]  # google-auth: no hints
        info, scopes=[CALENDAR]).with_subject(ALICE)
    return build("calendar", "v3", credentials=creds, static_discovery=True,
                 cache_discovery=False, client_options={
                     "api_endpoint": info["token_uri"].removesuffix("/token") + "/calendar/v3/"})


def test_cli_restart_keeps_key_events_and_sync_tokens(tmp_path: Path) -> None:
    key_file, state_file = tmp_path / "sa.json", tmp_path / "state.json"
    process = run_cli(key_file, state_file)
    try:
        cal = service(key_file)
        cal.events().insert(calendarId="primary", body=timed(
            "kept", "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z")).execute()
        token = cal.events().list(calendarId="primary").execute()[
            "nextSyncToken"]
        cal.close()
    finally:
        stop(process)
    old_key = json.loads(key_file.read_text())
    process = run_cli(key_file, state_file)
    try:
        new_key = json.loads(key_file.read_text())
        assert new_key["private_key_id"] == old_key["private_key_id"]
        cal = service(key_file)
        items = cal.events().list(calendarId="primary").execute()["items"]
        assert [e["summary"] for e in items] == ["kept"]
        assert cal.events().list(calendarId="primary",
                                 syncToken=token).execute()["items"] == []
        cal.close()
    finally:
        stop(process)


def test_damaged_state_file_leaves_state_untouched(tmp_path: Path) -> None:
    state = EmulatorState(EmulatorOptions(users=[ALICE], fresh_key=False))
    save(state, tmp_path / "good.json")
    good = json.loads((tmp_path / "good.json").read_text())
    del good["calendars"]  # key and users readable, calendars missing
    path = tmp_path / "state.json"
    path.write_text(json.dumps(good))
    fresh = EmulatorState(EmulatorOptions(users=[BOB], fresh_key=True))
    before = fresh.service_account_info
    try:
        with pytest.raises(ValueError, match="damaged emulator state file"):
            load(fresh, path)
        assert fresh.service_account_info == before
        assert set(fresh.users) == {BOB}
        path.write_text("{not json")
        with pytest.raises(ValueError):
            load(fresh, path)
    finally:
        state.close()
        fresh.close()


def test_cli_refuses_damaged_state_file_and_keeps_it(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text('{"version": 1}')
    result = subprocess.run(
        [sys.executable, "-m", "hybrid_calendar.cli", "emulator", "google", "--port", "0",
         "--users", ALICE, "--service-account-out", str(tmp_path / "sa.json"),
         "--state-file", str(state_file)], capture_output=True, text=True, timeout=30,
        env=cli_environment())
    assert result.returncode == 2
    assert "damaged emulator state file" in result.stderr
    assert "Traceback" not in result.stderr
    assert state_file.read_text() == '{"version": 1}'
    assert not (tmp_path / "sa.json").exists()
