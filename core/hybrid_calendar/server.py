"""Running the gateway under uvicorn (``hybrid-calendar serve``).

uvicorn turns SIGTERM/SIGINT into a graceful shutdown: it stops accepting connections,
then runs the app's lifespan shutdown, where the engine lets jobs in flight finish (or
re-queues them) before the store is closed.
"""

from __future__ import annotations

import socket

import pluggy
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hybrid_calendar import logs
from hybrid_calendar.admin.datadir_lock import DataDirectoryLock
from hybrid_calendar.admin.errors import PreflightError
from hybrid_calendar.admin.preflight import errors_of, preflight
from hybrid_calendar.app import create_app
from hybrid_calendar.builder import build_gateway, database_path, is_postgres_url
from hybrid_calendar.config import Config
from hybrid_calendar.errors import ConfigError
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.prompt_server import PromptServer
from hybrid_calendar.server_limits import (
    KEEP_ALIVE_TIMEOUT,
    MAX_CONNECTIONS,
    HeaderTimeoutProtocol,
)


def uvicorn_config(config: Config, pm: pluggy.PluginManager) -> uvicorn.Config:
    """The uvicorn settings for the configured host, port and TLS files."""
    certificate = str(config.get("gateway", "tls_certificate"))
    private_key = str(config.get("gateway", "tls_private_key"))
    if bool(certificate) != bool(private_key):
        raise ConfigError("gateway.tls_private_key" if certificate else
                          "gateway.tls_certificate",
                          "TLS needs both tls_certificate and tls_private_key")
    gateway = build_gateway(config, pm)
    app = QuietStartupFailure(create_app(gateway), gateway)
    return http_settings(app, str(config.get("gateway", "host")),
                         int(config.get("gateway", "port")),
                         certificate=certificate, private_key=private_key)


def http_settings(app: ASGIApp, host: str, port: int, *, certificate: str = "",
                  private_key: str = "") -> uvicorn.Config:
    """How ``serve`` serves an ASGI app: protocol, connection limits, lifespan, shutdown.

    ``bench/webhook.py`` serves its bare-route baseline with these too, so the baseline
    is the same HTTP stack as the gateway's.
    """
    return uvicorn.Config(app, host=host, port=port, lifespan="on",
                          log_config=None, access_log=False,
                          ssl_certfile=certificate or None, ssl_keyfile=private_key or None,
                          timeout_graceful_shutdown=30, http=HeaderTimeoutProtocol,
                          timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
                          limit_concurrency=MAX_CONNECTIONS)


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
        settings = uvicorn_config(config, pm)
        server = PromptServer(settings)
        try:
            server.run()
        except SystemExit:  # uvicorn exits with 3 when the lifespan start-up failed
            if not _refused(settings):
                raise
    finally:
        if lock is not None:
            lock.release()
    if server.started:
        return 0
    return 2 if _refused(settings) else 1  # 2: the reason was logged in one line


def _refused(settings: uvicorn.Config) -> bool:
    app = settings.app
    return isinstance(app, QuietStartupFailure) and app.gateway.startup_error is not None


class QuietStartupFailure:
    """ASGI wrapper: a start-up the gateway refused (and explained in one log line) is
    reported to uvicorn without the traceback it would otherwise log."""

    def __init__(self, app: ASGIApp, gateway: Gateway) -> None:
        self.app = app
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass everything through; blank the message of a refused start-up."""
        async def quiet_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed" and self.gateway.startup_error:
                message = {"type": "lifespan.startup.failed", "message": ""}
            await send(message)
        await self.app(scope, receive, quiet_send)


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
