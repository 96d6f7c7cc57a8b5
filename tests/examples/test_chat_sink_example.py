"""The example sink (examples/hybrid-calendar-chat-sink) installs with pip, is found
through its entry point, and passes its own tests, SinkTests included (installation:
conftest.py)."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybrid_calendar.plugins import NO_ENTRYPOINTS_ENV, get_plugin_manager, plugin_listing
from hybrid_calendar.sink_testing import SinkTests
from tests.examples.installing import environment, passed_in, run_own_tests, suite_tests

MODULES = ("hybrid_calendar_chat_sink", "hybrid_calendar_chat_sink.plugin",
           "hybrid_calendar_chat_sink.card", "hybrid_calendar_chat_sink.webhooks")


@pytest.fixture
def on_path(chat_sink: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The installation importable in this process, entry points on."""
    monkeypatch.syspath_prepend(str(chat_sink))
    monkeypatch.delenv(NO_ENTRYPOINTS_ENV, raising=False)
    yield chat_sink
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


def test_the_cli_offers_the_plugin_as_a_join_button_sink(chat_sink: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "hybrid_calendar.cli", "plugins"],
                            env=environment(chat_sink), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert "chat_sink" in {p["name"] for p in listing["plugins"]}
    assert "chat_sink" in listing["delivery"]["sinks"]["join_button"]


@pytest.mark.slow
def test_the_example_passes_its_own_tests_and_the_sink_conformance_suite(chat_sink: Path
                                                                          ) -> None:
    passed = run_own_tests("hybrid-calendar-chat-sink", chat_sink)
    missing = suite_tests(SinkTests) - passed_in(passed, "TestChatSink")
    assert not missing, f"SinkTests tests that did not pass: {sorted(missing)}"
