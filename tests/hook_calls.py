"""Which hooks each ``test_hook_<name>`` test really calls (a pytest plugin for the meta-test).

Every plugin manager of this project created during the session gets pluggy's hook-call
monitoring (``add_hookcall_monitoring``), so each hook call made through a real manager —
directly, through the typed facade or a subset caller — is seen. A test named
``test_hook_<name>`` (or ``test_hook_<name>_<what>``) fails unless hook ``<name>`` was
called through a manager while it ran: a test cannot satisfy
``tests/core/test_hook_coverage.py`` by its name alone.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from typing import Any

import pluggy
import pytest

from hybrid_calendar import PROJECT_NAME
from hybrid_calendar.hookspecs import HOOK_NAMES

_calls: list[set[str]] = []
"""Hooks called during the running ``test_hook_*`` test (empty when none runs)."""


def hook_named_by(test_name: str, hooks: Sequence[str] = HOOK_NAMES) -> str | None:
    """The hook a ``test_hook_...`` name is about (the longest matching hook name)."""
    if not test_name.startswith("test_hook_"):
        return None
    rest = test_name.removeprefix("test_hook_")
    matches = [h for h in hooks if rest == h or rest.startswith(h + "_")]
    return max(matches, key=len) if matches else None


def _before(hook_name: str, impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
    if _calls:
        _calls[-1].add(hook_name)


def _after(outcome: Any, hook_name: str, impls: Sequence[Any],
           kwargs: Mapping[str, Any]) -> None:
    """Nothing to do once a hook returned."""


def pytest_configure(config: pytest.Config) -> None:
    """Monitor every project plugin manager created from now on."""
    original = pluggy.PluginManager.__init__

    def monitored_init(self: pluggy.PluginManager, project_name: str) -> None:
        original(self, project_name)
        if project_name == PROJECT_NAME:
            self.add_hookcall_monitoring(_before, _after)

    pluggy.PluginManager.__init__ = monitored_init  # type: ignore[method-assign]
    config.add_cleanup(lambda: setattr(pluggy.PluginManager, "__init__", original))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Fail a ``test_hook_<name>`` test that never called hook ``<name>``."""
    name = getattr(item, "originalname", item.name)
    if not name.startswith("test_hook_"):
        return (yield)
    hook = hook_named_by(name)
    if hook is None:
        raise AssertionError(f"{name} is named for a hook that does not exist "
                             f"(known: {', '.join(HOOK_NAMES)})")
    _calls.append(set())
    try:
        result = yield
    finally:
        called = _calls.pop()
    if hook not in called:
        raise AssertionError(f"{name} never called hook {hook!r} through a plugin manager "
                             f"(it called: {', '.join(sorted(called)) or 'none'})")
    return result
