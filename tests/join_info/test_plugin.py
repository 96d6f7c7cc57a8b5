"""The built-in ``join_info`` plugin through the real hook machinery."""

from __future__ import annotations

from typing import Any

import pytest

from hybrid_calendar import hookimpl
from hybrid_calendar.config import Config, collect_specs
from hybrid_calendar.errors import ConfigError
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.hooks import Hooks
from hybrid_calendar.join_info import best_join_info
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import JoinInfo
from hybrid_calendar.plugins import get_plugin_manager
from hybrid_calendar.store.sqlite import SqliteStore

from .helpers import event
from .invitations import ZOOM

MEET = "https://meet.google.com/abc-defg-hij"


def _hooks() -> Hooks:
    return Hooks(get_plugin_manager(["join_info"], load_entrypoints=False))


def _config(dial_rules: list[str]) -> Config:
    """A full configuration with only the join_info plugin and these dial rules."""
    config, _pm = load_config(None, environ={}, overrides={
        "plugins": {"enabled": ["join_info"], "load_entrypoints": False},
        "join_info": {"dial_rules": dial_rules}})
    return config


def test_hook_parse_join_info_registers_candidates() -> None:
    hooks = _hooks()
    candidates = hooks.parse_join_info(event(ZOOM, location=MEET))
    assert {(c.provider, c.source) for c in candidates} >= {("zoom", "body"),
                                                            ("meet", "location")}
    best = best_join_info(candidates)
    assert best is not None and (best.provider, best.source) == ("meet", "location")


def test_other_plugins_candidates_are_ranked_with_ours() -> None:
    class Extra:
        @hookimpl
        def parse_join_info(self, event: Any, register: Any) -> None:
            register(JoinInfo(provider="acme", url="https://vc.acme.example/r/1",
                              source="conference"))

    hooks = _hooks()
    hooks.pm.register(Extra(), name="extra")
    try:
        best = best_join_info(hooks.parse_join_info(event(ZOOM)))
    finally:
        hooks.pm.unregister(name="extra")
    assert best is not None and best.provider == "acme"


def test_hook_register_settings() -> None:
    specs = collect_specs(_hooks().register_settings)
    assert specs["join_info.keywords"].default == ["webex=personal_room", "meet=space"]
    assert specs["join_info.dial_rules"].default == []


@pytest.mark.anyio
async def test_hook_startup_reads_admin_dial_rules() -> None:
    hooks = _hooks()
    config = _config([
        r"meet\.google\.com/(?P<code>[a-z]+-[a-z]+-[a-z]+) => \g<code>@meet.acme.example"])
    gateway = Gateway(config, hooks.pm, store=lambda cipher: SqliteStore(":memory:", cipher))
    await hooks.startup(gateway)
    try:
        best = best_join_info(hooks.parse_join_info(event(MEET)))
    finally:
        await hooks.shutdown(gateway)
    assert best is not None and best.dial == "abc-defg-hij@meet.acme.example"
    after = best_join_info(hooks.parse_join_info(event(MEET)))
    assert after is not None and after.dial is None


@pytest.mark.anyio
async def test_bad_dial_rule_stops_startup_naming_the_key() -> None:
    hooks = _hooks()
    config = _config(["(unclosed => x"])
    gateway = Gateway(config, hooks.pm, store=lambda cipher: SqliteStore(":memory:", cipher))
    with pytest.raises(Exception, match=r"join_info\.dial_rules") as caught:
        await hooks.startup(gateway)
    assert isinstance(caught.value.__cause__, ConfigError)


@pytest.mark.anyio
async def test_engine_uses_detect_only_while_the_plugin_is_the_sole_implementation() -> None:
    """``engine.sync.best_join`` calls ``detect`` directly when no other plugin (wrappers
    included) implements the hook: the same result as ranking the hook's candidates,
    admin dial rules included; with another implementation it goes through the hook."""
    from hybrid_calendar.engine.sync import best_join

    hooks = _hooks()
    config = _config([r"zoom\.us/j/(?P<id>\d+) => \g<id>@zoom.acme.example"])
    gateway = Gateway(config, hooks.pm, store=lambda cipher: SqliteStore(":memory:", cipher))
    await hooks.startup(gateway)
    try:
        for item in (event(ZOOM), event(ZOOM, location=MEET), event(MEET), event("no link")):
            assert best_join(gateway, item) == best_join_info(hooks.parse_join_info(item))
        zoom = best_join(gateway, event(ZOOM))
        assert zoom is not None
        assert str(zoom.dial).endswith("@zoom.acme.example")

        class Extra:
            @hookimpl
            def parse_join_info(self, event: Any, register: Any) -> None:
                register(JoinInfo(provider="acme", url="https://vc.acme.example/r/1",
                                  source="conference"))

        class Wrapper:
            seen = 0

            @hookimpl(wrapper=True)
            def parse_join_info(self, event: Any, register: Any) -> Any:
                Wrapper.seen += 1
                return (yield)

        hooks.pm.register(Extra(), name="extra")
        try:
            best = best_join(gateway, event(ZOOM))
        finally:
            hooks.pm.unregister(name="extra")
        assert best is not None and best.provider == "acme"
        hooks.pm.register(Wrapper(), name="wrapper")
        try:
            best = best_join(gateway, event(ZOOM))
        finally:
            hooks.pm.unregister(name="wrapper")
        assert Wrapper.seen == 1 and best is not None and best.provider == "zoom"
    finally:
        await hooks.shutdown(gateway)
