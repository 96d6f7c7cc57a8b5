"""Everything ``serve`` needs, checked before anything is opened or written.

``hybrid-calendar config check`` and ``serve`` run the same :func:`preflight`, so a
configuration that ``config check`` passes starts. The core checks its own settings here;
each plugin checks its own through the ``check_config`` hook (the Google plugin: the
service-account key parses; the KMS plugins: the key store is reachable).

| key | checked |
|---|---|
| ``gateway.port`` | 0 to 65535 (0: any free port) |
| ``gateway.public_url`` | an ``http://`` or ``https://`` URL |
| ``gateway.tls_*`` | both or neither; readable PEM files; the key matches the certificate |
| ``gateway.data_dir`` / ``gateway.database`` | a directory the gateway may create and write |
| ``join_info.keywords`` | every action is created by an enabled plugin |
"""

from __future__ import annotations

import re
import ssl
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pluggy

from hybrid_calendar.builder import database_path, is_postgres_url
from hybrid_calendar.config import Config
from hybrid_calendar.errors import ConfigError
from hybrid_calendar.hooks import Hooks

MAX_PORT = 65535


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: ``error`` stops ``serve``, ``warning`` is worth knowing."""

    key: str
    message: str
    severity: str = "error"

    def line(self) -> str:
        """The one line ``config check`` prints."""
        return f"{self.severity}: {self.key}: {self.message}"


def preflight(config: Config, pm: pluggy.PluginManager) -> list[Problem]:
    """Every problem that would stop ``serve`` (errors) or surprise an admin (warnings)."""
    problems: list[Problem] = []

    def problem(key: str, message: str) -> None:
        problems.append(Problem(key, message))

    _check_gateway(config, problem)
    problems.extend(exposure_problems(config))
    _check_tls(config, problem)
    _check_data_dir(config, problem)
    problems.extend(_check_keywords(config, pm))
    Hooks(pm).check_config(config, problem)
    return problems


def _check_gateway(config: Config, problem: Callable[[str, str], None]) -> None:
    port = int(config.get("gateway", "port"))
    if not 0 <= port <= MAX_PORT:
        problem("gateway.port", f"{port} is out of range: use 1 to {MAX_PORT} (0: any free "
                                "port)")
    url = urlsplit(str(config.get("gateway", "public_url")))
    if url.scheme not in ("http", "https") or not url.netloc:
        problem("gateway.public_url", "must be an http:// or https:// URL such as "
                                      "https://gateway.example.com")


MIN_ADMIN_TOKEN = 20
"""Shortest ``gateway.admin_token`` accepted (a random token of 20 URL-safe characters
carries 120 bits)."""
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (plain HTTP is harmless there)."""
    host = urlsplit(url).hostname or ""
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def exposure_problems(config: Config) -> list[Problem]:
    """A guessable admin token (error) and a plain-HTTP public address (warning)."""
    found: list[Problem] = []
    token = config.get("gateway", "admin_token")
    secret = token.reveal() if hasattr(token, "reveal") else str(token or "")
    if secret and len(secret) < MIN_ADMIN_TOKEN:
        found.append(Problem("gateway.admin_token", f"is {len(secret)} characters; use at "
                             f"least {MIN_ADMIN_TOKEN} random ones, e.g. the output of "
                             "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"))
    public = str(config.get("gateway", "public_url"))
    if public.startswith("http://") and not is_loopback(public):
        found.append(Problem("gateway.public_url", "is plain http: admin credentials and "
                             "user data would cross the network in clear, and Google pushes "
                             "notifications only to https addresses; use https://",
                             severity="warning"))
    return found


