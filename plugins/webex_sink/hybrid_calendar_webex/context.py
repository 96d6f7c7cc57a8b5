"""Per-gateway state of the Webex sink, kept in ``gateway.state`` under ``webex``.

One :class:`WebexContext` per gateway holds the ``[webex]`` settings, the per-organisation
rate budget, and one :class:`~.client.WebexClient` (with its :class:`~.tokens.OrgTokens`)
per organisation. It is created on first use, so a bare gateway works without start-up.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hybrid_calendar.clock import SystemClock
from hybrid_calendar.config import Secret
from hybrid_calendar.store.budget import SharedBudget
from hybrid_calendar_webex.budget import RateBudget
from hybrid_calendar_webex.client import WebexClient
from hybrid_calendar_webex.settings import SECTION
from hybrid_calendar_webex.tokens import OrgTokens

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

STATE_KEY = "webex"


@dataclass
class WebexContext:
    """Everything the Webex hook implementations share within one gateway."""

    settings: dict[str, Any]
    budget: RateBudget
    clients: dict[str, WebexClient] = field(default_factory=dict)
    health: dict[str, str | None] = field(default_factory=dict)
    """Per organisation: ``None`` when healthy, else the reason (scopes, de-authorised)."""
    people: dict[tuple[str, str], str | None] = field(default_factory=dict)
    """``(org, email)`` to Webex person id, ``None`` for "no Webex account" (a cache)."""
    followed_series: dict[str, str] = field(default_factory=dict)
    """``user/series`` to the digest of the series body last followed (one PUT per
    change, though every instance of the series arrives with it)."""
    rooms: dict[str, tuple[datetime, dict[str, list[str]]]] = field(default_factory=dict)
    """Per organisation: when read, and room calendar address → device ids."""
    room_locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    """Per organisation: held while its room records are read and written and its room
    devices converge (one at a time within this process)."""
    rooms_converged: dict[str, datetime] = field(default_factory=dict)
    """Per organisation: when its rooms last converged periodically (gateway clock)."""
    failing_devices: set[str] = field(default_factory=set)
    """Room devices whose last convergence failed (their failure was logged once)."""
    room_keeper: asyncio.Task[None] | None = None
    """The task that looks every ``room_keeper.TICK_SECONDS`` whether the rooms are due to
    converge (started at start-up)."""
    drained_by: object | None = None
    """The engine whose ``until_idle`` runs due convergences (registered once)."""
    webhook_secrets: dict[str, str] = field(default_factory=dict)
    """Per organisation: the secret of the webhooks registered at this start-up."""
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    """Webhook events being handled (kept referenced until done)."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def configured(self) -> bool:
        """True when some Webex credentials are configured."""
        return bool(self.settings.get("service_app_id")) or bool(
            _reveal(self.settings.get("access_token")))

    @property
    def bot_token(self) -> str:
        """The bot's token (empty when no bot is configured)."""
        return _reveal(self.settings.get("bot_token"))

    def client(self, gateway: Gateway, org_id: str) -> WebexClient:
        """The client acting for ``org_id`` (created on first use)."""
        client = self.clients.get(org_id)
        if client is None:
            tokens = OrgTokens(gateway, org_id, self.settings, self.budget)
            client = self.clients[org_id] = WebexClient(gateway.http_client(), tokens,
                                                        self.budget, org_id)
        return client

    def room_lock(self, org_id: str) -> asyncio.Lock:
        """The lock of ``org_id``'s room records (created on first use)."""
        lock = self.room_locks.get(org_id)
        if lock is None:
            lock = self.room_locks[org_id] = asyncio.Lock()
        return lock

    @property
    def rooms_enabled(self) -> bool:
        """True when Webex is configured and ``webex.room_bookings`` is on."""
        return self.configured and bool(self.settings["room_bookings"])

    def calls(self) -> int:
        """Webex requests sent so far by every organisation's client."""
        return sum(c.calls + c.tokens.refreshes for c in self.clients.values())


def _reveal(value: object) -> str:
    return value.reveal() if isinstance(value, Secret) else str(value or "")


def context(gateway: Gateway) -> WebexContext:
    """The gateway's Webex context, created from configuration on first use."""
    return gateway.state.get_or_create(STATE_KEY, WebexContext, lambda: _create(gateway))


def _create(gateway: Gateway) -> WebexContext:
    settings = dict(gateway.config.section(SECTION))
    per_minute = int(settings["rate_per_minute"])
    shared = None
    if gateway.store.shares_database:  # other processes call Webex for the same orgs
        store = gateway.store

        def shared(org_id: str) -> SharedBudget:
            return SharedBudget(store, f"webex:{org_id}", per_minute, now=SystemClock().now)

    return WebexContext(settings, RateBudget(per_minute, shared=shared))
