"""The emulator's in-memory state and the Python API tests use to drive it.

Every API handler and every test helper goes through this object under one re-entrant
lock, so "an administrator de-authorises the Service App" done by a test behaves exactly
like it would in Webex: tokens stop working and the ``serviceApp`` webhook fires.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from hybrid_calendar.clock import Clock, SystemClock
from hybrid_calendar_webex_emulator import webhooks
from hybrid_calendar_webex_emulator.auth import Grant, Integration, ServiceApp, TokenRegistry
from hybrid_calendar_webex_emulator.delivery import WebhookDelivery
from hybrid_calendar_webex_emulator.faults import Faults, RateLimits
from hybrid_calendar_webex_emulator.ids import IdFactory
from hybrid_calendar_webex_emulator.people import STATUSES, new_person
from hybrid_calendar_webex_emulator.quotas import MeetingCreateLimits
from hybrid_calendar_webex_emulator.settings import (
    ALL_SCOPES,
    BOT_SCOPES,
    SERVICE_APP_SCOPES,
    USER_SCOPES,
    WebexEmulatorSettings,
)

LONG_LIVED = timedelta(days=3650)
"""Lifetime of the tokens the emulator hands out directly (admin, people, bots)."""


def qualify(user: str, domain: str) -> str:
    """``alice`` -> ``alice@<domain>``; a full email stays (lower-cased)."""
    user = user.strip().lower()
    return user if "@" in user else f"{user}@{domain.lower()}"


class WebexState:
    """All data of one Webex emulator instance; thread-safe through :attr:`lock`."""

    def __init__(self, settings: WebexEmulatorSettings, clock: Clock | None = None,
                 base_url: str = "http://127.0.0.1") -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.lock = threading.RLock()
        self.base_url = base_url.rstrip("/")
        self.ids = IdFactory(settings.random_seed)
        self.org_id = self.ids.webex_id("ORGANIZATION")
        self.calling_license_id = self.ids.webex_id("LICENSE")
        self.meeting_license_id = self.ids.webex_id("LICENSE")
        self.location_id = self.ids.webex_id("LOCATION")
        self.tokens = TokenRegistry()
        self.rate_limits = RateLimits(settings.rate_limit_per_minute,
                                      settings.rate_limit_retry_after)
        self.faults = Faults()
        self.create_limits = MeetingCreateLimits(settings.meeting_create_limits)
        self.delivery = WebhookDelivery(
            settings.webhook_timeout,
            lambda webhook_id, ok: webhooks.record_outcome(self, webhook_id, ok))
        self.request_log: list[tuple[str, str, int]] = []
        self.people: dict[str, dict[str, Any]] = {}
        self.meetings: dict[str, dict[str, Any]] = {}
        self.meeting_instances: dict[str, dict[str, Any]] = {}
        self.rooms: dict[str, dict[str, Any]] = {}
        self.memberships: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.attachment_actions: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.workspaces: dict[str, dict[str, Any]] = {}
        self.devices: dict[str, dict[str, Any]] = {}
        self.bookings: dict[str, list[dict[str, Any]]] = {}
        self.personal_assistant: dict[str, dict[str, Any]] = {}
        self.sent_emails: list[dict[str, str]] = []
        """Emails Webex would have sent (``sendEmail``): meetingId, kind, to."""
        admin = self.add_person(settings.admin, roles=["full_admin"], calling=False)
        self.admin_id: str = admin["id"]
        self.admin_token = self.issue_token(settings.admin, ALL_SCOPES)
        calling = {qualify(e, settings.domain) for e in (settings.calling_users
                                        if settings.calling_users is not None
                                        else settings.users)}
        for email in settings.users:
            email = qualify(email, settings.domain)
            self.add_person(email, calling=email in calling)
        for index in range(settings.workspaces):
            from hybrid_calendar_webex_emulator.workspaces import add_workspace

            add_workspace(self, f"Room {index + 1}", f"room-{index + 1}@{settings.domain}")

    # -- set-up ---------------------------------------------------------------------------

    @property
    def public_url(self) -> str:
        """The base URL clients use (``public_base_url`` setting or the bound address)."""
        return (self.settings.public_base_url or self.base_url).rstrip("/")

    def set_base_url(self, base_url: str) -> None:
        """Record the bound address."""
        self.base_url = base_url.rstrip("/")

    def add_person(self, email: str, *, roles: list[str] | None = None, calling: bool = True,
                   display_name: str | None = None) -> dict[str, Any]:
        """Add a person of the organisation (idempotent by email).

        :raises ValueError: when ``email`` is not in the emulated domain.
        """
        email = email.strip().lower()
        if not email.endswith("@" + self.settings.domain.lower()):
            raise ValueError("person is not in the emulated domain")
        with self.lock:
            existing = self.person_by_email(email)
            if existing is not None:
                return existing
            person = new_person(self, email, roles=roles, calling=calling,
                                display_name=display_name)
            self.people[person["id"]] = person
            return person

    def person_by_email(self, email: str) -> dict[str, Any] | None:
        """The person with ``email`` (case-insensitive)."""
        email = email.strip().lower()
        return next((p for p in self.people.values() if email in p["emails"]), None)

    def person(self, id_or_email: str) -> dict[str, Any]:
        """A person by id or email.

        :raises KeyError: no such person.
        """
        found = self.people.get(id_or_email) or self.person_by_email(id_or_email)
        if found is None:
            raise KeyError(id_or_email)
        return found

    def issue_token(self, id_or_email: str, scopes: tuple[str, ...] | list[str] = USER_SCOPES,
                    ttl: timedelta = LONG_LIVED) -> str:
        """A personal access token for a person or bot (tests act as that person)."""
        with self.lock:
            person = self.person(id_or_email)
            grant = self.tokens.issue(person["id"], frozenset(scopes),
                                      self.clock.now() + ttl,
                                      kind="bot" if person["type"] == "bot" else "user")
            return grant.token

    def create_bot(self, name: str, username: str) -> tuple[dict[str, Any], str]:
        """A bot (``username@webex.bot``) and its token (an existing bot gets a new token)."""
        with self.lock:
            existing = self.person_by_email(f"{username}@webex.bot")
            if existing is not None:
                return existing, self.issue_token(existing["id"], BOT_SCOPES)
            bot = new_person(self, f"{username}@webex.bot", kind="bot", display_name=name)
            self.people[bot["id"]] = bot
            return bot, self.issue_token(bot["id"], BOT_SCOPES)

    def create_integration(self, redirect_uri: str, scopes: list[str] | None = None,
                           name: str = "Integration") -> Integration:
        """Register an OAuth integration (as on developer.webex.com)."""
        with self.lock:
            integration = Integration(self.ids.hex32() + self.ids.hex32(),
                                      self.ids.hex32() + self.ids.hex32(), [redirect_uri],
                                      list(scopes or ALL_SCOPES), name)
            self.tokens.integrations[integration.client_id] = integration
            return integration

    def create_service_app(self, name: str = "Service App",
                           scopes: list[str] | None = None,
                           owner: str | None = None) -> ServiceApp:
        """Register a Service App (not yet authorised by an administrator)."""
        with self.lock:
            machine = new_person(self, f"{self.ids.hex32()[:12]}@{self.settings.domain}",
                                 kind="appuser", display_name=name)
            self.people[machine["id"]] = machine
            app = ServiceApp(self.ids.webex_id("APPLICATION"),
                             self.ids.hex32() + self.ids.hex32(),
                             self.ids.hex32() + self.ids.hex32(), machine["id"],
                             self.person(owner)["id"] if owner else self.admin_id,
                             list(scopes or SERVICE_APP_SCOPES), name)
            self.tokens.service_apps[app.application_id] = app
            return app

    def _service_app_event(self, app: ServiceApp, event: str) -> None:
        data = {"id": app.application_id, "applicationId": app.application_id,
                "orgId": self.org_id, "clientId": app.client_id}
        webhooks.fire(self, "serviceApp", event, data, self.admin_id,
                      {app.owner_id, app.person_id})

    def authorize_service_app(self, application_id: str) -> None:
        """A full administrator authorises the app in Control Hub (fires ``authorized``)."""
        with self.lock:
            app = self.tokens.service_apps[application_id]
            app.authorized = True
            self._service_app_event(app, "authorized")

    def deauthorize_service_app(self, application_id: str) -> int:
        """De-authorise the app: its tokens answer 401 and ``deauthorized`` fires."""
        with self.lock:
            app = self.tokens.service_apps[application_id]
            app.authorized = False
            revoked = self.tokens.revoke_client(app.client_id)
            self._service_app_event(app, "deauthorized")
            return revoked

    def app_id_for(self, grant: Grant) -> str:
        """The ``appId`` of whatever the grant was issued to."""
        return grant.client_id or "emulator-personal-access-token"

    # -- test controls --------------------------------------------------------------------

    def set_status(self, id_or_email: str, status: str) -> dict[str, Any]:
        """Set a person's read-only ``status`` (stands in for Webex's presence service).

        :raises ValueError: unknown status; :raises KeyError: unknown person.
        """
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        with self.lock:
            person = self.person(id_or_email)
            person["status"] = status
            return person

    def expire_tokens(self, id_or_email: str | None = None) -> int:
        """Expire access tokens now (API calls then answer 401)."""
        with self.lock:
            person_id = self.person(id_or_email)["id"] if id_or_email else None
            return self.tokens.expire(person_id)

    def received_messages(self, id_or_email: str) -> list[dict[str, Any]]:
        """Messages in spaces the person belongs to, sent by someone else, oldest first."""
        from hybrid_calendar_webex_emulator.messages import public_message

        with self.lock:
            person_id = self.person(id_or_email)["id"]
            rooms = {m["roomId"] for m in self.memberships.values()
                     if m["personId"] == person_id}
            return [public_message(m) for m in self.messages.values()
                    if m["roomId"] in rooms and m["personId"] != person_id]

    def device_bookings(self, device_id: str) -> list[dict[str, Any]]:
        """The device's current bookings (what ``Bookings.List`` shows).

        :raises KeyError: unknown device.
        """
        with self.lock:
            if device_id not in self.devices:
                raise KeyError(device_id)
            return [dict(b) for b in self.bookings.get(device_id, [])]

    def log_request(self, method: str, path: str, token: str | None, status: int) -> None:
        """Append to :attr:`request_log` (method, path, status; tokens are not kept)."""
        self.request_log.append((method, path, status))

    def wait_for_webhooks(self, timeout: float = 5.0) -> bool:
        """Block until queued webhook deliveries were attempted."""
        return self.delivery.wait_idle(timeout)

    def control(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Apply a control document (see :mod:`hybrid_calendar_webex_emulator.control`)."""
        from hybrid_calendar_webex_emulator.control import apply_control

        return apply_control(self, spec)

    def close(self) -> None:
        """Stop the webhook worker."""
        self.delivery.close()
