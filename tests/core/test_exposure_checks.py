"""``config check``/``serve`` refuse a guessable admin token and plain-HTTP token URLs, and
warn about a plain-HTTP public address (issue 15, item 12)."""

from __future__ import annotations

from typing import Any

from hybrid_calendar.admin.preflight import Problem, preflight
from hybrid_calendar.loading import load_config


def problems(**sections: dict[str, Any]) -> list[Problem]:
    overrides: dict[str, dict[str, Any]] = {
        "plugins": {"enabled": ["google", "kms_local", "join_info"],
                    "load_entrypoints": False}}
    for name, values in sections.items():
        overrides.setdefault(name, {}).update(values)
    config, pm = load_config(None, overrides=overrides, environ={})
    return [p for p in preflight(config, pm) if not p.key.startswith("gateway.data")]


def keys(found: list[Problem], severity: str) -> set[str]:
    return {p.key for p in found if p.severity == severity}


def test_a_short_admin_token_is_an_error() -> None:
    found = problems(gateway={"admin_token": "x"})
    assert "gateway.admin_token" in keys(found, "error")
    assert not any(p.key == "gateway.admin_token" for p in problems(
        gateway={"admin_token": "k" * 32}))


def test_plain_http_public_url_is_a_warning_except_on_loopback() -> None:
    found = problems(gateway={"public_url": "http://gateway.example.com"})
    assert "gateway.public_url" in keys(found, "warning")
    assert "gateway.public_url" not in keys(problems(
        gateway={"public_url": "http://127.0.0.1:8080"}), "warning")


def test_plain_http_google_urls_to_another_machine_are_errors() -> None:
    found = problems(google={"token_uri": "http://proxy.example.com/token",
                             "calendar_base_url": "http://127.0.0.1:9/calendar/v3"})
    assert "google.token_uri" in keys(found, "error")
    assert "google.calendar_base_url" not in keys(found, "error")
