"""Emulator settings: the knobs of the Webex API emulator.

Defaults follow Webex's documented behaviour; where Webex documents nothing the value is a
setting (each such corner is listed in docs/emulator-webex.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

USER_SCOPES: tuple[str, ...] = (
    "spark:all", "spark:people_read", "spark:rooms_read", "spark:rooms_write",
    "spark:memberships_read", "spark:memberships_write", "spark:messages_read",
    "spark:messages_write",
    "spark:devices_read", "spark:xapi_commands", "spark:xapi_statuses",
    "meeting:schedules_read", "meeting:schedules_write", "meeting:preferences_read",
)
"""Scopes a person's own token (personal access token) carries."""

ADMIN_SCOPES: tuple[str, ...] = (
    "spark-admin:people_read", "spark-admin:devices_read", "spark-admin:workspaces_read",
    "spark-admin:licenses_read", "spark-admin:telephony_config_read",
    "spark-admin:telephony_config_write", "spark:applications_token",
    "meeting:admin_schedule_read", "meeting:admin_schedule_write",
    "meeting:admin_preferences_read",
)
"""Administrator scopes (a full administrator's token carries these and the user scopes)."""

ALL_SCOPES: tuple[str, ...] = USER_SCOPES + ADMIN_SCOPES

SERVICE_APP_SCOPES: tuple[str, ...] = (
    "spark-admin:people_read", "spark-admin:devices_read", "spark-admin:workspaces_read",
    "spark-admin:licenses_read",
    "spark-admin:telephony_config_read", "spark-admin:telephony_config_write",
    "spark:xapi_commands", "spark:xapi_statuses", "meeting:admin_schedule_read",
    "meeting:admin_schedule_write", "meeting:admin_preferences_read",
)
"""Default scopes of a Service App created without naming any (what a scheduler needs)."""

BOT_SCOPES: tuple[str, ...] = (
    "spark:people_read", "spark:rooms_read", "spark:rooms_write", "spark:memberships_read",
    "spark:memberships_write", "spark:messages_read", "spark:messages_write",
)
"""Scopes of a bot's token."""


@dataclass
class WebexEmulatorSettings:
    """Everything configurable about one Webex emulator instance."""

    domain: str = "example.com"
    users: list[str] = field(default_factory=list)
    """Emails of the organisation's people (all in ``domain``)."""
    workspaces: int = 0
    """Workspaces created at start, each with a Google-linked calendar and one device."""
    admin_email: str | None = None
    """The full administrator's email (default ``admin@<domain>``)."""
    site_url: str | None = None
    """Webex site host (default ``<first label of domain>.webex.com``)."""
    calling_users: list[str] | None = None
    """Emails of Webex Calling licensed people (default: every user)."""
    access_token_ttl: int = 1_209_600
    """Seconds an access token lives (Webex's integration tokens: 14 days)."""
    refresh_token_ttl: int = 7_776_000
    """Seconds a refresh token lives (Webex: 90 days)."""
    service_app_token_ttl: int = 1_209_600
    """Seconds a Service App access token lives [?]."""
    rate_limit_per_minute: int | None = None
    """Requests per minute per access token; ``None``: unlimited (Webex publishes no figure
    for these APIs) [?]."""
    rate_limit_retry_after: int | None = None
    """``Retry-After`` seconds on a rate-limit 429 (default: until the window frees)."""
    webhook_failure_limit: int = 100
    """Consecutive failed deliveries after which a webhook turns ``inactive`` [?]."""
    webhook_timeout: float = 5.0
    """Seconds to wait for a ``targetUrl`` to answer."""
    host_email_without_admin: str = "ignore"
    """``hostEmail`` from a token without admin scopes: ``ignore`` (Webex's wording: "only
    used if ... admin-level scopes") or ``forbid`` (403)."""
    admin_needs_host_email: bool = False
    """``True``: get, update and delete of another person's meeting need ``hostEmail``
    naming its host, even with admin scopes (the strict reading of the parameter's
    documentation) [?]; ``False`` (default): admin scopes reach every meeting by id."""
    meetings_default_window_days: int = 7
    """``GET /meetings`` without ``from``/``to``: a window of this many days (Webex: 7)."""
    meeting_create_limits: bool = True
    """Enforce Webex's documented creation limits (100 a day for a user; 3000 a day, 800
    for one host, for an administrator); benchmarks may turn them off."""
    offline_device_status: int = 502
    """Status a cloud xAPI call to a device that is not connected answers [?]."""
    bookings_put_list_replaces: bool = True
    """``Bookings.Put`` with ``{"Bookings": [...]}`` replaces the device's whole list;
    ``False``: upserts by ``Id`` like the single form [?]."""
    public_base_url: str | None = None
    """Base URL written into ``Link`` headers (default: the bound one)."""
    random_seed: int | None = None
    """Seed for generated ids, numbers and passwords (reproducible runs); tokens stay
    random."""

    def merged(self, overrides: dict[str, Any]) -> WebexEmulatorSettings:
        """A copy with ``overrides`` applied; unknown names raise ``TypeError`` naming them."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(f"unknown emulator setting(s): {', '.join(unknown)}")
        return replace(self, **overrides)

    @property
    def admin(self) -> str:
        """The administrator's email."""
        return (self.admin_email or f"admin@{self.domain}").lower()

    @property
    def site(self) -> str:
        """The Webex site host name."""
        return self.site_url or f"{self.domain.split('.')[0]}.webex.com"
