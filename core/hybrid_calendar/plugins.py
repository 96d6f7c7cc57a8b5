"""Building the plugin manager.

Built-in features are ordinary plugins, listed in :data:`BUILTIN_PLUGINS` and registered
through the same manager as third-party plugins, which install like pytest plugins: an
entry point in the ``hybrid_calendar`` group pointing at a module or object with
``@hookimpl`` functions.

Nothing is loaded at import time: :func:`get_plugin_manager` builds a manager on demand
(the app owns one; tests build their own).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
from collections.abc import Iterable
from typing import Any

import pluggy

from hybrid_calendar import PROJECT_NAME, hookspecs
from hybrid_calendar.errors import PluginError

log = logging.getLogger(__name__)

BUILTIN_PLUGINS: dict[str, tuple[str, ...]] = {
    "google": ("hybrid_calendar_google.plugin", "hybrid_calendar_google.meet"),
    "google_emulator": ("hybrid_calendar_google_emulator.commands",
                        "hybrid_calendar_google_emulator.demo"),
    "join_info": ("hybrid_calendar.join_info.plugin",),
    "kms_local": ("hybrid_calendar_kms.local",),
    "kms_pkcs11": ("hybrid_calendar_kms.pkcs11",),
    "people": ("hybrid_calendar.people.plugin", "hybrid_calendar.people.webhook_sink"),
    "webex": ("hybrid_calendar_webex.plugin",),
    "webex_emulator": ("hybrid_calendar_webex_emulator.commands",
                       "hybrid_calendar_webex_emulator.demo"),
}
"""Built-in plugin names (as used in ``plugins.enabled``) and the modules implementing them.

A plugin of several modules registers the first under its name and the others as
``name.module`` (e.g. ``google.commands``), so each module stays small and single-purpose."""

NO_ENTRYPOINTS_ENV = "HYBRID_CALENDAR_NO_ENTRYPOINTS"
"""Set to ``1`` to ignore installed third-party plugins (the test suite does)."""


def get_plugin_manager(
    builtins: Iterable[str] = (),
    *,
    load_entrypoints: bool = True,
    blocked: Iterable[str] = (),
    trace: bool = False,
    tolerate_missing: bool = False,
) -> pluggy.PluginManager:
    """Create a plugin manager with the hook specs, entry-point plugins and built-ins.

    :param builtins: names from :data:`BUILTIN_PLUGINS` to register.
    :param load_entrypoints: also load the ``hybrid_calendar`` entry-point group (ignored
        when ``HYBRID_CALENDAR_NO_ENTRYPOINTS=1``).
    :param blocked: plugin names never to register.
    :param trace: log every hook call at DEBUG level.
    :param tolerate_missing: log instead of raising when a built-in cannot be imported
        (the CLI uses this so ``--help`` works with a partly broken install).
    :raises PluginError: naming the plugin that failed to import or register.
    """
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name in blocked:
        pm.set_blocked(name)
    if load_entrypoints and os.environ.get(NO_ENTRYPOINTS_ENV) != "1":
        _load_entrypoints(pm)
    for name in builtins:
        if pm.is_blocked(name) or pm.has_plugin(name):
            continue
        try:
            register_builtin(pm, name)
        except PluginError as err:
            if not tolerate_missing:
                raise
            log.warning("built-in plugin %s could not be loaded: %s", name, err)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as err:
        raise PluginError(_plugin_name(pm, err.plugin), str(err)) from err
    if trace:
        _trace(pm)
    return pm


def register_builtin(pm: pluggy.PluginManager, name: str) -> Any:
    """Import and register one built-in plugin by name."""
    module_names = BUILTIN_PLUGINS.get(name)
    if module_names is None:
        known = ", ".join(sorted(BUILTIN_PLUGINS))
        raise PluginError(name, f"is not a built-in plugin (known: {known})")
    first = None
    for index, module_name in enumerate(module_names):
        try:
            module = importlib.import_module(module_name)
        except Exception as err:
            raise PluginError(name, f"failed to import {module_name}: {err}") from err
        plugin_name = name if index == 0 else f"{name}.{module_name.rsplit('.', 1)[-1]}"
        registered = _register(pm, module, plugin_name)
        first = first or registered
    return first


def _load_entrypoints(pm: pluggy.PluginManager) -> None:
    for entry_point in importlib.metadata.entry_points(group=PROJECT_NAME):
        if pm.is_blocked(entry_point.name) or pm.has_plugin(entry_point.name):
            continue
        try:
            plugin = entry_point.load()
        except Exception as err:
            raise PluginError(entry_point.name,
                              f"entry point {entry_point.value} failed to load: {err}") from err
        _register(pm, plugin, entry_point.name)


def _register(pm: pluggy.PluginManager, plugin: Any, name: str) -> Any:
    try:
        pm.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as err:
        raise PluginError(name, f"failed to register: {err}") from err
    return plugin


def _plugin_name(pm: pluggy.PluginManager, plugin: object) -> str:
    return pm.get_name(plugin) or repr(plugin)


def _trace(pm: pluggy.PluginManager) -> None:
    def before(hook_name: str, impls: Any, kwargs: Any) -> None:
        log.debug("hook %s -> %s", hook_name, [impl.plugin_name for impl in impls])

    def after(outcome: Any, hook_name: str, impls: Any, kwargs: Any) -> None:
        log.debug("hook %s done", hook_name)

    pm.add_hookcall_monitoring(before, after)


def plugin_listing(pm: pluggy.PluginManager) -> list[dict[str, Any]]:
    """Describe registered plugins and their hooks (for ``/-/plugins.json`` and the CLI)."""
    result = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[0]):
        hooks = sorted(impl.name for impl in pm.get_hookcallers(plugin) or [])
        result.append({"name": name, "module": getattr(plugin, "__name__", repr(plugin)),
                       "hooks": hooks})
    return result
