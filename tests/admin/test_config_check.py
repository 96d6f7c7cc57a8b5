"""``config check`` and ``serve``: every configuration and environment error is one clear
line and exit code 2, and what ``config check`` passes, ``serve`` starts."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme

from hybrid_calendar.admin.datadir_lock import DataDirectoryLock
from hybrid_calendar.cli import main

Setup = Callable[[Path], str]
"""Builds the case in a temporary directory; returns the configuration file's path."""


def toml(tmp_path: Path, body: str, *, plugins: str = '["google", "join_info", "kms_local"]'
         ) -> str:
    path = tmp_path / "gateway.toml"
    path.write_text(f'[gateway]\ndata_dir = "{tmp_path / "data"}"\n{body}\n'
                    f'[plugins]\nenabled = {plugins}\nload_entrypoints = false\n')
    return str(path)


def port_out_of_range(tmp: Path) -> str:
    return toml(tmp, "port = 70000")


def missing_tls_file(tmp: Path) -> str:
    trustme.CA().issue_cert("127.0.0.1").private_key_pem.write_to_path(str(tmp / "key.pem"))
    return toml(tmp, f'tls_certificate = "{tmp}/chain.pem"\ntls_private_key = "{tmp}/key.pem"')


def mismatched_tls_files(tmp: Path) -> str:
    ca = trustme.CA()
    one, other = ca.issue_cert("127.0.0.1"), ca.issue_cert("127.0.0.1")
    one.cert_chain_pems[0].write_to_path(str(tmp / "chain.pem"))
    other.private_key_pem.write_to_path(str(tmp / "key.pem"))
    return toml(tmp, f'tls_certificate = "{tmp}/chain.pem"\ntls_private_key = "{tmp}/key.pem"')


def unwritable_data_dir(tmp: Path) -> str:
    # /sys refuses new files even to root (mode bits would not stop root).
    path = Path(toml(tmp, ""))
    path.write_text(path.read_text().replace(str(tmp / "data"), "/sys/hybrid-calendar-data"))
    return str(path)


def data_dir_is_a_file(tmp: Path) -> str:
    (tmp / "data").write_text("")
    return toml(tmp, "")


def config_is_a_directory(tmp: Path) -> str:
    (tmp / "conf.d").mkdir()
    return str(tmp / "conf.d")


def config_unreadable(tmp: Path) -> str:
    # A socket cannot be opened as a file, whoever asks (root reads mode-000 files).
    path = tmp / "gateway.toml"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()
    return str(path)


def key_file_not_json(tmp: Path) -> str:
    (tmp / "key.json").write_text("-----BEGIN PRIVATE KEY-----\n")
    (tmp / "key.json").chmod(0o600)  # a readable key file is refused first (issue 15)
    return toml(tmp, f'[google]\nservice_account_file = "{tmp}/key.json"')


def key_inline_not_json(tmp: Path) -> str:
    return toml(tmp, '[google]\nservice_account_json = "{not json"')


def unknown_keyword_action(tmp: Path) -> str:
    return toml(tmp, '[join_info]\nkeywords = ["webex=teleport"]')


def keywords_as_a_string(tmp: Path) -> str:
    return toml(tmp, '[join_info]\nkeywords = "meet=google_meet"')


def keyword_without_plugin(tmp: Path) -> str:
    return toml(tmp, '[join_info]\nkeywords = ["webex=onetime"]')


def push_address_in_clear(tmp: Path) -> str:
    return toml(tmp, '[google]\npush_address = "http://gw.example.com/webhooks/google"')


def unknown_setting(tmp: Path) -> str:
    return toml(tmp, "prot = 8080")


