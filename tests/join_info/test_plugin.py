"""The built-in ``join_info`` plugin through the real hook machinery, and ``parse-join``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hybrid_calendar import hookimpl
from hybrid_calendar.cli import main
from hybrid_calendar.config import Config, collect_specs
from hybrid_calendar.errors import ConfigError
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.hooks import Hooks
from hybrid_calendar.join_info import best_join_info
from hybrid_calendar.models import JoinInfo
from hybrid_calendar.plugins import get_plugin_manager
from hybrid_calendar.store.sqlite import SqliteStore

from .helpers import event
from .invitations import ZOOM

MEET = "https://meet.google.com/abc-defg-hij"


def _hooks() -> Hooks:
    return Hooks(get_plugin_manager(["join_info"], load_entrypoints=False))


def test_hook_parse_join_info_registers_candidates() -> None:
    hooks = _hooks()
    candidates = hooks.parse_join_info(event(ZOOM, location=MEET))
    assert {(c.provider, c.source) for c in candidates} >= {("zoom", "body"),
                                                            ("meet", "location")}
    best = best_join_info(candidates)
    assert best is not None and (best.provider, best.source) == ("meet", "location")


def test_other_plugins_candidates_are_ranked_with_ours() -> None:
    class Extra:
        @hookimpl
        def parse_join_info(self, event: Any, register: Any) -> None:
            register(JoinInfo(provider="acme", url="https://vc.acme.example/r/1",
                              source="conference"))

    hooks = _hooks()
    hooks.pm.register(Extra(), name="extra")
    try:
        best = best_join_info(hooks.parse_join_info(event(ZOOM)))
    finally:
        hooks.pm.unregister(name="extra")
    assert best is not None and best.provider == "acme"


def test_hook_register_settings() -> None:
    specs = collect_specs(_hooks().register_settings)
    assert specs["join_info.keywords"].default == ["webex=personal_room", "meet=space"]
    assert specs["join_info.dial_rules"].default == []


@pytest.mark.anyio
async def test_hook_startup_reads_admin_dial_rules() -> None:
    hooks = _hooks()
    config = Config(values={"join_info": {"dial_rules": [
        r"meet\.google\.com/(?P<code>[a-z]+-[a-z]+-[a-z]+) => \g<code>@meet.acme.example"]}})
    gateway = Gateway(config, hooks.pm, store=lambda cipher: SqliteStore(":memory:", cipher))
    await hooks.startup(gateway)
    try:
        best = best_join_info(hooks.parse_join_info(event(MEET)))
    finally:
        await hooks.shutdown(gateway)
    assert best is not None and best.dial == "abc-defg-hij@meet.acme.example"
    after = best_join_info(hooks.parse_join_info(event(MEET)))
    assert after is not None and after.dial is None


@pytest.mark.anyio
async def test_bad_dial_rule_stops_startup_naming_the_key() -> None:
    hooks = _hooks()
    config = Config(values={"join_info": {"dial_rules": ["(unclosed => x"]}})
    gateway = Gateway(config, hooks.pm, store=lambda cipher: SqliteStore(":memory:", cipher))
    with pytest.raises(Exception, match=r"join_info\.dial_rules") as caught:
        await hooks.startup(gateway)
    assert isinstance(caught.value.__cause__, ConfigError)


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
