"""The emulator's in-memory state and the Python API tests use to drive it.

Every API handler and every test helper goes through the methods here, under one
re-entrant lock, so "a user's edit" made by a test (:meth:`EmulatorState.patch_event`)
behaves exactly like the API call: new etag, sequence, sync-visible change, push message.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from hybrid_calendar_google_emulator.calendars import Calendar, Journal
from hybrid_calendar_google_emulator.event_ops import EventOperations
from hybrid_calendar_google_emulator.faults import Faults, Quota
from hybrid_calendar_google_emulator.listing import PageCache, SyncTokens
from hybrid_calendar_google_emulator.options import EmulatorOptions
from hybrid_calendar_google_emulator.push import ChannelRegistry, PushDispatcher, PushOptions
from hybrid_calendar_google_emulator.token_grants import ServiceAccountKey, TokenRegistry
from hybrid_calendar_google_emulator.users import RequestRecord, User


class EmulatorState(EventOperations):
    """All data of one emulator instance; thread-safe through :attr:`lock`."""

    def __init__(self, options: EmulatorOptions, base_url: str = "http://127.0.0.1") -> None:
        self.options = options
        self.lock = threading.RLock()
        self.base_url = base_url.rstrip("/")
        self.journal = Journal()
        self.key = ServiceAccountKey(options.project_id, self.public_url + "/token",
                                     fresh=options.fresh_key)
        self.tokens = TokenRegistry()
        self.sync_tokens = SyncTokens()
        self.pages = PageCache(options.page_token_cache)
        self.users: dict[str, User] = {}
        self.calendars: dict[str, Calendar] = {}
        self.aliases: dict[str, str] = {}
        self.channels = ChannelRegistry()
        self.push = PushDispatcher(PushOptions(
            timeout=options.notification_timeout, retries=options.notification_retries,
            backoff=options.notification_backoff))
        self.quota = Quota(options.project_rpm, options.user_rpm)
        self.faults = Faults()
        self.request_log: list[RequestRecord] = []
        for email in options.users:
            self.add_user(email)

    # -- set-up ---------------------------------------------------------------------------

    @property
    def public_url(self) -> str:
        """The base URL clients use (``public_base_url`` setting or the bound address)."""
        return (self.options.public_base_url or self.base_url).rstrip("/")

    def set_base_url(self, base_url: str) -> None:
        """Record the bound address (the key's ``token_uri`` follows it)."""
        self.base_url = base_url.rstrip("/")
        self.key.token_uri = self.public_url + "/token"

    @property
    def service_account_info(self) -> dict[str, str]:
        """The service-account key file JSON trusted by this emulator."""
        return self.key.info()

    def add_user(self, email: str) -> User:
        """Add a user of the domain with a primary calendar.

        :raises ValueError: when ``email`` is not in the emulated domain.
        """
        email = email.strip().lower()
        if not email.endswith("@" + self.options.domain.lower()):
            raise ValueError("user is not in the emulated domain")
        with self.lock:
            user = self.users.get(email)
            if user is None:
                user = self.users[email] = User(email)
                calendar = self.calendars[email] = Calendar(email, email)
                calendar.acl[f"user:{email}"] = {
                    "kind": "calendar#aclRule", "etag": '"00000000000000000000"',
                    "id": f"user:{email}", "scope": {"type": "user", "value": email},
                    "role": "owner"}
            return user

    def add_alias(self, alias: str, user_email: str) -> None:
        """Give a user an alternate address (a Workspace alias): invitations to it land on
        the user's calendar, where the attendee entry keeps the address it was invited by
        and is marked ``self``, as on Google.

        :raises ValueError: the alias is outside the emulated domain or is a user's
            primary address, or already belongs to another user.
        :raises ApiError: 404 for an unknown user.
        """
        alias = alias.strip().lower()
        if not alias.endswith("@" + self.options.domain.lower()):
            raise ValueError("alias is not in the emulated domain")
        with self.lock:
            primary = self.user(user_email).email
            if alias in self.users or self.aliases.get(alias, primary) != primary:
                raise ValueError("address already belongs to another user")
            self.aliases[alias] = primary

    # -- test controls --------------------------------------------------------------------

    def set_setting(self, user_email: str, setting: str, value: str) -> None:
        """Set a Calendar user setting (``locale``, ``timezone``, ...)."""
        with self.lock:
            self.user(user_email).settings[setting] = str(value)

    def set_vacation(self, user_email: str, vacation: dict[str, Any]) -> dict[str, Any]:
        """Replace the user's Gmail vacation responder settings (as updateVacation)."""
        from hybrid_calendar_google_emulator.gmail import normalise_vacation

        with self.lock:
            user = self.user(user_email)
            user.vacation = normalise_vacation(vacation)
            return copy.deepcopy(user.vacation)

    def invalidate_sync_tokens(self, user_email: str | None = None) -> None:
        """Make every sync token (of one user's calendar, or all) answer 410 from now on."""
        with self.lock:
            for calendar in self.calendars.values():
                if user_email is None or calendar.id == user_email.lower():
                    calendar.generation += 1

    def expire_access_tokens(self, user_email: str | None = None) -> int:
        """Expire issued bearer tokens now (API calls then answer 401)."""
        with self.lock:
            return self.tokens.expire(user_email.lower() if user_email else None)

    def revoke_delegation(self, user_email: str) -> None:
        """Remove the DWD grant for the user: token requests get ``unauthorized_client``."""
        with self.lock:
            self.user(user_email).delegated = False
            self.tokens.expire(user_email.lower())

    def restore_delegation(self, user_email: str) -> None:
        """Undo :meth:`revoke_delegation`."""
        with self.lock:
            self.user(user_email).delegated = True

    def suspend_user(self, user_email: str, suspended: bool = True) -> None:
        """Suspend (or reinstate) a user: token requests get ``invalid_grant``."""
        with self.lock:
            self.user(user_email).suspended = suspended
            if suspended:
                self.tokens.expire(user_email.lower())

    def log_request(self, record: RequestRecord) -> None:
        """Append to :attr:`request_log`."""
        self.request_log.append(record)

    def close(self) -> None:
        """Stop push delivery threads."""
        self.push.close()

    def bulk_seed(self, users: list[str], events_per_user: int, *, start: Any = None,
                  days: int = 30) -> int:
        """Fast path for benchmarks: create users and events without push; returns count."""
        from hybrid_calendar_google_emulator.seed import seed

        with self.lock:
            return seed(self, users, events_per_user, start=start, days=days)

    def control(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Apply a control document (see :mod:`hybrid_calendar_google_emulator.control`)."""
        from hybrid_calendar_google_emulator.control import apply_control

        return apply_control(self, spec)
