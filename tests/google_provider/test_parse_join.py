"""``hybrid-calendar parse-join`` (the Google plugin's command) through the real CLI."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hybrid_calendar.cli import main

from ..join_info.invitations import ZOOM

MEET = "https://meet.google.com/abc-defg-hij"


def _run(argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    status = main(argv)
    return status, capsys.readouterr().out


def test_hook_register_commands_parse_join(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    resource = {"id": "e1", "description": ZOOM}
    status, out = _run(["parse-join"], json.dumps(resource), monkeypatch, capsys)
    assert status == 0
    result = json.loads(out)
    assert result["provider"] == "zoom" and result["source"] == "body"
    assert result["url"].startswith("https://us02web.zoom.us/j/85512345678")
    assert result["dial"] == "85512345678.482913@zoomcrc.com"


def test_parse_join_prints_null_without_join_info(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    status, out = _run(["parse-join"], '{"id": "e1", "location": "Room 1"}', monkeypatch,
                       capsys)
    assert (status, out.strip()) == (0, "null")


def test_parse_join_jsonl_survives_bad_lines(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    lines = [json.dumps({"id": "a", "location": MEET}), "{not json", "[1, 2]", "",
             json.dumps({"id": "b"}), json.dumps({"id": "c", "hangoutLink": MEET})]
    status, out = _run(["parse-join", "--jsonl"], "\n".join(lines) + "\n", monkeypatch, capsys)
    results = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and len(results) == len(lines)
    assert results[0]["provider"] == "meet" and results[0]["source"] == "location"
    assert results[1] == {"error": "invalid JSON at column 2", "line": 2}
    assert results[2]["line"] == 3 and "error" in results[2]
    assert results[3] == {"error": "empty line", "line": 4}
    assert results[4] is None
    assert results[5]["source"] == "conference"


def test_parse_join_malformed_single_event(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    status, out = _run(["parse-join"], "nope", monkeypatch, capsys)
    assert status == 1 and "error" in json.loads(out)


def test_parse_join_rules_from_options_and_config(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "gw.toml"
    config.write_text('[join_info]\ndial_rules = ["meet\\\\.google\\\\.com/([a-z-]+) => '
                      '\\\\1@vc.acme.example"]\n')
    resource = json.dumps({"id": "e", "location": MEET})
    _, out = _run(["parse-join", "--config", str(config)], resource, monkeypatch, capsys)
    assert json.loads(out)["dial"] == "abc-defg-hij@vc.acme.example"
    _, out = _run(["parse-join", "--rule", r"zoom\.us/j/(\d+) => \1@vc.acme.example"],
                  json.dumps({"id": "e", "description": ZOOM}), monkeypatch, capsys)
    assert json.loads(out)["dial"] == "85512345678@vc.acme.example"


def test_console_script_end_to_end() -> None:
    script = Path(sys.executable).with_name("hybrid-calendar")
    resource = {"id": "e", "location": "Zoom https://acme.zoom.us/j/91234567890"}
    done = subprocess.run([str(script), "parse-join"], input=json.dumps(resource),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["dial"] == "91234567890@zoomcrc.com"
