"""``hybrid-calendar config check`` and serve's preflight for the Webex sink."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybrid_calendar.cli import main


def write(tmp_path: Path, webex: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(f'[gateway]\ndata_dir = "{tmp_path / "data"}"\n'
                    '[plugins]\nload_entrypoints = false\n' + webex)
    return path


def test_hook_check_config_names_incomplete_webex_credentials(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, '[webex]\nservice_app_id = "app"\n'
                             'api_base_url = "webexapis.com"\n')
    assert main(["config", "check", str(config)]) == 2
    err = capsys.readouterr().err
    assert "webex.client_id" in err and "webex.api_base_url" in err


def test_hook_register_meeting_actions_serves_the_default_keywords(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, "")  # default plugins, default keywords (webex, meet)
    assert main(["config", "check", str(config)]) == 0
    assert "no enabled plugin creates them" not in capsys.readouterr().err
