"""``emulator google-user`` changes a running emulator's user: locale, time zone, vacation."""

from __future__ import annotations

import pytest

from hybrid_calendar.cli import main
from hybrid_calendar_google_emulator.testing import running_emulator

ALICE = "alice@example.com"


@pytest.fixture(autouse=True)
def emulator_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator's commands exist where its plugin is enabled."""
    monkeypatch.setenv("HYBRID_CALENDAR_PLUGINS__ENABLED", "google_emulator")


def test_sets_locale_timezone_and_vacation(capsys: pytest.CaptureFixture[str]) -> None:
    with running_emulator(domain="example.com", users=[ALICE]) as emu:
        assert main(["emulator", "google-user", "--url", emu.base_url, ALICE, "--locale", "de",
                     "--timezone", "Europe/Berlin", "--vacation", "Away",
                     "--vacation-until", "2030-01-01T00:00:00+00:00"]) == 0
        assert capsys.readouterr().out.strip() == (
            f"{ALICE}: set locale, timezone, vacation responder on")
        user = emu.state.user(ALICE)
        assert user.settings["locale"] == "de"
        assert user.settings["timezone"] == "Europe/Berlin"
        assert user.vacation["enableAutoReply"] is True
        assert user.vacation["responseSubject"] == "Away"
        assert user.vacation["endTime"] == "1893456000000"
        assert main(["emulator", "google-user", "--url", emu.base_url, ALICE,
                     "--no-vacation"]) == 0
        assert emu.state.user(ALICE).vacation["enableAutoReply"] is False


def test_unknown_user_and_nothing_to_do_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with running_emulator(domain="example.com", users=[ALICE]) as emu:
        assert main(["emulator", "google-user", "--url", emu.base_url,
                     "nobody@example.com", "--locale", "fr"]) == 2
        assert "bad user control" in capsys.readouterr().err
        assert main(["emulator", "google-user", "--url", emu.base_url, ALICE]) == 2
        assert "nothing to change" in capsys.readouterr().err
