"""Every hook has a test that calls it through a real plugin manager (datasette's
``test_plugin_hooks_have_tests``, made unfoolable by ``tests/hook_calls.py``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hybrid_calendar.hookspecs import HOOK_NAMES
from tests.hook_calls import hook_named_by

ROOT = Path(__file__).resolve().parents[2]
SUITES = ("core/hybrid_calendar/testing.py", "core/hybrid_calendar/sink_testing.py",
          "core/hybrid_calendar/crypto/testing.py")
"""Conformance suites: their tests run in the plugins' test modules that subclass them."""


def hook_test_names() -> set[str]:
    """Names of every ``test_hook_*`` function or method in the tests and the suites."""
    files = [*sorted((ROOT / "tests").rglob("*.py")), *(ROOT / s for s in SUITES)]
    names: set[str] = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and \
                    node.name.startswith("test_hook_"):
                names.add(node.name)
    return names


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
