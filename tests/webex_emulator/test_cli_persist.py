"""``hybrid-calendar emulator webex``: the hook, the command line, --state-file, --seed."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from hybrid_calendar.hooks import Hooks
from hybrid_calendar.plugins import get_plugin_manager
from hybrid_calendar_webex_emulator.persist import load, save
from hybrid_calendar_webex_emulator.settings import WebexEmulatorSettings
from hybrid_calendar_webex_emulator.state import WebexState
from hybrid_calendar_webex_emulator.testing import (
    RunningWebexEmulator,
    cli_environment,
    running_webex_emulator,
)
from tests.webex_emulator.helpers import ALICE, BOB, wxc


def test_command_registered_through_hook() -> None:
    pm = get_plugin_manager(["webex_emulator"], load_entrypoints=False)
    found: dict[str, argparse.ArgumentParser] = {}

    def register(name: str, help: str, configure: object, run: object) -> None:
        parser = argparse.ArgumentParser()
        configure(parser)  # type: ignore[operator]
        found[name] = parser

    Hooks(pm).register_commands(register)
    args = found["emulator webex"].parse_args(
        ["--port", "0", "--domain", "d.example", "--users", "a@d.example", "--workspaces", "2",
         "--admin-token-out", "/tmp/t", "--seed", "3"])
    assert args.workspaces == 2 and args.seed == 3


ALL_OF_ALICE = {"hostEmail": ALICE, "from": "2000-01-01T00:00:00Z",
                "to": "2100-01-01T00:00:00Z"}


def _start(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "hybrid_calendar.cli", "emulator", "webex", "--port", "0",
         "--domain", "example.com", "--users", f"{ALICE},{BOB}", "--workspaces", "1",
         "--admin-token-out", str(tmp_path / "admin.token"), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_environment())
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "Webex API emulator on http://127.0.0.1:" in line, line
    assert ALICE not in line
    return process, line.split(" on ", 1)[1].split(" ", 1)[0]


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=10)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    process.stderr.close()


def test_cli_serves_seeds_and_persists_across_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "webex.json"
    process, api_base = _start(tmp_path, "--seed", "2", "--state-file", str(state_file))
    token_file = tmp_path / "admin.token"
    try:
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"
        token = token_file.read_text().strip()
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=api_base, headers=headers) as http:
            alice = http.get("/people", params={"email": ALICE}).json()["items"][0]
            seeded = http.get("/meetings", params=ALL_OF_ALICE)
            assert len(seeded.json()["items"]) == 2
            http.put(f"{api_base.removesuffix('/v1')}/_emulator/people/{ALICE}/status",
                     json={"status": "OutOfOffice"})
    finally:
        _stop(process)
    assert oct(state_file.stat().st_mode & 0o777) == "0o600"
    process, api_base = _start(tmp_path, "--seed", "5", "--state-file", str(state_file))
    try:
        assert token_file.read_text().strip() == token  # the old token stays valid
        with httpx.Client(base_url=api_base, headers=headers) as http:
            again = http.get(f"/people/{alice['id']}").json()
            assert again["status"] == "OutOfOffice"
            meetings = http.get("/meetings", params=ALL_OF_ALICE).json()
            assert len(meetings["items"]) == 2  # not seeded again
            workspaces = http.get("/workspaces", params={"calendar": "google"}).json()
            assert len(workspaces["items"]) == 1
    finally:
        _stop(process)


@pytest.mark.parametrize(("extra", "message"), [
    (["--faults", "{latency"], "argument --faults: not JSON"),
    (["--faults", '{"no_such_control": 1}'], "unknown control key"),
    (["--users", "x@other.example"], "not in domain"),
])
def test_cli_rejects_bad_arguments(tmp_path: Path, extra: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hybrid_calendar.cli", "emulator", "webex", "--port", "0",
         "--users", ALICE, *extra], capture_output=True, text=True, timeout=30,
        env=cli_environment())
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr and "x@other.example" not in result.stderr


def test_damaged_state_file_stops_the_start(tmp_path: Path) -> None:
    state_file = tmp_path / "webex.json"
    state_file.write_text('{"version": 99}')
    result = subprocess.run(
        [sys.executable, "-m", "hybrid_calendar.cli", "emulator", "webex", "--port", "0",
         "--state-file", str(state_file)], capture_output=True, text=True, timeout=30,
        env=cli_environment())
    assert result.returncode == 2 and "unsupported emulator state file" in result.stderr
    assert state_file.read_text() == '{"version": 99}'


def test_save_and_load_in_process(tmp_path: Path, emu: RunningWebexEmulator) -> None:
    api = wxc(emu, emu.admin_token)
    meeting = api.meetings.create(title="Kept", start="2030-01-01T10:00:00Z",
                                  end="2030-01-01T11:00:00Z", host_email=ALICE)
    assert meeting.id is not None
    app = emu.state.create_service_app()
    save(emu.state, tmp_path / "s.json")
    fresh = WebexState(WebexEmulatorSettings(users=[ALICE]))
    try:
        assert load(fresh, tmp_path / "s.json")
        assert fresh.meetings[meeting.id]["title"] == "Kept"
        assert fresh.tokens.service_apps[app.application_id].client_secret == app.client_secret
        assert fresh.tokens.lookup(emu.admin_token, fresh.clock.now()) is not None
        assert not load(fresh, tmp_path / "missing.json")
    finally:
        fresh.close()


def test_unknown_setting_rejected() -> None:
    with pytest.raises(TypeError, match="no_such_setting"), \
            running_webex_emulator(no_such_setting=1):
        pass
