"""User settings: access check on activation, Calendar locale, Gmail vacation responder."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from hybrid_calendar.errors import (
    AccessDeniedError,
    AuthError,
    ConfigError,
    ProviderError,
    RateLimitError,
    TransientError,
)
from hybrid_calendar.models import AccessCheck, OutOfOffice
from hybrid_calendar_google.client import GoogleClient
from hybrid_calendar_google.discovery import Calendar, Gmail

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import User
    from hybrid_calendar_google.context import GoogleContext


async def get_setting(client: GoogleClient, subject: str, base_url: str, name: str
                      ) -> str | None:
    """Read one Calendar setting; ``None`` when Google does not return it (404)."""
    try:
        data = await client.call(subject, Calendar.settings_get, base_url, setting=name)
    except ProviderError as err:
        if err.status == 404:
            return None
        raise
    value = data.get("value")
    return str(value) if value is not None else None


async def read_settings(client: GoogleClient, subject: str, base_url: str,
                        names: frozenset[str]) -> dict[str, str]:
    """Read the named Calendar settings with ``settings.list``: one call (one quota
    unit) for all of them, where ``settings.get`` costs one per setting. Google lists
    every setting of the user (about fifteen, a page holds up to 100); further pages are
    read only while a named setting is still missing. A setting Google does not list is
    absent from the result, as ``settings.get`` answers 404 for it."""
    found: dict[str, str] = {}
    page: str | None = None
    while True:
        data = await client.call(subject, Calendar.settings_list, base_url, pageToken=page)
        for item in data.get("items") or ():
            if isinstance(item, dict) and item.get("id") in names \
                    and item.get("value") is not None:
                found[str(item["id"])] = str(item["value"])
        token = data.get("nextPageToken")
        if not token or names <= found.keys() or str(token) == page:
            return found  # (a page token given back unchanged would never end)
        page = str(token)


ACCESS_SETTINGS = frozenset({"locale", "timezone"})
"""The Calendar settings activation stores with the user."""


async def check_access(gateway: Gateway, ctx: GoogleContext, user: User) -> AccessCheck:
    """Mint a token for ``user`` and read ``locale`` and ``timezone`` (one
    ``settings.list``).

    :returns: ``AccessCheck(ok=True, locale, timezone)`` or ``ok=False`` with an
        admin-actionable reason (never the address, the key or a token).
    :raises RateLimitError: Google kept rate-limiting after the retries.
    :raises TransientError: Google or the network kept failing after the retries.
    """
    try:
        client = await ctx.client(gateway, user)
        await client.tokens.token(user.email)
        settings = await read_settings(client, user.email, ctx.calendar_url, ACCESS_SETTINGS)
    except (RateLimitError, TransientError):
        raise
    except AuthError as err:
        return AccessCheck(ok=False, reason=str(err), code="token_refused")
    except AccessDeniedError as err:
        return AccessCheck(ok=False, reason=str(err), code="access_denied")
    except ConfigError as err:
        return AccessCheck(ok=False, reason=f"Google provider is not configured: {err}",
                           code="provider_not_configured")
    except ProviderError as err:
        return AccessCheck(ok=False, reason=f"Google refused the access check: {err}",
                           code="settings_unreadable")
    return AccessCheck(ok=True, locale=settings.get("locale"),
                       timezone=settings.get("timezone"))


async def read_locale(gateway: Gateway, ctx: GoogleContext, user: User) -> str | None:
    """The user's Calendar ``locale`` setting (``None`` if Google has none)."""
    client = await ctx.client(gateway, user)
    return await get_setting(client, user.email, ctx.calendar_url, "locale")


def _millis(value: object) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return datetime.fromtimestamp(int(str(value)) / 1000, UTC)
    except (TypeError, ValueError):
        return None


async def read_out_of_office(gateway: Gateway, ctx: GoogleContext, user: User) -> OutOfOffice:
    """The Gmail vacation responder (``users.settings.getVacation``).

    A user without a Gmail mailbox (400 ``failedPrecondition``) has no responder.
    """
    client = await ctx.client(gateway, user)
    try:
        data = await client.call(user.email, Gmail.get_vacation, ctx.gmail_url, userId="me")
    except ProviderError as err:
        if err.status == 400 and err.reason in {"failedPrecondition", "FAILED_PRECONDITION"}:
            return OutOfOffice(enabled=False)
        raise
    return OutOfOffice(enabled=bool(data.get("enableAutoReply", False)),
                       start=_millis(data.get("startTime")), end=_millis(data.get("endTime")),
                       message=data.get("responseSubject") or None)
