"""Configuration: one validated object built at start.

Sources, highest precedence first: environment variables, then the TOML file, then the
defaults declared by the core and plugins. Every key is declared with a
:class:`SettingSpec` (the core's here, plugins' through the ``register_settings`` hook),
so a typo is an error that names the key instead of a silently ignored setting.

Environment variables are ``HYBRID_CALENDAR_<SECTION>__<KEY>``, e.g.
``HYBRID_CALENDAR_SYNC__MAX_CONCURRENCY=4``. A string value ``$env:NAME`` reads another
environment variable and ``$file:/path`` reads a file, so secrets need not sit in the file.
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hybrid_calendar.errors import ConfigError

ENV_PREFIX = "HYBRID_CALENDAR_"


class Secret:
    """A string that never shows itself in ``repr``, logs or error messages."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret value. Call only where it is used."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """Declaration of one configuration key.

    :ivar section: TOML table, e.g. ``"sync"``.
    :ivar key: key in the table, e.g. ``"max_concurrency"``.
    :ivar type: ``str``, ``int``, ``float``, ``bool``, ``list`` or ``Secret``.
    :ivar default: value when unset; ``REQUIRED`` makes the key mandatory.
    :ivar help: one line for ``config check`` and the docs.
    :ivar choices: allowed values, if restricted.
    :ivar minimum: lowest allowed number, if any.
    """

    section: str
    key: str
    type: type
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None

    @property
    def dotted(self) -> str:
        """``section.key``."""
        return f"{self.section}.{self.key}"


REQUIRED: Any = object()
"""Sentinel default of a key that must be set."""

CORE_SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("gateway", "public_url", str, "http://127.0.0.1:8080",
                help="Public base URL of the gateway; push notifications are sent here."),
    SettingSpec("gateway", "host", str, "127.0.0.1", help="Address to listen on."),
    SettingSpec("gateway", "port", int, 8080, help="Port to listen on.", minimum=0),
    SettingSpec("gateway", "data_dir", str, "./var", help="Directory for the database and keys."),
    SettingSpec("gateway", "database", str, "",
                help="SQLite file (empty means <data_dir>/gateway.sqlite3, ':memory:' for "
                     "tests), or a postgresql://user@host/db URL: the PostgreSQL store that "
                     "several gateway processes share (docs/scaling.md)."),
    SettingSpec("gateway", "database_pool_size", int, 10, minimum=1,
                help="PostgreSQL connections each gateway process keeps at most."),
    SettingSpec("gateway", "synchronous", str, "FULL", choices=("FULL", "NORMAL"),
                help="SQLite synchronous mode; FULL keeps every committed sync on power loss."),
    SettingSpec("gateway", "tls_certificate", str, "", help="PEM certificate chain for HTTPS."),
    SettingSpec("gateway", "tls_private_key", str, "", help="PEM private key for HTTPS."),
    SettingSpec("gateway", "log_level", str, "INFO",
                choices=("DEBUG", "INFO", "WARNING", "ERROR"), help="Log level."),
    SettingSpec("gateway", "gc_threshold", int, 50_000, minimum=0,
                help="Garbage-collector generation-0 threshold after start-up (0: leave "
                     "CPython's default); start-up objects are frozen too."),
    SettingSpec("gateway", "admin_token", Secret, "",
                help="Bearer token for the admin API; empty disables the admin API."),
    SettingSpec("plugins", "enabled", list,
                ["google", "join_info", "kms_local", "webex", "people"],
                help="Built-in plugins to load (see `hybrid-calendar plugins`)."),
    SettingSpec("plugins", "load_entrypoints", bool, True,
                help="Also load third-party plugins from the `hybrid_calendar` entry points."),
    SettingSpec("plugins", "blocked", list, [], help="Plugin names never to register."),
    SettingSpec("plugins", "trace_hooks", bool, False, help="Log every hook call (debugging)."),
    SettingSpec("sync", "retention_past_days", int, 7, minimum=0,
                help="Keep meetings that ended at most this many days ago."),
    SettingSpec("sync", "retention_future_days", int, 31, minimum=1,
                help="Keep meetings starting at most this many days ahead."),
    SettingSpec("sync", "max_concurrency", int, 8, minimum=1,
                help="Sync jobs running at once across all users."),
    SettingSpec("sync", "safety_resync_minutes", float, 60.0, minimum=0.01,
                help="Re-sync a user whose notifications have been quiet this long."),
    SettingSpec("sync", "lease_seconds", float, 300.0, minimum=0.5,
                help="A claimed job is another process's to take over after this long "
                     "without a heartbeat (a live worker renews it every third of it)."),
    SettingSpec("sync", "sweep_seconds", float, 30.0, minimum=0.01,
                help="How often the periodic sweep (renewals, safety re-sync, purge) runs."),
    SettingSpec("sync", "channel_renew_before_hours", float, 24.0, minimum=0.0,
                help="Renew a push channel this long before it expires."),
    SettingSpec("sync", "job_max_attempts", int, 8, minimum=1,
                help="Attempts of a job, the first included, before it is parked: the one "
                     "retry limit of provider calls (a Google call that keeps failing is "
                     "made at most this often; plugins never retry on their own)."),
    SettingSpec("sync", "retry_base_seconds", float, 2.0, minimum=0.0,
                help="A failed job runs again after up to this long, doubling per attempt "
                     "(full jitter), or after the provider's Retry-After if longer."),
    SettingSpec("sync", "retry_cap_seconds", float, 900.0, minimum=0.0,
                help="No wait before a job's retry is longer, Retry-After included."),
    SettingSpec("quota", "project_per_minute", int, 10_000, minimum=1,
                help="Outbound calls to the provider per minute for the whole gateway."),
    SettingSpec("quota", "user_per_minute", int, 600, minimum=1,
                help="Outbound calls to the provider per minute per user."),
    SettingSpec("sync", "settings_refresh_hours", float, 24.0, minimum=0.0,
                help="Read each active user's calendar language and time zone again this "
                     "often (each user at its own time of day), so join details follow a "
                     "changed language and the personal pages a changed zone; 0: only at "
                     "activation."),
    SettingSpec("presence", "poll_minutes", float, 15.0, minimum=0.01,
                help="How often the vacation responder of each active user is read."),
    SettingSpec("notifications", "join_button_lead_minutes", float, 5.0, minimum=0.0,
                help="Show the Join button this many minutes before a meeting starts."),
    SettingSpec("notifications", "poll_seconds", float, 0.25, minimum=0.01,
                help="How often the notifier looks for Join buttons that fell due (the "
                     "most a button can be late by waiting)."),
    SettingSpec("notifications", "sink_timeout_seconds", float, 60.0, minimum=0.01,
                help="Longest one sink may take to answer one delivery; past it the attempt "
                     "counts as failed and is retried (never more than half the claim's "
                     "lease, so a slow sink's notification is not tried twice at once)."),
    SettingSpec("notifications", "max_attempts", int, 8, minimum=1,
                help="Attempts per sink before a notification becomes a dead letter."),
    SettingSpec("notifications", "retry_base_seconds", float, 30.0, minimum=0.0,
                help="First retry delay of a failed delivery (doubling, full jitter; at "
                     "least a sink's retry_after)."),
    SettingSpec("notifications", "retry_cap_seconds", float, 3600.0, minimum=0.0,
                help="Longest delay between two delivery attempts (also caps a sink's "
                     "retry_after)."),
)


