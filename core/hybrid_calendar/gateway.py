"""The running gateway: what hook implementations receive as ``gateway``.

One object gives plugins typed access to everything they share: the validated
configuration, the plugin manager and its typed facade, the store, the field cipher and
the KMS behind it, the clock, the shared outbound ``httpx.AsyncClient`` and the engine.
What a plugin keeps for itself goes in :attr:`Gateway.state`, under the plugin's name.

The gateway builds its parts in dependency order, so nothing is half-made: the KMS access
calls this gateway's hooks (only when used), the cipher wraps its data keys through that
KMS and keeps them in the store's database (``Store.key_storage``), and the store (made
by the given factory) encrypts through the cipher. The app's lifespan opens the store,
creates the HTTP client and closes both (:func:`hybrid_calendar.builder.close_gateway`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import httpx
import pluggy

from hybrid_calendar.clock import Clock, SystemClock
from hybrid_calendar.config import Config
from hybrid_calendar.crypto.cipher import FieldCipher
from hybrid_calendar.crypto.deferred import DeferredKeyStorage
from hybrid_calendar.crypto.kms import GatewayKms, KmsAccess
from hybrid_calendar.engine.memory import EngineMemory
from hybrid_calendar.errors import GatewayError
from hybrid_calendar.hooks import Hooks
from hybrid_calendar.outbound.client import outbound_client

if TYPE_CHECKING:
    from hybrid_calendar.engine.engine import Engine
    from hybrid_calendar.store.base import Store

T = TypeVar("T")

StoreFactory = Callable[[FieldCipher], "Store"]
"""Makes the gateway's store around its cipher (``builder.build_gateway`` passes one for
the configured database). The store is opened later, by the app's lifespan."""


class PluginState:
    """Plugin-private values, one per plugin name (caches, clients, key rings).

    Only the plugin that owns a name reads or writes it; core services are attributes of
    the :class:`Gateway` instead. Access is typed: the caller names the class it expects.
    """

    def __init__(self) -> None:
        self._values: dict[str, object] = {}

    def get(self, plugin: str, kind: type[T]) -> T | None:
        """The value ``plugin`` stored, or ``None``.

        :raises TypeError: the stored value is not a ``kind`` (two plugins share a name).
        """
        value = self._values.get(plugin)
        if value is None:
            return None
        if not isinstance(value, kind):
            raise TypeError(f"gateway state of plugin {plugin!r} is a "
                            f"{type(value).__name__}, not a {kind.__name__}")
        return value

    def get_or_create(self, plugin: str, kind: type[T], create: Callable[[], T]) -> T:
        """The value ``plugin`` stored, storing ``create()`` first if there is none."""
        value = self.get(plugin, kind)
        if value is None:
            value = self._values[plugin] = create()
        return value

    def pop(self, plugin: str, kind: type[T]) -> T | None:
        """Remove and return the value ``plugin`` stored (``None`` if there was none)."""
        value = self.get(plugin, kind)
        self._values.pop(plugin, None)
        return value

    def __contains__(self, plugin: object) -> bool:
        return plugin in self._values


class Gateway:
    """Everything a plugin may need, passed explicitly.

    :param config: validated configuration (:attr:`config`).
    :param pm: the plugin manager (:attr:`pm`).
    :param store: makes the store around the gateway's cipher.
    :param clock: the time source (default: the system clock).

    :ivar config: validated configuration; plugins read their section with
        ``config.section("google")`` or one key with ``config.get("google", "page_size")``.
    :ivar pm: the plugin manager (rarely needed: prefer :attr:`hooks`).
    :ivar hooks: typed facade over every hook.
    :ivar clock: the time source; never call ``datetime.now`` in engine code.
    :ivar kms: wraps and unwraps data keys through the enabled KMS plugin's hooks.
    :ivar cipher: the envelope encryption of sensitive fields (data keys, blind indexes,
        rotation); the store encrypts through it.
    :ivar store: persistence (encrypts sensitive fields itself).
    :ivar http: the shared outbound HTTP client once created (see :meth:`http_client`).
    :ivar engine: the background engine (job queue, sync, sweeps) once started.
    :ivar memory: what the engine remembers between jobs in this process.
    :ivar state: plugin-private values, one per plugin name (:class:`PluginState`).
    :ivar startup_error: why start-up was refused (a file that cannot be trusted, ...).
    """

    def __init__(self, config: Config, pm: pluggy.PluginManager, *, store: StoreFactory,
                 clock: Clock | None = None) -> None:
        self.config = config
        self.pm = pm
        self.hooks = Hooks(pm)
        self.clock: Clock = clock or SystemClock()
        self.kms: KmsAccess = GatewayKms(self)
        self.cipher = FieldCipher(self.kms, DeferredKeyStorage(lambda: self.store.key_storage()),
                                  self.clock)
        self.store: Store = store(self.cipher)
        self.http: httpx.AsyncClient | None = None
        self.engine: Engine | None = None
        self.memory = EngineMemory()
        self.state = PluginState()
        self.startup_error: GatewayError | None = None

    def public_url(self, path: str = "") -> str:
        """Where remote services reach this gateway: ``gateway.public_url`` + ``path``.

        A provider builds its notification address with it from its own route, e.g.
        ``gateway.public_url("/webhooks/google")``.
        """
        return str(self.config.get("gateway", "public_url")).rstrip("/") + path

    def http_client(self) -> httpx.AsyncClient:
        """Return the shared outbound client, creating it on first use.

        An ``httpx.AsyncClient`` (:func:`hybrid_calendar.outbound.client.outbound_client`)
        over the gateway's own HTTP/1.1 pool; it keeps no cookies.
        """
        if self.http is None:
            self.http = outbound_client()
        return self.http

    async def aclose(self) -> None:
        """Close the shared HTTP client."""
        if self.http is not None:
            await self.http.aclose()
            self.http = None


__all__ = ["Gateway", "PluginState", "StoreFactory"]

