"""``org init``, ``users ...`` and ``admin ...`` commands against the emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybrid_calendar.cli import main
from hybrid_calendar_google_emulator.testing import RunningEmulator, running_emulator

DOMAIN = "example.com"
ALICE, BOB = f"alice@{DOMAIN}", f"bob@{DOMAIN}"


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[RunningEmulator, Path, Path]]:
    with running_emulator(domain=DOMAIN, users=[ALICE, BOB]) as emu:
        key = tmp_path / "key.json"
        key.write_text(json.dumps(emu.service_account_info))
        config = tmp_path / "gateway.toml"
        config.write_text(f"""
[gateway]
data_dir = "{tmp_path / 'data'}"
public_url = "http://127.0.0.1:9"
[plugins]
enabled = ["google", "join_info", "kms_local"]
load_entrypoints = false
[google]
calendar_base_url = "{emu.base_url}/calendar/v3"
gmail_base_url = "{emu.base_url}"
[join_info]
keywords = ["meet=google_meet"]
""")
        yield emu, config, key


def test_org_init_prints_client_id_scopes_and_steps(setup: tuple[RunningEmulator, Path, Path],
                                                    capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    emu, config, key = setup
    argv = ["org", "init", "--config", str(config), "--domain", DOMAIN, "--domain",
            "example.org", "--service-account", str(key), "--public-url",
            "https://gw.example.com"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"Client ID: {emu.service_account_info['client_id']}" in out
    assert ("Scopes:    https://www.googleapis.com/auth/calendar,"
            "https://www.googleapis.com/auth/gmail.settings.basic") in out
    assert "Manage Domain Wide Delegation" in out and "gw.example.com" in out
    assert main(argv) == 2  # exists: refused, not overwritten
    assert "organisation 'example.com' exists already" in capsys.readouterr().err


def test_org_init_names_a_key_file_that_is_not_json(setup: tuple[RunningEmulator, Path, Path],
                                                    tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    _emu, config, _key = setup
    bad = tmp_path / "bad.json"
    bad.write_text("nope")
    assert main(["org", "init", "--config", str(config), "--domain", DOMAIN,
                 "--service-account", str(bad), "--public-url", "https://gw.example"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: --service-account: {bad} is not a JSON service-account key")


def test_users_activate_list_validate_deactivate(setup: tuple[RunningEmulator, Path, Path],
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    _emu, config, key = setup
    assert main(["org", "init", "--config", str(config), "--id", "acme", "--domain", DOMAIN,
                 "--service-account", str(key), "--public-url", "https://gw.example"]) == 0
    capsys.readouterr()
    csv = tmp_path / "users.csv"
    csv.write_text(f"email\n{BOB}\nout@side.net\n")
    assert main(["users", "activate", "--config", str(config), "--org", "acme", ALICE,
                 "--csv", str(csv)]) == 1  # one refused
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{ALICE}: active" and out[1] == f"{BOB}: active"
    assert out[2].startswith("out@side.net: refused (domain_not_verified: ")
    assert main(["users", "list", "--config", str(config), "--org", "acme", "--json"]) == 0
    rows = {r["email"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[ALICE]["state"] == "active" and rows[ALICE]["channel_expires_at"]
    assert main(["users", "deactivate", "--config", str(config), "--org", "acme", BOB]) == 0
    assert capsys.readouterr().out.strip() == f"{BOB}: inactive"
    assert main(["users", "validate", "--config", str(config), "--org", "acme", BOB]) == 0
    assert capsys.readouterr().out.strip() == f"{BOB}: active"
    assert main(["users", "list", "--config", str(config), "--org", "acme"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("email\tstate\treason\tlast sync") and ALICE in table
    unknown = f"dave@{DOMAIN}"  # not a user of the Google emulator
    assert main(["users", "activate", "--config", str(config), "--org", "acme",
                 unknown]) == 1
    assert capsys.readouterr().out.startswith(f"{unknown}: error (access_denied: ")
    assert main(["users", "validate", "--config", str(config), "--org", "acme",
                 unknown]) == 1
    assert capsys.readouterr().out.startswith(f"{unknown}: error (access_denied: ")


def test_admin_credentials_commands(setup: tuple[RunningEmulator, Path, Path],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    _emu, config, _key = setup
    assert main(["admin", "add", "--config", str(config), "ann", "--role", "auditor"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("ann:") and len(line) > 40
    assert main(["admin", "add", "--config", str(config), "ann"]) == 2
    assert "exists already" in capsys.readouterr().err
    assert main(["admin", "list", "--config", str(config)]) == 0
    assert capsys.readouterr().out == "ann\tauditor\n"
    assert main(["admin", "remove", "--config", str(config), "ann"]) == 0
    database = (Path(str(config)).parent / "data" / "gateway.sqlite3").read_bytes()
    assert line.split(":", 1)[1].encode() not in database  # never stored in clear
