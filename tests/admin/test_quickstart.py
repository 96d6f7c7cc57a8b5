"""The quickstart's shell block (docs/quickstart.md) runs as written, curl and all.

The block is run by bash in a fresh directory with the project's console scripts first
on PATH. Only the two ports change, so that the test never collides with anything
listening on 8080/8081: the block's addresses are rewritten, and the environment
overrides the ports in the gateway.toml that ``config init`` writes (environment variables
win over the file, as documented)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def quickstart_block() -> str:
    text = (ROOT / "docs" / "quickstart.md").read_text()
    match = re.search(r"<!-- quickstart:begin -->\n```sh\n(.*?)```\n<!-- quickstart:end -->",
                      text, re.S)
    assert match, "docs/quickstart.md lost its quickstart block"
    return match.group(1)


def test_quickstart_runs_as_written(tmp_path: Path) -> None:
    assert shutil.which("curl"), "curl is needed by the quickstart"
    gw, emu = free_port(), free_port()
    script = quickstart_block().replace("8080", str(gw)).replace("8081", str(emu))
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"],
           "HYBRID_CALENDAR_GATEWAY__PORT": str(gw),
           "HYBRID_CALENDAR_GATEWAY__PUBLIC_URL": f"http://127.0.0.1:{gw}",
           "HYBRID_CALENDAR_GOOGLE__CALENDAR_BASE_URL": f"http://127.0.0.1:{emu}/calendar/v3",
           "HYBRID_CALENDAR_GOOGLE__GMAIL_BASE_URL": f"http://127.0.0.1:{emu}"}
    wrapped = ("set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true; wait' EXIT\n"
               + script)
    result = subprocess.run(["bash", "-c", wrapped], cwd=tmp_path, env=env, text=True,
                            capture_output=True, timeout=240)
    output = result.stdout
    assert result.returncode == 0, output[-4000:] + result.stderr[-4000:]
    assert "Traceback" not in output + result.stderr
    assert "gateway.toml: OK" in output
    assert "Client ID: " in output and "Manage Domain Wide Delegation" in output
    assert "bob@example.com: set locale, timezone, vacation responder on" in output
    assert "alice@example.com: active" in output
    replies = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    bob = next(r for r in replies if r.get("email") == "bob@example.com")
    assert bob["state"] == "pending"  # accepted; the engine validates him
    refused = next(r for r in replies if "error" in r)
    assert refused["error"]["code"] == "domain_not_verified"
    listed = next(r for r in replies if "users" in r)
    states = {u["email"]: u["state"] for u in listed["users"]}
    assert states["alice@example.com"] == "active"
    audit = next(r for r in replies if "entries" in r)
    assert audit["entries"][0]["actor"] == "ops"
    quota = next(r for r in replies if "budgets" in r)
    project = next(b for b in quota["budgets"] if b["name"].startswith("google units/min"))
    assert 0 < project["used"] <= project["limit"]
    assert re.search(r'^hybrid_calendar_users\{state="active"\} [12]\.0$', output, re.M)


EMULATORS = re.search(r"^export EMULATORS=(\S+)", quickstart_block(), re.M)


@pytest.mark.parametrize("line", [line for line in quickstart_block().splitlines()
                                  if line.startswith(("hybrid-calendar ",
                                                      "env $EMULATORS hybrid-calendar "))])
def test_every_quickstart_command_exists(line: str) -> None:
    from hybrid_calendar.cli import all_commands

    environ: dict[str, str] = {}
    if line.startswith("env $EMULATORS "):
        assert EMULATORS, "the quickstart uses $EMULATORS without exporting it"
        name, _, value = EMULATORS.group(1).partition("=")
        environ[name] = value
        line = line.removeprefix("env $EMULATORS ")
    words = line.split()[1:3]
    names = {c.name for c in all_commands(environ=environ)}
    assert words[0] in names or " ".join(words) in names, line