@dataclass
class Config:
    """Validated configuration: ``config.get("sync", "max_concurrency")``.

    :ivar source: the file it was read from, if any.
    """

    values: dict[str, dict[str, Any]]
    specs: dict[str, SettingSpec] = field(default_factory=dict)
    source: Path | None = None

    def get(self, section: str, key: str) -> Any:
        """Return one validated value; raises :class:`ConfigError` for an undeclared key."""
        try:
            return self.values[section][key]
        except KeyError:
            raise ConfigError(f"{section}.{key}", "is not a declared setting") from None

    def section(self, name: str) -> Mapping[str, Any]:
        """Return one section (a plugin's own settings) as a read-only mapping."""
        return dict(self.values.get(name, {}))

    def replace(self, section: str, **changes: Any) -> Config:
        """Return a copy with some values of one section changed (tests, the demo)."""
        values = {s: dict(v) for s, v in self.values.items()}
        for key, value in changes.items():
            spec = self.specs.get(f"{section}.{key}")
            if spec is None:
                raise ConfigError(f"{section}.{key}", "is not a declared setting")
            values.setdefault(section, {})[key] = _cast(spec, value)
        return Config(values=values, specs=self.specs, source=self.source)


def collect_specs(register_plugins: Callable[[Callable[[SettingSpec], None]], None] | None = None,
                  ) -> dict[str, SettingSpec]:
    """Gather the core's settings and those plugins declare through ``register_settings``."""
    specs = {spec.dotted: spec for spec in CORE_SETTINGS}

    def register(spec: SettingSpec) -> None:
        if spec.dotted in specs and specs[spec.dotted] != spec:
            raise ConfigError(spec.dotted, "declared twice with different definitions")
        specs[spec.dotted] = spec

    if register_plugins is not None:
        register_plugins(register)
    return specs


