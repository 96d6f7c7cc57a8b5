"""Running the gateway under uvicorn (``hybrid-calendar serve``).

uvicorn turns SIGTERM/SIGINT into a graceful shutdown: it stops accepting connections,
then runs the app's lifespan shutdown, where the engine lets jobs in flight finish (or
re-queues them) before the store is closed.
"""

from __future__ import annotations

import pluggy
import uvicorn

from hybrid_calendar import logs
from hybrid_calendar.app import create_app
from hybrid_calendar.builder import build_gateway
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
    """Serve until SIGTERM/SIGINT; returns the exit status."""
    logs.install(str(config.get("gateway", "log_level")))
    server = uvicorn.Server(uvicorn_config(config, pm))
    server.run()
    return 0 if server.started else 1