CASES: list[tuple[str, Setup, str]] = [
    ("port out of range", port_out_of_range, "gateway.port: 70000 is out of range"),
    ("missing TLS file", missing_tls_file, "gateway.tls_certificate: cannot read"),
    ("TLS key of another certificate", mismatched_tls_files,
     "gateway.tls_private_key: {tmp}/key.pem does not match"),
    ("unwritable data directory", unwritable_data_dir,
     "gateway.data_dir: /sys/hybrid-calendar-data does not exist and cannot be created"),
    ("data directory is a file", data_dir_is_a_file, "is not a directory"),
    ("config path is a directory", config_is_a_directory,
     "--config: {tmp}/conf.d is a directory"),
    ("config path unreadable", config_unreadable, "--config: cannot read {tmp}/gateway.toml"),
    ("non-JSON key file", key_file_not_json,
     "google.service_account_file: {tmp}/key.json is not a JSON service-account key"),
    ("non-JSON inline key", key_inline_not_json,
     "google.service_account_json: the google.service_account_json is not a JSON"),
    ("unknown keyword action", unknown_keyword_action,
     "join_info.keywords: unknown action in 'webex=teleport'"),
    ("keywords given as a string", keywords_as_a_string,
     'join_info.keywords: must be a list, e.g. keywords = ["meet=google_meet"]'),
    ("keyword no enabled plugin creates", keyword_without_plugin,
     "join_info.keywords: @webex asks for onetime meetings, but no enabled plugin"),
    ("push address in clear", push_address_in_clear,
     "google.push_address: is plain http to another machine: Google sends push"),
    ("unknown setting", unknown_setting, "gateway.prot: unknown setting (did you mean "),
]


def _refused(command: str, path: str, capsys: pytest.CaptureFixture[str]
             ) -> tuple[str, str]:
    """Run ``config check`` or ``serve`` on ``path``; it must exit 2. Its stdout and stderr."""
    argv = ["config", "check", path] if command == "config check" else [
        "serve", "--config", path]
    assert main(argv) == 2
    captured = capsys.readouterr()
    return captured.out, captured.err


@pytest.mark.parametrize("command", ["config check", "serve"])
@pytest.mark.parametrize(("setup", "expected"), [(s, e) for _n, s, e in CASES],
                         ids=[n for n, _s, _e in CASES])
