"""Set-up, join-information and KMS hooks, each called through a real plugin manager with
the built-in plugins that implement them (provider and sink hooks are exercised by the
conformance suites: tests/conformance/)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from hybrid_calendar.app import create_app
from hybrid_calendar.builder import build_gateway, close_gateway
from hybrid_calendar.cli import all_commands
from hybrid_calendar.config import Secret
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.hooks import Hooks
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import CalendarEvent
from hybrid_calendar.plugins import get_plugin_manager

pytestmark = pytest.mark.anyio
CONTEXT = b"org-1/user-1/data"


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    config, pm = load_config(None, overrides={
        "plugins": {"enabled": ["google", "join_info", "kms_local"], "load_entrypoints": False},
        "gateway": {"data_dir": str(tmp_path)}}, environ={})
    gw = build_gateway(config, pm)
    await gw.store.open()
    try:
        yield gw
    finally:
        await close_gateway(gw)


def test_hook_register_settings_declares_plugin_sections() -> None:
    config, _pm = load_config(None, overrides={
        "plugins": {"enabled": ["google", "kms_local"], "load_entrypoints": False}},
        environ={})
    assert isinstance(config.get("google", "service_account_json"), Secret)
    assert config.get("kms_local", "key_file") == ""


def test_hook_register_commands_adds_plugin_commands() -> None:
    names = {command.name for command in all_commands(environ={})}
    assert {"google import-key", "kms rotate", "parse-join"} <= names


def test_kms_commands_are_offered_whichever_kms_is_enabled() -> None:
    enabled = {"HYBRID_CALENDAR_PLUGINS__ENABLED": "google,kms_pkcs11"}
    names = {command.name for command in all_commands(environ=enabled)}
    assert {"kms rotate", "kms status"} <= names


def test_commands_come_from_the_plugins_the_configuration_enables(tmp_path: Path) -> None:
    defaults = {command.name for command in all_commands(environ={})}
    assert not any(name.startswith("emulator ") for name in defaults)  # not enabled
    enabled = {"HYBRID_CALENDAR_PLUGINS__ENABLED": "google_emulator,kms_local"}
    names = {command.name for command in all_commands(environ=enabled)}
    assert "emulator google" in names and "google import-key" not in names
    config = tmp_path / "gateway.toml"
    config.write_text('[plugins]\nenabled = ["webex_emulator", "google"]\n')
    from_file = {command.name for command in all_commands(["serve", "--config", str(config)],
                                                          environ={})}
    assert {"emulator webex", "google import-key"} <= from_file
    assert "emulator google" not in from_file
    config.write_text("[plugins\n")  # unreadable: the defaults, and serve reports it
    assert {c.name for c in all_commands(["--config", str(config)], environ={})} == defaults


async def test_hook_register_routes_mounts_the_provider_webhook(gateway: Gateway) -> None:
    transport = httpx.ASGITransport(app=create_app(gateway, start_engine=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        response = await client.post("/webhooks/google", headers={
            "X-Goog-Channel-ID": "unknown", "X-Goog-Channel-Token": "t" * 43,
            "X-Goog-Resource-State": "exists", "X-Goog-Resource-ID": "r"})
    assert response.status_code in (403, 404)  # refused by the plugin, not a missing route


async def test_hook_startup_prepares_the_key_file(gateway: Gateway, tmp_path: Path) -> None:
    assert not (tmp_path / "kms-local.json").exists()
    await gateway.hooks.startup(gateway)
    assert json.loads((tmp_path / "kms-local.json").read_text())["current"] == "kek-v1"


async def test_hook_shutdown_forgets_what_startup_prepared(tmp_path: Path) -> None:
    config, pm = load_config(None, overrides={
        "plugins": {"enabled": ["join_info", "kms_local"], "load_entrypoints": False},
        "gateway": {"data_dir": str(tmp_path)},
        "join_info": {"dial_rules": [
            r"meet\.google\.com/(?P<code>[a-z]+-[a-z]+-[a-z]+) => \g<code>@meet.acme.example"]}},
        environ={})
    gateway = build_gateway(config, pm)
    event = CalendarEvent(id="e1", calendar_id="primary", status="confirmed", start=None,
                          end=None, location="https://meet.google.com/abc-defg-hij")

    def dials() -> set[str | None]:
        return {j.dial for j in gateway.hooks.parse_join_info(event)}

    try:
        await gateway.hooks.startup(gateway)
        assert "abc-defg-hij@meet.acme.example" in dials()
        assert await gateway.hooks.shutdown(gateway) == []
        assert "abc-defg-hij@meet.acme.example" not in dials()
    finally:
        await close_gateway(gateway)


def test_hook_parse_join_info_finds_a_link_in_the_location() -> None:
    hooks = Hooks(get_plugin_manager(["join_info"], load_entrypoints=False))
    event = CalendarEvent(id="e1", calendar_id="primary", status="confirmed", start=None,
                          end=None, location="https://acme.zoom.us/j/1234567890")
    [found] = [j for j in hooks.parse_join_info(event) if j.source == "location"]
    assert (found.provider, found.url) == ("zoom", "https://acme.zoom.us/j/1234567890")


async def test_hook_wrap_key_hides_the_key(gateway: Gateway) -> None:
    wrapped = await gateway.hooks.wrap_key(gateway, b"k" * 32, CONTEXT)
    assert wrapped.kms and b"k" * 32 not in wrapped.blob


async def test_hook_unwrap_key_returns_what_was_wrapped(gateway: Gateway) -> None:
    wrapped = await gateway.hooks.wrap_key(gateway, b"k" * 32, CONTEXT)
    assert await gateway.hooks.unwrap_key(gateway, wrapped, CONTEXT) == b"k" * 32


async def test_hook_rotate_master_key_makes_a_new_version_current(gateway: Gateway) -> None:
    old = await gateway.hooks.wrap_key(gateway, b"k" * 32, CONTEXT)
    new_ref = await gateway.hooks.rotate_master_key(gateway)
    assert new_ref != old.key_ref
    assert (await gateway.hooks.wrap_key(gateway, b"k" * 32, CONTEXT)).key_ref == new_ref


async def test_hook_kms_status_names_the_current_key(gateway: Gateway) -> None:
    wrapped = await gateway.hooks.wrap_key(gateway, b"k" * 32, CONTEXT)
    status = await gateway.hooks.kms_status(gateway)
    assert status is not None and status.healthy
    assert status.current_key_ref == wrapped.key_ref
