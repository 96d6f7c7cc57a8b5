"""Configuration: file, environment, defaults; errors name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybrid_calendar.config import REQUIRED, Secret, SettingSpec, collect_specs, load
from hybrid_calendar.errors import ConfigError
from hybrid_calendar.loading import describe, load_config

SPECS = collect_specs()


def test_defaults_apply_when_nothing_is_set() -> None:
    config = load(SPECS, {}, {})
    assert config.get("sync", "retention_past_days") == 7
    assert config.get("sync", "retention_future_days") == 31
    assert config.get("quota", "user_per_minute") == 600


def test_environment_overrides_file_and_is_cast() -> None:
    config = load(SPECS, {"sync": {"max_concurrency": 2}},
                  {"HYBRID_CALENDAR_SYNC__MAX_CONCURRENCY": "5",
                   "HYBRID_CALENDAR_PLUGINS__LOAD_ENTRYPOINTS": "no"})
    assert config.get("sync", "max_concurrency") == 5
    assert config.get("plugins", "load_entrypoints") is False


@pytest.mark.parametrize(("values", "key", "message"), [
    ({"sync": {"max_concurency": 3}}, "sync.max_concurency", "did you mean sync.max_concurrency"),
    ({"sync": {"max_concurrency": "many"}}, "sync.max_concurrency", "expected int"),
    ({"sync": {"max_concurrency": 0}}, "sync.max_concurrency", "at least 1"),
    ({"gateway": {"log_level": "LOUD"}}, "gateway.log_level", "must be one of"),
    ({"gateway": {"port": True}}, "gateway.port", "expected int"),
    ({"sync": 3}, "sync", "must be a table"),
])
def test_bad_values_name_the_key(values: dict[str, object], key: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load(SPECS, values, {})
    assert caught.value.key == key


def test_required_keys_and_secret_indirection(tmp_path: Path) -> None:
    specs = {**SPECS, "x.token": SettingSpec("x", "token", Secret, REQUIRED, help="t")}
    with pytest.raises(ConfigError, match=r"x\.token: is required"):
        load(specs, {}, {})
    secret_file = tmp_path / "token"
    secret_file.write_text("from-file\n")
    config = load(specs, {"x": {"token": f"$file:{secret_file}"}}, {})
    assert config.get("x", "token").reveal() == "from-file"
    config = load(specs, {"x": {"token": "$env:MY_TOKEN"}}, {"MY_TOKEN": "from-env"})
    token = config.get("x", "token")
    assert token.reveal() == "from-env" and "from-env" not in repr(token)
    with pytest.raises(ConfigError, match="unset environment variable NOPE"):
        load(specs, {"x": {"token": "$env:NOPE"}}, {})


def test_load_config_reads_toml_and_reports_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "gw.toml"
    path.write_text('[gateway]\nport = 9000\nadmin_token = "hunter2"\n'
                    '[plugins]\nenabled = []\n')
    config, pm = load_config(path, environ={})
    assert config.get("gateway", "port") == 9000
    assert describe(config)["gateway"]["admin_token"] == "**********"
    assert pm.list_name_plugin() == []
    path.write_text("[gateway\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path, environ={})
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "missing.toml", environ={})


def test_cli_help_lists_the_command_groups(capsys: pytest.CaptureFixture[str]) -> None:
    from hybrid_calendar.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("serve", "demo", "config", "kms", "parse-join", "plugins"):
        assert command in out, command


def test_config_show_hides_the_database_password(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """``config show`` says "secrets hidden"; a PostgreSQL URL's password is one (also when
    it comes through ``$env:``, the indirection documented for secrets)."""
    import json

    from hybrid_calendar.cli import main

    path = tmp_path / "gw.toml"
    path.write_text('[gateway]\ndatabase = "$env:DB_URL"\n'
                    '[plugins]\nenabled = []\nload_entrypoints = false\n')
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DB_URL", "postgresql://gw:s3cret-pw@db.example.com:5432/gw")
        assert main(["config", "show", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "s3cret-pw" not in out
    shown = json.loads(out)["gateway"]["database"]
    assert shown == "postgresql://gw:**********@db.example.com:5432/gw"
    config, _pm = load_config(path, environ={
        "DB_URL": "postgresql://db.example.com/gw?sslmode=require&password=s3cret-pw"})
    assert describe(config)["gateway"]["database"] == (
        "postgresql://db.example.com/gw?sslmode=require&password=**********")
