"""The running gateway: what hook implementations receive as ``gateway``.

One object holds the validated configuration, the plugin manager and its typed facade,
the store, the clock, the shared outbound ``httpx.AsyncClient`` and the engine. The app's
lifespan creates and closes the HTTP client; tests may build a ``Gateway`` directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pluggy

from hybrid_calendar.clock import Clock, SystemClock
from hybrid_calendar.config import Config
from hybrid_calendar.hooks import Hooks

if TYPE_CHECKING:
    from hybrid_calendar.engine.engine import Engine
    from hybrid_calendar.store.base import Store


@dataclass
class Gateway:
    """Everything a plugin may need, passed explicitly.

    :ivar config: validated configuration; plugins read their section with
        ``config.section("google")``.
    :ivar pm: the plugin manager (rarely needed: prefer :attr:`hooks`).
    :ivar hooks: typed facade over every hook.
    :ivar store: persistence (encrypts sensitive fields itself).
    :ivar clock: the time source; never call ``datetime.now`` in engine code.
    :ivar http: the shared outbound HTTP client (connection pooling, TLS verification on).
    :ivar engine: the background engine (job queue, sync, sweeps) once started.
    :ivar state: per-plugin scratch space, keyed by plugin name (caches, clients).
    """

    config: Config
    pm: pluggy.PluginManager
    store: Store
    clock: Clock = field(default_factory=SystemClock)
    http: httpx.AsyncClient | None = None
    engine: Engine | None = None
    state: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.hooks = Hooks(self.pm)

    def http_client(self) -> httpx.AsyncClient:
        """Return the shared outbound client, creating it on first use."""
        if self.http is None:
            self.http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0),
                                          limits=httpx.Limits(max_connections=100,
                                                              max_keepalive_connections=50))
        return self.http

    async def aclose(self) -> None:
        """Close the shared HTTP client."""
        if self.http is not None:
            await self.http.aclose()
            self.http = None
