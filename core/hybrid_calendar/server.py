"""Running the gateway under uvicorn (``hybrid-calendar serve``).

uvicorn turns SIGTERM/SIGINT into a graceful shutdown: it stops accepting connections,
then runs the app's lifespan shutdown, where the engine lets jobs in flight finish (or
re-queues them) before the store is closed.
"""

from __future__ import annotations

import socket

import pluggy
import uvicorn

from hybrid_calendar import logs
from hybrid_calendar.admin.datadir_lock import DataDirectoryLock
from hybrid_calendar.admin.errors import PreflightError
from hybrid_calendar.admin.preflight import errors_of, preflight
from hybrid_calendar.app import create_app
from hybrid_calendar.builder import build_gateway, database_path, is_postgres_url
from hybrid_calendar.config import Config
from hybrid_calendar.errors import ConfigError


def uvicorn_config(config: Config, pm: pluggy.PluginManager) -> uvicorn.Config:
    """The uvicorn settings for the configured host, port and TLS files."""
    certificate = str(config.get("gateway", "tls_certificate"))
    private_key = str(config.get("gateway", "tls_private_key"))
    if bool(certificate) != bool(private_key):
        raise ConfigError("gateway.tls_private_key" if certificate else
                          "gateway.tls_certificate",
                          "TLS needs both tls_certificate and tls_private_key")
    app = create_app(build_gateway(config, pm))
    return uvicorn.Config(app, host=str(config.get("gateway", "host")),
                          port=int(config.get("gateway", "port")), lifespan="on",
                          log_config=None, access_log=False,
                          ssl_certfile=certificate or None, ssl_keyfile=private_key or None,
                          timeout_graceful_shutdown=30)


def serve(config: Config, pm: pluggy.PluginManager) -> int:
    """Serve until SIGTERM/SIGINT; returns the exit status.

    Before anything is opened: the checks of ``config check`` (:mod:`.admin.preflight`),
    then the data directory's lock (:mod:`.admin.datadir_lock`; a SQLite file only: any
    number of gateways share a PostgreSQL database), then the listening port.

    :raises PreflightError: the configuration or environment would not start.
    :raises DataDirectoryInUseError: another gateway serves this data directory.
    """
    problems = errors_of(preflight(config, pm))
    if problems:
        raise PreflightError([f"{p.key}: {p.message}" for p in problems])
    logs.install(str(config.get("gateway", "log_level")))
    host, port = str(config.get("gateway", "host")), int(config.get("gateway", "port"))
    database = database_path(config)
    # Any number of gateways share a PostgreSQL database; a SQLite file takes one.
    lock = None if database == ":memory:" or is_postgres_url(database) \
        else DataDirectoryLock(database)
    if lock is not None:
        lock.acquire(f"{host}:{port}")
    try:
        check_port_free(host, port)
        server = uvicorn.Server(uvicorn_config(config, pm))
        server.run()
    finally:
        if lock is not None:
            lock.release()
    return 0 if server.started else 1


def check_port_free(host: str, port: int) -> None:
    """Raise a one-line :class:`ConfigError` when ``host:port`` cannot be listened on."""
    if port == 0:
        return
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as err:
        raise ConfigError("gateway.port", f"cannot listen on {host}:{port}: "
                                          f"{err.strerror or err}") from None
