"""Loading the configuration together with the plugins that declare its settings.

:func:`load_config` is the one entry point: the CLI, the server, the demo and tests call it
to get the validated :class:`~hybrid_calendar.config.Config` and the plugin manager built
from its ``[plugins]`` section.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pluggy

from hybrid_calendar import config as config_module
from hybrid_calendar.config import Config, Secret
from hybrid_calendar.hooks import Hooks
from hybrid_calendar.plugins import get_plugin_manager


def load_config(path: str | Path | None = None, *,
                  overrides: dict[str, dict[str, Any]] | None = None,
                  environ: dict[str, str] | None = None,
                  ) -> tuple[Config, pluggy.PluginManager]:
    """Read the file and environment, build the plugin manager, validate everything.

    The ``[plugins]`` section is read first (it decides which plugins declare the rest of
    the settings), then the full configuration is validated against every declared key.

    :param path: a TOML file (``None`` or ``""``: environment and defaults only).
    :param overrides: values that win over the file's, by section (tests, the demo).
    :param environ: the environment to read (default: ``os.environ``).
    :raises ConfigError: naming the key that is wrong.
    """
    path = Path(path) if path else None
    environ = dict(os.environ) if environ is None else environ
    file_values = config_module.read_file(path) if path else {}
    for section, values in (overrides or {}).items():
        file_values.setdefault(section, {}).update(values)
    pm = plugin_manager(file_values, environ)
    specs = config_module.collect_specs(Hooks(pm).register_settings)
    config = config_module.load(specs, file_values, environ, source=path)
    return config, pm


def plugin_manager(file_values: dict[str, Any], environ: dict[str, str], *,
                   tolerate_missing: bool = False) -> pluggy.PluginManager:
    """The plugin manager a configuration asks for: its ``[plugins]`` section (from the
    file's values and the ``HYBRID_CALENDAR_PLUGINS__*`` environment) read on its own, before
    the plugins declare the rest of the settings.

    :raises ConfigError: naming a wrong ``[plugins]`` key.
    """
    core_specs = config_module.collect_specs()
    plugin_specs = {k: v for k, v in core_specs.items() if v.section == "plugins"}
    plugin_values = {"plugins": file_values.get("plugins", {})}
    bootstrap = config_module.load(plugin_specs, plugin_values, _only(environ, "PLUGINS__"))
    return get_plugin_manager(bootstrap.get("plugins", "enabled"),
                              load_entrypoints=bootstrap.get("plugins", "load_entrypoints"),
                              blocked=bootstrap.get("plugins", "blocked"),
                              trace=bootstrap.get("plugins", "trace_hooks"),
                              tolerate_missing=tolerate_missing)


ENABLED_VARIABLE = config_module.ENV_PREFIX + "PLUGINS__ENABLED"
"""The environment variable listing the built-in plugins to enable (comma-separated)."""


def environment_enabling(plugin: str, environ: Mapping[str, str] | None = None
                         ) -> dict[str, str]:
    """``environ`` (default: this process's) with ``plugin`` added to
    ``HYBRID_CALENDAR_PLUGINS__ENABLED``, e.g. to run an emulator's command."""
    env = dict(os.environ if environ is None else environ)
    enabled = [p.strip() for p in env.get(ENABLED_VARIABLE, "").split(",") if p.strip()]
    env[ENABLED_VARIABLE] = ",".join(dict.fromkeys([*enabled, plugin]))
    return env


def describe(config: Config) -> dict[str, dict[str, Any]]:
    """The effective configuration with secrets masked (for ``config show``): secret
    settings, and the password of a URL (``postgresql://user:PASSWORD@host/db``)."""
    return {section: {key: ("**********" if isinstance(value, Secret) and value.reveal()
                            else "" if isinstance(value, Secret)
                            else _masked_url(value) if isinstance(value, str) else value)
                      for key, value in values.items()}
            for section, values in config.values.items()}


_URL_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/@:]*:)[^/@]*@")
"""The ``scheme://user:`` before a URL's password, and the password up to its ``@``."""
_QUERY_PASSWORD = re.compile(r"(?i)(://[^?#]*\?(?:[^#]*&)?password=)[^&#]*")
"""libpq's other place for it: ``postgresql://host/db?password=...``."""


def _masked_url(value: str) -> str:
    return _QUERY_PASSWORD.sub(r"\1**********", _URL_PASSWORD.sub(r"\1**********@", value))


def _only(environ: dict[str, str], infix: str) -> dict[str, str]:
    prefix = config_module.ENV_PREFIX + infix
    return {k: v for k, v in environ.items() if k.startswith(prefix)}