def _check_tls(config: Config, problem: Callable[[str, str], None]) -> None:
    certificate = str(config.get("gateway", "tls_certificate"))
    private_key = str(config.get("gateway", "tls_private_key"))
    if not certificate and not private_key:
        return
    if bool(certificate) != bool(private_key):
        problem("gateway.tls_private_key" if certificate else "gateway.tls_certificate",
                "TLS needs both tls_certificate and tls_private_key")
        return
    unreadable = False
    for key, name in (("gateway.tls_certificate", certificate),
                      ("gateway.tls_private_key", private_key)):
        reason = _unreadable(Path(name))
        if reason:
            problem(key, f"cannot read {name}: {reason}")
            unreadable = True
    if unreadable:
        return
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(certificate, private_key)
    except ssl.SSLError as err:
        problem("gateway.tls_private_key",
                f"{private_key} does not match {certificate} or is not PEM "
                f"({err.reason or err.__class__.__name__})")


def _unreadable(path: Path) -> str | None:
    if not path.exists():
        return "no such file"
    if path.is_dir():
        return "is a directory"
    try:
        with path.open("rb"):
            return None
    except OSError as err:
        return err.strerror or str(err)


URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
"""A ``gateway.database`` starting like this is a URL, not a SQLite file path."""


def _check_data_dir(config: Config, problem: Callable[[str, str], None]) -> None:
    database = database_path(config)
    if database == ":memory:" or is_postgres_url(database):
        return  # PostgreSQL is shared by design; the store reports an unreachable server
    if scheme := URL_SCHEME.match(database):  # else a SQLite file under ./mysql:/user:pw@…
        problem("gateway.database", f"is a {scheme.group(1)}:// URL; use a postgresql:// "
                                    "URL or a SQLite file path")
        return
    key = "gateway.database" if config.get("gateway", "database") else "gateway.data_dir"
    directory = Path(database).parent
    reason = writable_directory_problem(directory)
    if reason:
        problem(key, f"{directory} {reason}")


def writable_directory_problem(directory: Path) -> str | None:
    """Why the gateway could not create or write ``directory``, or ``None``.

    Writability is tried, not guessed from mode bits (which do not tell root about
    read-only mounts): an unnamed temporary file is created and removed at once.
    """
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        if existing == directory:
            return "is not a directory"
        return f"cannot be created: {existing} is not a directory"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        if existing == directory:
            return f"is not writable ({reason})"
        return f"does not exist and cannot be created in {existing} ({reason})"
    return None


def _check_keywords(config: Config, pm: pluggy.PluginManager) -> list[Problem]:
    if "join_info" not in config.values:
        return []
    from hybrid_calendar.join_info.keywords import KeywordConfig

    entries = config.get("join_info", "keywords")
    try:
        keywords = KeywordConfig.parse(entries)
    except ConfigError as err:
        return [Problem(err.key, str(err).removeprefix(f"{err.key}: "))]
    declared: set[str] = set()
    Hooks(pm).register_meeting_actions(declared.add)
    spec = config.specs.get("join_info.keywords")
    default = spec is not None and list(entries) == list(spec.default)
    problems = []
    for word, action in sorted(keywords.actions.items()):
        if action in declared:
            continue
        message = (f"@{word} asks for {action} meetings, but no enabled plugin creates them"
                   " (enable the plugin that does, or remove the keyword)")
        # The built-in default names Webex actions; without a Webex plugin they only warn.
        problems.append(Problem("join_info.keywords", message,
                                "warning" if default else "error"))
    return problems


def errors_of(problems: list[Problem]) -> list[Problem]:
    """The problems that stop ``serve``."""
    return [p for p in problems if p.severity == "error"]


def announce_data_dir(config: Config) -> None:
    """Say on stderr which data directory a command uses when no ``--config`` file was
    given (so the defaults never create ``./var`` silently)."""
    if config.source is not None:
        return
    database = database_path(config)
    if is_postgres_url(database):
        return
    where = database if database == ":memory:" else str(Path(database).parent.resolve())
    print(f"hybrid-calendar: no --config given; using data directory {where} "
          "(set gateway.data_dir in a config file or HYBRID_CALENDAR_GATEWAY__DATA_DIR)",
          file=sys.stderr)
