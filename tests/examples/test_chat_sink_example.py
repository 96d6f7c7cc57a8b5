"""The example third-party plugin (examples/hybrid-calendar-chat-sink) installs with pip,
is found through its entry point, and passes its own tests, SinkTests included.

The session installs the example with ``pip install --target`` (a real wheel build through
its pyproject.toml) into a temporary directory, never into the project's environment, so
no other test ever sees the plugin. Everything then runs with that directory on the path
and entry points switched on, as on a machine where an integrator ran ``pip install``.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybrid_calendar.plugins import NO_ENTRYPOINTS_ENV, get_plugin_manager, plugin_listing

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "hybrid-calendar-chat-sink"
MODULES = ("hybrid_calendar_chat_sink", "hybrid_calendar_chat_sink.plugin",
           "hybrid_calendar_chat_sink.card", "hybrid_calendar_chat_sink.webhooks")


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example, installed by pip into a directory of its own (built from a copy, so
    the build leaves nothing in the source tree)."""
    source = tmp_path_factory.mktemp("source") / EXAMPLE.name
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__", ".pytest_cache"))
    target = tmp_path_factory.mktemp("site-packages")
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                             "--disable-pip-version-check", "--target", str(target),
                             str(source)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def environment(installed: Path) -> dict[str, str]:
    """This process's environment with the installation on the path, entry points on."""
    env = {k: v for k, v in os.environ.items() if k != NO_ENTRYPOINTS_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(installed),
                                                       env.get("PYTHONPATH", "")]))
    return env


@pytest.fixture
def on_path(installed: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The installation importable in this process, entry points on."""
    monkeypatch.syspath_prepend(str(installed))
    monkeypatch.delenv(NO_ENTRYPOINTS_ENV, raising=False)
    yield installed
    for module in MODULES:
        sys.modules.pop(module, None)


def test_pip_installed_a_distribution_with_the_entry_point(on_path: Path) -> None:
    distribution = importlib.metadata.distribution("hybrid-calendar-chat-sink")
    assert Path(str(distribution.locate_file(""))).resolve() == on_path.resolve()
    [entry_point] = [e for e in distribution.entry_points if e.group == "hybrid_calendar"]
    assert (entry_point.name, entry_point.value) == ("chat_sink",
                                                     "hybrid_calendar_chat_sink.plugin")


def test_the_entry_point_registers_the_plugin_and_its_hooks(
        on_path: Path) -> None:
    pm = get_plugin_manager()
    plugin = pm.get_plugin("chat_sink")
    assert plugin is not None and Path(plugin.__file__).is_relative_to(on_path)
    hooks = {p["name"]: p["hooks"] for p in plugin_listing(pm)}["chat_sink"]
    assert hooks == ["check_config", "deliver_notification", "register_delivery_kinds",
                     "register_settings"]
    assert not get_plugin_manager(blocked=["chat_sink"]).has_plugin("chat_sink")


def test_the_cli_offers_the_plugin_as_a_join_button_sink(installed: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "hybrid_calendar.cli", "plugins"],
                            env=environment(installed), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert "chat_sink" in {p["name"] for p in listing["plugins"]}
    assert "chat_sink" in listing["delivery"]["sinks"]["join_button"]


@pytest.mark.slow
def test_the_example_passes_its_own_tests_and_the_sink_conformance_suite(installed: Path
                                                                          ) -> None:
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "-o", "console_output_style=classic", "-rA"],
                            cwd=EXAMPLE, env=environment(installed), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    passed = set(re.findall(r"^PASSED (\S+)", result.stdout, re.M))
    conformance = {name for name in passed if "test_conformance.py::TestChatSink::" in name}
    from hybrid_calendar.sink_testing import SinkTests

    suite = {name for name in dir(SinkTests) if name.startswith("test_")}
    ran = {name.split("::")[-1].split("[")[0] for name in conformance}
    assert ran == suite, f"SinkTests tests that did not pass: {sorted(suite - ran)}"