def read_file(path: Path) -> dict[str, Any]:
    """Parse a TOML configuration file; errors name the file and line."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError("--config", f"file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError("--config", f"{path} is a directory, not a TOML file") from None
    except OSError as err:
        raise ConfigError("--config", f"cannot read {path}: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("--config", f"{path} is not valid TOML: {err}") from None
    except UnicodeDecodeError:  # TOML is UTF-8; e.g. a file an editor saved as UTF-16
        raise ConfigError("--config", f"{path} is not UTF-8 text") from None


def load(specs: Mapping[str, SettingSpec], file_values: Mapping[str, Any] | None = None,
         environ: Mapping[str, str] | None = None, source: Path | None = None) -> Config:
    """Merge defaults, file values and environment variables, and validate every key."""
    environ = os.environ if environ is None else environ
    raw: dict[str, dict[str, Any]] = {}
    file_strings: set[str] = set()  # a TOML string where a list is declared is a mistake
    for section, table in (file_values or {}).items():
        if not isinstance(table, dict):
            raise ConfigError(section, "must be a table, e.g. [" + section + "]")
        for key, value in table.items():
            raw.setdefault(section, {})[key] = value
            if isinstance(value, str) and not value.startswith(("$env:", "$file:")):
                file_strings.add(f"{section}.{key}")
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name[len(ENV_PREFIX):]:
            continue
        section, _, key = name[len(ENV_PREFIX):].lower().partition("__")
        raw.setdefault(section, {})[key] = value
        file_strings.discard(f"{section}.{key}")
    for section, table in raw.items():
        for key in table:
            if f"{section}.{key}" not in specs:
                raise ConfigError(f"{section}.{key}", "unknown setting" + _suggest(
                    f"{section}.{key}", specs))
    values: dict[str, dict[str, Any]] = {}
    for dotted, spec in specs.items():
        if spec.type is list and dotted in file_strings:
            raise ConfigError(dotted, f"must be a list, e.g. {spec.key} = "
                                      f"[{json.dumps(raw[spec.section][spec.key])}], not a string")
        if spec.key in raw.get(spec.section, {}):
            value = _cast(spec, _indirect(spec, raw[spec.section][spec.key], environ))
        elif spec.default is REQUIRED:
            raise ConfigError(dotted, "is required")
        else:
            value = _cast(spec, spec.default)
        values.setdefault(spec.section, {})[spec.key] = value
    return Config(values=values, specs=dict(specs), source=source)


def _indirect(spec: SettingSpec, value: Any, environ: Mapping[str, str]) -> Any:
    if not isinstance(value, str):
        return value
    if value.startswith("$env:"):
        name = value[5:]
        if name not in environ:
            raise ConfigError(spec.dotted, f"refers to unset environment variable {name}")
        return environ[name]
    if value.startswith("$file:"):
        try:
            return Path(value[6:]).read_text().strip()
        except OSError as err:
            raise ConfigError(spec.dotted, f"cannot read {value[6:]}: "
                                           f"{err.strerror or type(err).__name__}") from None
        except UnicodeDecodeError:  # a binary file: its bytes (a secret's) are not shown
            raise ConfigError(spec.dotted, f"cannot read {value[6:]}: not UTF-8 text"
                              ) from None
    return value


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _cast(spec: SettingSpec, value: Any) -> Any:
    kind = spec.type
    try:
        if kind is bool:
            if isinstance(value, bool):
                result: Any = value
            elif isinstance(value, str) and value.lower() in _TRUE | _FALSE:
                result = value.lower() in _TRUE
            else:
                raise ValueError
        elif kind is int:
            if isinstance(value, bool) or (isinstance(value, float)
                                           and not value.is_integer()):
                raise ValueError  # 8443.5 (or nan, inf) is no int: never truncated
            result = int(value)
        elif kind is float:
            if isinstance(value, bool):
                raise ValueError
            result = float(value)
            if not math.isfinite(result):  # nan passes every minimum, inf every deadline
                raise ConfigError(spec.dotted, f"expected a finite number, got {result}")
        elif kind is list:
            if isinstance(value, str):
                result = [item.strip() for item in value.split(",") if item.strip()]
            elif isinstance(value, list | tuple):
                result = list(value)
            else:
                raise ValueError
        elif kind is Secret:
            result = value if isinstance(value, Secret) else Secret(str(value))
        elif kind is str:
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise ValueError
            result = str(value)
        else:
            result = value
    except (TypeError, ValueError, OverflowError):
        shown = "<secret>" if kind is Secret else repr(value)
        raise ConfigError(spec.dotted, f"expected {kind.__name__}, got {shown}") from None
    if spec.choices is not None and result not in spec.choices:
        raise ConfigError(spec.dotted, f"must be one of {', '.join(map(str, spec.choices))}")
    if spec.minimum is not None and isinstance(result, int | float) and result < spec.minimum:
        raise ConfigError(spec.dotted, f"must be at least {spec.minimum}")
    return result


def _suggest(dotted: str, specs: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(dotted, list(specs), n=1)
    return f" (did you mean {close[0]}?)" if close else ""
