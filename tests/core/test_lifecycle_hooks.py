"""``startup`` and ``shutdown`` through the real plugin manager: order, failures, tracing."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from hybrid_calendar import hookimpl
from hybrid_calendar.errors import PluginError
from hybrid_calendar.hooks import Hooks
from hybrid_calendar.plugins import get_plugin_manager

pytestmark = pytest.mark.anyio

GATEWAY: Any = object()  # the hooks only hand it on; each plugin checks it got this one


class Recorder:
    """A plugin whose ``startup``/``shutdown`` log their calls and may fail."""

    def __init__(self, name: str, calls: list[str], *, fail: str = "",
                 asynchronous: bool = False) -> None:
        self.name, self.calls, self.fail, self.asynchronous = name, calls, fail, asynchronous

    def _run(self, hook: str, gateway: Any) -> Any:
        assert gateway is GATEWAY

        def act() -> None:
            self.calls.append(f"{hook} {self.name}")
            if self.fail == hook:
                raise RuntimeError(f"{self.name} broke")

        if not self.asynchronous:
            act()
            return None

        async def later() -> None:
            act()

        return later()

    @hookimpl
    def startup(self, gateway: Any) -> Any:
        """Record the start (or fail)."""
        return self._run("startup", gateway)

    @hookimpl
    def shutdown(self, gateway: Any) -> Any:
        """Record the stop (or fail)."""
        return self._run("shutdown", gateway)


def hooks_with(*plugins: Recorder, trace: bool = False) -> Hooks:
    pm = get_plugin_manager(load_entrypoints=False, trace=trace)
    for plugin in plugins:
        pm.register(plugin, name=plugin.name)
    return Hooks(pm)


async def test_hook_startup_runs_every_plugin_in_call_order() -> None:
    calls: list[str] = []
    hooks = hooks_with(Recorder("first", calls), Recorder("second", calls, asynchronous=True))
    await hooks.startup(GATEWAY)
    assert calls == ["startup second", "startup first"]  # pluggy: last registered first


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_startup_failure_names_the_plugin_and_stops(asynchronous: bool) -> None:
    calls: list[str] = []
    hooks = hooks_with(Recorder("later", calls),
                       Recorder("broken", calls, fail="startup", asynchronous=asynchronous))
    with pytest.raises(PluginError, match=r"'broken': startup failed: broken broke") as caught:
        await hooks.startup(GATEWAY)
    assert caught.value.plugin == "broken"
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert calls == ["startup broken"]  # start-up stopped: "later" never started


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_hook_shutdown_runs_every_plugin_even_if_one_raises(asynchronous: bool) -> None:
    calls: list[str] = []
    hooks = hooks_with(Recorder("a", calls),
                       Recorder("b", calls, fail="shutdown", asynchronous=asynchronous),
                       Recorder("c", calls, fail="shutdown"))
    errors = await hooks.shutdown(GATEWAY)
    assert calls == ["shutdown a", "shutdown b", "shutdown c"]  # reverse of start-up order
    assert [(e.plugin, str(e.__cause__)) for e in errors] == [("b", "b broke"),
                                                              ("c", "c broke")]


async def test_startup_and_shutdown_are_traced_hook_calls(
        caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []
    hooks = hooks_with(Recorder("a", calls), Recorder("b", calls), trace=True)
    with caplog.at_level(logging.DEBUG, logger="hybrid_calendar.plugins"):
        await hooks.startup(GATEWAY)
        await hooks.shutdown(GATEWAY)
    traced = [r.getMessage() for r in caplog.records if r.getMessage().endswith("]")]
    assert traced == ["hook startup -> ['b']", "hook startup -> ['a']",
                      "hook shutdown -> ['a']", "hook shutdown -> ['b']"]
