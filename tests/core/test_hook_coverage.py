"""Every hook has a test that calls it through a real plugin manager (datasette's
``test_plugin_hooks_have_tests``, made unfoolable by ``tests/hook_calls.py``)."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

from hybrid_calendar.hookspecs import HOOK_NAMES
from tests.hook_calls import hook_named_by

ROOT = Path(__file__).resolve().parents[2]
SUITES = ("core/hybrid_calendar/testing.py", "core/hybrid_calendar/sink_testing.py",
          "core/hybrid_calendar/crypto/testing.py")
"""Conformance suites: their tests run in the plugins' test modules that subclass them."""


@functools.cache
def hook_test_names() -> frozenset[str]:
    """Names of every ``test_hook_*`` function or method in the tests and the suites
    (parsed once per run: every hook's test asks)."""
    files = [*sorted((ROOT / "tests").rglob("*.py")), *(ROOT / s for s in SUITES)]
    names: set[str] = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and \
                    node.name.startswith("test_hook_"):
                names.add(node.name)
    return frozenset(names)


@pytest.mark.parametrize("hook", HOOK_NAMES)
def test_plugin_hook_has_a_test(hook: str) -> None:
    tested = {hook_named_by(name) for name in hook_test_names()}
    assert hook in tested, (f"hook {hook} has no test: write a test_hook_{hook}_... that "
                            "calls it through the plugin manager")


def test_every_hook_test_names_a_real_hook() -> None:
    assert [n for n in hook_test_names() if hook_named_by(n) is None] == []


def test_test_names_match_hooks_exactly() -> None:
    hooks = ("wrap_key", "unwrap_key", "register_routes", "register_delivery_kinds")
    assert hook_named_by("test_hook_wrap_key_roundtrip", hooks) == "wrap_key"
    assert hook_named_by("test_hook_unwrap_key", hooks) == "unwrap_key"
    assert hook_named_by("test_hook_register_delivery_kinds_x", hooks) == (
        "register_delivery_kinds")
    assert hook_named_by("test_hook_register_route", hooks) is None
    assert hook_named_by("test_wrap_key", hooks) is None


PROBE = '''
from hybrid_calendar.hooks import Hooks
from hybrid_calendar.models import CalendarEvent
from hybrid_calendar.plugins import get_plugin_manager

EVENT = CalendarEvent(id="e1", calendar_id="primary", status="confirmed", start=None,
                      end=None, location="https://acme.zoom.us/j/1234567890")


def test_hook_parse_join_info_by_name_only():
    get_plugin_manager(["join_info"], load_entrypoints=False)


def test_hook_parse_join_info_really_called():
    Hooks(get_plugin_manager(["join_info"], load_entrypoints=False)).parse_join_info(EVENT)


def test_hook_no_such_hook():
    pass
'''


def test_a_hook_test_that_does_not_call_its_hook_fails(pytester: pytest.Pytester,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("HYBRID_CALENDAR_NO_ENTRYPOINTS", "1")
    pytester.makepyfile(test_probe=PROBE)
    result = pytester.runpytest_subprocess("-p", "tests.hook_calls", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines([
        "*test_hook_parse_join_info_by_name_only never called hook 'parse_join_info'*",
        "*test_hook_no_such_hook is named for a hook that does not exist*"])
