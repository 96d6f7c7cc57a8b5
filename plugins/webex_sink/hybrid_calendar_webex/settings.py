"""The ``[webex]`` settings of the Webex sink.

Credentials, first match wins (see :mod:`.tokens`):

1. a Service App: ``service_app_id``, ``client_id``, ``client_secret`` and, once, an
   ``applications_token`` (a full administrator's token with ``spark:applications_token``)
   to fetch the app's first token pair; the pair is then kept encrypted in the store and
   refreshed with the client id and secret;
2. an admin integration token: ``access_token`` (with ``refresh_token``, ``client_id`` and
   ``client_secret`` it is refreshed before it expires).

The Join card is sent by a bot (``bot_token``): a Service App cannot post messages.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlparse

from hybrid_calendar.config import Secret, SettingSpec

SECTION = "webex"

REQUIRED_SCOPES: tuple[str, ...] = (
    "meeting:admin_schedule_read", "meeting:admin_schedule_write",
    "meeting:admin_preferences_read", "spark-admin:people_read",
)
"""Scopes without which no keyword meeting can be made for the organisation's people."""

OPTIONAL_SCOPES: tuple[str, ...] = (
    "spark-admin:workspaces_read", "spark-admin:devices_read", "spark:xapi_commands",
    "spark-admin:telephony_config_write",
)
"""Scopes of the room-device bookings and the personal assistant (reported if missing)."""

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(SECTION, "api_base_url", str, "https://webexapis.com/v1",
                help="Webex REST API base URL (point at the emulator for tests and demos)."),
    SettingSpec(SECTION, "service_app_id", str, "",
                help="Service App application id (Control Hub authorised it)."),
    SettingSpec(SECTION, "client_id", str, "",
                help="Client id of the Service App or integration (token refresh)."),
    SettingSpec(SECTION, "client_secret", Secret, "",
                help="Client secret of the Service App or integration."),
    SettingSpec(SECTION, "target_org_id", str, "",
                help="Webex organisation id the Service App acts in (empty: the app's own)."),
    SettingSpec(SECTION, "applications_token", Secret, "",
                help="A full administrator's token with spark:applications_token, used "
                     "once to fetch the Service App's first token pair."),
    SettingSpec(SECTION, "access_token", Secret, "",
                help="An admin integration access token (instead of a Service App)."),
    SettingSpec(SECTION, "refresh_token", Secret, "",
                help="Refresh token of access_token (with client_id and client_secret)."),
    SettingSpec(SECTION, "bot_token", Secret, "",
                help="Token of the bot that sends Join cards and owns @meet spaces."),
    SettingSpec(SECTION, "site_url", str, "",
                help="Webex site for meetings (empty: the host's default site)."),
    SettingSpec(SECTION, "rate_per_minute", int, 300, minimum=1,
                help="Webex calls per minute per organisation (every call waits for budget)."),
    SettingSpec(SECTION, "token_refresh_margin_seconds", float, 3600.0, minimum=0.0,
                help="Refresh an access token this long before it expires."),
    SettingSpec(SECTION, "join_cards", bool, True,
                help="Send Join cards (bot messages) at start minus the lead time."),
    SettingSpec(SECTION, "room_bookings", bool, True,
                help="Put bookings (Join buttons) on the devices of rooms linked to Webex "
                     "workspaces (see Cisco's licence note in docs/webex.md)."),
    SettingSpec(SECTION, "hidden_title_rooms", list, [],
                help="Room calendar addresses whose device bookings show 'Booked' instead "
                     "of the meeting's title."),
    SettingSpec(SECTION, "webhooks", bool, True,
                help="Register serviceApp and meetings webhooks at start-up (they need "
                     "gateway.public_url to reach the gateway)."),
    SettingSpec(SECTION, "presence", bool, True,
                help="Set the personal assistant to OUT_OF_OFFICE for Calling users."),
)


def _set(value: object) -> bool:
    return bool(value.reveal() if isinstance(value, Secret) else value)


def credential_problems(section: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(key, what is wrong)`` for incomplete Webex credentials and a bad API URL."""
    url = urlparse(str(section.get("api_base_url") or ""))
    if url.scheme not in ("http", "https") or not url.netloc:
        yield "api_base_url", "must be an http(s) URL, e.g. https://webexapis.com/v1"
    client = _set(section.get("client_id")) and _set(section.get("client_secret"))
    if _set(section.get("service_app_id")) and not client:
        yield "client_id", "a Service App needs webex.client_id and webex.client_secret"
    if _set(section.get("refresh_token")) and not client:
        yield "refresh_token", ("refreshing webex.access_token needs webex.client_id and "
                                "webex.client_secret")
    if _set(section.get("service_app_id")) and _set(section.get("access_token")):
        yield "access_token", "set either webex.service_app_id or webex.access_token"