def test_config_error_is_one_line_and_exit_2(command: str, setup: Setup, expected: str,
                                             tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out, err = _refused(command, setup(tmp_path), capsys)
    lines = [line for line in err.splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1, err
    assert expected.format(tmp=tmp_path) in lines[0]
    assert lines[0].startswith("error: ")
    assert "Traceback" not in out + err
    assert not (tmp_path / "data" / "gateway.sqlite3").exists()  # nothing was written


def test_a_good_configuration_passes_with_warnings_only(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    path = toml(tmp_path, "port = 8443")  # default keywords name Webex: warned, not fatal
    assert main(["config", "check", path]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"{path}: OK"
    assert "warning: join_info.keywords: @webex asks for personal_room" in err
    assert not (tmp_path / "data").exists()  # checking creates nothing


def test_second_serve_on_the_same_data_refuses_before_touching_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = toml(tmp_path, "port = 0", plugins='["join_info", "kms_local"]')
    database = str(tmp_path / "data" / "gateway.sqlite3")
    with DataDirectoryLock(database) as running:
        running.acquire("127.0.0.1:8443")
        assert main(["serve", "--config", path]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"error: {tmp_path / 'data'} is in use by another gateway "
                             f"(pid {__import__('os').getpid()} on ")
    assert "serving 127.0.0.1:8443 since " in err[0]
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["gateway.sqlite3.lock"]


def test_lock_is_free_again_once_released(tmp_path: Path) -> None:
    database = str(tmp_path / "gateway.sqlite3")
    with DataDirectoryLock(database) as first:
        first.acquire("a:1")
    with DataDirectoryLock(database) as second:
        second.acquire("b:2")  # no error: the first released it


def test_commands_without_config_say_which_data_dir(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HYBRID_CALENDAR_PLUGINS__ENABLED", "join_info,kms_local")
    assert main(["kms", "status"]) == 0
    err = capsys.readouterr().err
    assert f"no --config given; using data directory {tmp_path / 'var'}" in err


def test_hook_register_meeting_actions_lets_a_keyword_pass(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    path = toml(tmp_path, '[join_info]\nkeywords = ["meet=google_meet"]')
    assert main(["config", "check", path]) == 0  # the google plugin creates google_meet
    assert capsys.readouterr().err == ""


def test_hook_check_config_failure_is_a_problem_of_its_plugin(tmp_path: Path) -> None:
    from hybrid_calendar import hookimpl
    from hybrid_calendar.admin.preflight import preflight
    from hybrid_calendar.config import Config
    from hybrid_calendar.loading import load_config

    class Broken:
        @hookimpl
        def check_config(self, config: Config, problem: Callable[[str, str], None]) -> None:
            raise RuntimeError("module went away")

    config, pm = load_config(toml(tmp_path, "", plugins='["join_info", "kms_local"]'),
                             environ={})
    pm.register(Broken(), name="broken")
    lines = [p.line() for p in preflight(config, pm)]
    assert "error: plugins.broken: configuration check failed: module went away" in lines


def test_webex_plugin_declares_its_keyword_actions(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = toml(tmp_path, '[join_info]\nkeywords = ["webex=onetime", "meet=google_meet"]',
                plugins='["google", "join_info", "kms_local", "webex"]')
    assert main(["config", "check", path]) == 0
    assert "join_info.keywords" not in capsys.readouterr().err


def test_postgres_database_needs_no_lock_nor_directory(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    path = toml(tmp_path, 'database = "postgresql://gw@127.0.0.1:1/gw"',
                plugins='["join_info", "kms_local"]')
    assert main(["config", "check", path]) == 0
    assert "gateway.database" not in capsys.readouterr().err
    assert not Path("postgresql:").exists()


def config_not_utf8(tmp: Path) -> str:
    # Saved as UTF-16 (a Windows editor's "Unicode"): not TOML's UTF-8.
    path = Path(toml(tmp, "port = 8443"))
    path.write_bytes(path.read_text().encode("utf-16"))
    return str(path)


def secret_file_not_utf8(tmp: Path) -> str:
    (tmp / "token.bin").write_bytes(b"\x00\xa3\xfe\x91" * 8)  # a binary key, not text
    return toml(tmp, f'admin_token = "$file:{tmp}/token.bin"')


ENVIRONMENT_CASES: list[tuple[str, Setup, str]] = [
    ("config file not UTF-8", config_not_utf8, "--config: {tmp}/gateway.toml is not "
                                               "UTF-8 text"),
    ("$file: secret not UTF-8", secret_file_not_utf8,
     "gateway.admin_token: cannot read {tmp}/token.bin: not UTF-8 text"),
]


@pytest.mark.parametrize("command", ["config check", "serve"])
@pytest.mark.parametrize(("setup", "expected"), [(s, e) for _n, s, e in ENVIRONMENT_CASES],
                         ids=[n for n, _s, _e in ENVIRONMENT_CASES])
def test_undecodable_files_are_one_line_and_exit_2(command: str, setup: Setup, expected: str,
                                                   tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out, err = _refused(command, setup(tmp_path), capsys)
    assert err.strip() == "error: " + expected.format(tmp=tmp_path)
    assert "Traceback" not in out + err and "0xa3" not in err  # no byte of the secret


@pytest.mark.parametrize(("body", "expected"), [
    ("[sync]\nlease_seconds = nan", "sync.lease_seconds: expected a finite number, got nan"),
    ("[sync]\nsweep_seconds = inf", "sync.sweep_seconds: expected a finite number, got inf"),
    ("port = 8443.5", "gateway.port: expected int, got 8443.5"),
    ("port = inf", "gateway.port: expected int, got inf"),  # was an OverflowError traceback
    ('database = "mysql://gw:hunter2@db.example.com/gw"',
     "gateway.database: is a mysql:// URL; use a postgresql:// URL or a SQLite file path"),
    ('database = "postgresql+psycopg://gw:hunter2@db.example.com/gw"',
     "gateway.database: is a postgresql+psycopg:// URL; use a postgresql:// URL or a "
     "SQLite file path"),
])
def test_values_serve_could_not_use_are_refused_by_config_check(
        body: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """NaN/inf passed (and then killed the engine's lease loop at run time), a fractional
    port was truncated, and a database URL of another scheme became a SQLite file under
    ./mysql:/gw:hunter2@db.example.com/ (the password in a directory name)."""
    monkeypatch.chdir(tmp_path)
    path = toml(tmp_path, body)
    assert main(["config", "check", path]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("warning:")]
    assert lines == [f"error: {expected}"]
    assert "hunter2" not in err
    assert list(tmp_path.iterdir()) == [tmp_path / "gateway.toml"]
