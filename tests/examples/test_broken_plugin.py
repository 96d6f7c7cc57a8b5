"""An installed plugin that cannot load stops every command with one line naming it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hybrid_calendar.cli import main
from hybrid_calendar.plugins import NO_ENTRYPOINTS_ENV


@pytest.mark.parametrize("command", [["plugins"], ["kms", "status"], ["config", "show"]])
def test_a_broken_entry_point_is_one_line_and_exit_status_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        command: list[str]) -> None:
    (tmp_path / "broken_chat_plugin.py").write_text("import does_not_exist\n")
    dist = tmp_path / "broken_chat_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-chat-plugin\n"
                                   "Version: 1.0\n")
    (dist / "entry_points.txt").write_text("[hybrid_calendar]\nbroken = broken_chat_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(NO_ENTRYPOINTS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    try:
        assert main(command) == 2
    finally:
        sys.modules.pop("broken_chat_plugin", None)
    err = capsys.readouterr().err
    assert err == ("error: plugin 'broken': entry point broken_chat_plugin failed to load: "
                   "No module named 'does_not_exist'\n")
