"""The plugin manager, driven the way a third-party plugin is installed."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybrid_calendar.cli import main
from hybrid_calendar.errors import PluginError
from hybrid_calendar.hooks import Hooks
from hybrid_calendar.models import CalendarEvent, JoinInfo
from hybrid_calendar.plugins import get_plugin_manager, plugin_listing

PLUGIN = '''
from hybrid_calendar import hookimpl
from hybrid_calendar.config import SettingSpec
from hybrid_calendar.models import JoinInfo

@hookimpl
def register_settings(register):
    """Declare the example setting."""
    register(SettingSpec("acme", "dial_domain", str, "video.acme.test", help="dial domain"))

@hookimpl
def parse_join_info(event, register):
    """Find ACME meeting rooms."""
    if "acme-room" in event.location:
        register(JoinInfo(provider="acme", url=None, source="location",
                          dial="room@video.acme.test"))

@hookimpl
def register_commands(register):
    """Add `acme hello`."""
    def configure(parser):
        parser.add_argument("--name", default="world")
    def run(args):
        print(f"hello {args.name}")
        return 0
    register("acme hello", "say hello", configure, run)
'''


def install_fake_distribution(root: Path, module: str, source: str, entry: str) -> None:
    """Lay out a module and a dist-info with an entry point, as pip would."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    dist = root / "acme_gateway_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-gateway-plugin\n"
                                   "Version: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[hybrid_calendar]\n{entry} = {module}\n")


@pytest.fixture
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    install_fake_distribution(tmp_path, "acme_gateway_plugin", PLUGIN, "acme")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("HYBRID_CALENDAR_NO_ENTRYPOINTS", raising=False)
    yield "acme"
    sys.modules.pop("acme_gateway_plugin", None)


def event(location: str) -> CalendarEvent:
    return CalendarEvent(id="e1", calendar_id="primary", status="confirmed", start=None,
                         end=None, location=location)


def test_entry_point_plugin_is_loaded_and_answers_hooks(third_party: str) -> None:
    pm = get_plugin_manager()
    assert pm.has_plugin(third_party)
    found = Hooks(pm).parse_join_info(event("Room acme-room 4"))
    assert found == [JoinInfo(provider="acme", url=None, source="location",
                              dial="room@video.acme.test")]
    assert Hooks(pm).parse_join_info(event("elsewhere")) == []
    listing = {p["name"]: p["hooks"] for p in plugin_listing(pm)}
    assert listing["acme"] == ["parse_join_info", "register_commands", "register_settings"]


def test_entry_points_can_be_switched_off_and_blocked(third_party: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert not get_plugin_manager(load_entrypoints=False).has_plugin(third_party)
    assert not get_plugin_manager(blocked=[third_party]).has_plugin(third_party)
    monkeypatch.setenv("HYBRID_CALENDAR_NO_ENTRYPOINTS", "1")
    assert not get_plugin_manager().has_plugin(third_party)


def test_plugin_settings_are_validated(third_party: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[plugins]\nenabled = []\n[acme]\ndial_domain = "v.acme.test"\n')
    assert main(["config", "check", str(good)]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text('[plugins]\nenabled = []\n[acme]\ndial_domian = "x"\n')
    assert main(["config", "check", str(bad)]) == 2
    assert "acme.dial_domian: unknown setting (did you mean acme.dial_domain?)" in \
        capsys.readouterr().err


def test_plugin_commands_join_the_cli(third_party: str, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    assert main(["acme", "hello", "--name", "integrator"]) == 0
    assert capsys.readouterr().out == "hello integrator\n"


def test_broken_entry_point_names_the_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    install_fake_distribution(tmp_path, "broken_gateway_plugin", "import does_not_exist\n",
                              "broken")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("HYBRID_CALENDAR_NO_ENTRYPOINTS", raising=False)
    with pytest.raises(PluginError, match="plugin 'broken': entry point") as caught:
        get_plugin_manager()
    assert caught.value.plugin == "broken"


def test_invalid_hookimpl_is_rejected_with_its_name(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    source = ("from hybrid_calendar import hookimpl\n\n@hookimpl\n"
              "def parse_join_info(event, register, surprise):\n    pass\n")
    install_fake_distribution(tmp_path, "odd_gateway_plugin", source, "odd")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("HYBRID_CALENDAR_NO_ENTRYPOINTS", raising=False)
    with pytest.raises(PluginError, match="plugin 'odd'"):
        get_plugin_manager()
    sys.modules.pop("odd_gateway_plugin", None)


def test_unknown_builtin_is_an_error() -> None:
    with pytest.raises(PluginError, match="is not a built-in plugin"):
        get_plugin_manager(["nope"], load_entrypoints=False)
