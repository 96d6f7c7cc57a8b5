"""Emulator options: the knobs of the Google API emulator, with Google's documented defaults."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
CALENDAR_READONLY_SCOPE = "https://www.googleapis.com/auth/calendar.readonly"
CALENDAR_EVENTS_SCOPE = "https://www.googleapis.com/auth/calendar.events"
GMAIL_SETTINGS_BASIC_SCOPE = "https://www.googleapis.com/auth/gmail.settings.basic"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"

DEFAULT_DELEGATED_SCOPES: tuple[str, ...] = (
    CALENDAR_SCOPE,
    CALENDAR_READONLY_SCOPE,
    CALENDAR_EVENTS_SCOPE,
    "https://www.googleapis.com/auth/calendar.events.readonly",
    "https://www.googleapis.com/auth/calendar.settings.readonly",
    "https://www.googleapis.com/auth/calendar.acls",
    "https://www.googleapis.com/auth/calendar.freebusy",
    "https://mail.google.com/",
    "https://www.googleapis.com/auth/gmail.modify",
    "https://www.googleapis.com/auth/gmail.readonly",
    GMAIL_SETTINGS_BASIC_SCOPE,
)
"""Scopes the emulated Admin console authorises for the service account's client id."""


@dataclass
class EmulatorOptions:
    """Everything configurable about one emulator instance.

    Defaults follow Google's documented behaviour; where Google documents nothing the value
    is a tunable (see docs/emulator.md).
    """

    domain: str = "example.com"
    users: list[str] = field(default_factory=list)
    project_id: str = "hybrid-calendar-emulator"
    delegated_scopes: tuple[str, ...] = DEFAULT_DELEGATED_SCOPES
    access_token_ttl: int = 3600
    """Seconds an access token is valid (``expires_in`` is one less, like Google's 3599)."""
    max_assertion_lifetime: int = 3600
    clock_skew: int = 300
    sync_token_ttl: float | None = None
    """Seconds after which a sync token expires (410); ``None``: never (Google: undocumented)."""
    updated_min_max_age: float | None = None
    """Seconds; an ``updatedMin`` further back answers 410 ``updatedMinTooLongAgo``
    (Google: tombstones are kept for a limited, undocumented time). ``None``: no limit."""
    page_token_cache: int = 10_000
    """Number of frozen result snapshots kept for ``pageToken`` paging."""
    project_rpm: int = 10_000
    """Requests per minute per project (Google's legacy public quota)."""
    user_rpm: int = 600
    """Requests per minute per user per project."""
    channel_default_ttl: int = 604_800
    channel_max_ttl: int = 604_800
    require_https: bool = False
    """Google only delivers push notifications to HTTPS addresses with a valid certificate;
    the emulator accepts http:// (loopback tests have no public TLS) unless this is set."""
    verified_push_domains: tuple[str, ...] | None = None
    """Domains the project proved it owns: Google sends push notifications only there
    (its APIs-Google user agent's page), and ``events.watch`` to any other host answers
    401 ``push.webhookUrlUnauthorized``, "Unauthorized WebHook callback channel: <address>"
    (the status Google's Cloud Storage error table gives that reason). A host matches a
    domain or any name under it; ``None`` (the default) accepts every host, as loopback
    tests have no verified domain."""
    notification_timeout: float = 5.0
    notification_retries: int = 4
    notification_backoff: float = 0.05
    """First retry delay in seconds (doubled on each retry)."""
    max_instances: int = 730
    """Cap on instances generated for an unbounded recurrence."""
    max_batch_parts: int = 1000
    pretty_print: bool = False
    """Default for ``prettyPrint``. Google's default is true; compact output is several times
    faster to produce, and no client depends on the whitespace. ``prettyPrint`` wins."""
    gzip_responses: bool = True
    """gzip API responses when the request asks as Google's performance guide says
    (``Accept-Encoding: gzip`` and ``gzip`` in the ``User-Agent``, which
    google-api-python-client and aiogoogle both send)."""
    gzip_level: int = 1
    """zlib level for those responses (1: cheapest; clients only need valid gzip)."""
    fresh_key: bool = True
    """Generate a new RSA key; ``False`` reuses one key per process (fast test start-up;
    the key id and client email still differ per emulator)."""
    acl_change_invalidates_sync_tokens: bool = False
    """Google may invalidate sync tokens when ACLs change; set to emulate that."""
    public_base_url: str | None = None
    """Base URL written into ``resourceUri`` and the key's ``token_uri``; default: the bound one."""

    def merged(self, overrides: dict[str, Any]) -> EmulatorOptions:
        """A copy with ``overrides`` applied; unknown names raise ``TypeError`` naming them."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(f"unknown emulator setting(s): {', '.join(unknown)}")
        return replace(self, **overrides)
