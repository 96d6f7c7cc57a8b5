"""Per-gateway state of the Google plugin, kept in ``gateway.state`` under ``google``.

One :class:`GoogleContext` per gateway holds the settings, the shared budget
(:class:`~hybrid_calendar_google.quota.QuotaLimiter`) and one
:class:`~hybrid_calendar_google.client.GoogleClient` per organisation (each with its own
service account and token cache). It is created on first use, so tests may build a bare
``Gateway`` without running start-up.

Where the service-account key comes from, first match wins:

1. the organisation's secret ``google_service_account`` in the store (envelope-encrypted
   with a KMS-wrapped data key: ``hybrid-calendar`` admin tooling puts it there);
2. ``google.service_account_json`` (the key's JSON; ``$env:``/``$file:`` indirection);
3. ``google.service_account_file`` (path to the downloaded key file).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hybrid_calendar.clock import SystemClock
from hybrid_calendar.config import Secret
from hybrid_calendar.errors import ConfigError
from hybrid_calendar_google.auth import ServiceAccount, TokenSource
from hybrid_calendar_google.client import GoogleClient
from hybrid_calendar_google.quota import QuotaLimiter, persistent_limiter
from hybrid_calendar_google.sync import SyncWindow

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import User

STATE_KEY = "google"
ORG_SECRET_NAME = "google_service_account"
"""Name of the organisation secret holding a service-account key JSON."""


@dataclass
class GoogleContext:
    """Everything the hook implementations share within one gateway."""

    settings: Mapping[str, Any]
    quota: QuotaLimiter
    window: SyncWindow
    clients: dict[str, GoogleClient] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def calendar_url(self) -> str:
        """Calendar API base URL (``google.calendar_base_url``)."""
        return str(self.settings["calendar_base_url"]).rstrip("/")

    @property
    def marker_key(self) -> str:
        """``extendedProperties.private`` key of the marker: the core's unless configured."""
        configured = str(self.settings.get("marker_property") or "")
        if configured:
            return configured
        from hybrid_calendar.join_info.render import MARKER_KEY

        return str(MARKER_KEY)

    @property
    def gmail_url(self) -> str:
        """Gmail API base URL (``google.gmail_base_url``)."""
        return str(self.settings["gmail_base_url"]).rstrip("/")

    async def client(self, gateway: Gateway, user: User) -> GoogleClient:
        """The client acting for ``user``'s organisation (created on first use).

        :raises ConfigError: no service-account key is configured for the organisation.
        """
        client = self.clients.get(user.org_id)
        if client is not None:
            return client
        async with self.lock:
            client = self.clients.get(user.org_id)
            if client is None:
                account = await self._account(gateway, user.org_id)
                tokens = TokenSource(
                    account, gateway.http_client(), scopes=tuple(self.settings["scopes"]),
                    refresh_margin=float(self.settings["token_refresh_margin_seconds"]))
                client = self.clients[user.org_id] = GoogleClient(
                    gateway.http_client(), tokens, self.quota)
            return client

    async def _account(self, gateway: Gateway, org_id: str) -> ServiceAccount:
        token_uri = str(self.settings["token_uri"])
        stored = await gateway.store.get_org_secret(org_id, ORG_SECRET_NAME)
        if stored:
            return ServiceAccount.from_info(parse_key_json(stored, "organisation secret"),
                                            token_uri)
        inline = self.settings["service_account_json"]
        text = inline.reveal() if isinstance(inline, Secret) else str(inline or "")
        if text:
            return ServiceAccount.from_info(parse_key_json(text, "google.service_account_json"),
                                            token_uri)
        path = str(self.settings["service_account_file"])
        if path:
            return ServiceAccount.from_file(path, token_uri)
        raise ConfigError("google.service_account_file",
                          "no service-account key configured: set google.service_account_file "
                          "(or google.service_account_json)")


def parse_key_json(text: str, where: str) -> dict[str, Any]:
    """Parse a service-account key's JSON text; errors say ``where`` it came from."""
    try:
        info = json.loads(text)
    except ValueError:
        raise ConfigError("google.service_account_json",
                          f"the {where} is not a JSON service-account key") from None
    if not isinstance(info, dict):
        raise ConfigError("google.service_account_json",
                          f"the {where} is not a JSON service-account key")
    return info


def context(gateway: Gateway) -> GoogleContext:
    """Return the gateway's Google context, creating it from configuration on first use."""
    return gateway.state.get_or_create(STATE_KEY, GoogleContext, lambda: _create(gateway))


def _create(gateway: Gateway) -> GoogleContext:
    config = gateway.config
    settings = config.section("google")
    # The budgets live in the store too, so a restart (or another process) counts the
    # units already spent this minute; Google counts real minutes.
    quota = persistent_limiter(gateway.store, int(config.get("quota", "project_per_minute")),
                               int(config.get("quota", "user_per_minute")),
                               now=SystemClock().now)
    window = SyncWindow(int(config.get("sync", "retention_past_days")),
                        int(config.get("sync", "retention_future_days")),
                        int(settings["page_size"]))
    return GoogleContext(settings, quota, window)
