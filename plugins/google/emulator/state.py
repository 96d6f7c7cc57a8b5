"""The emulator's in-memory state and the Python API tests use to drive it.

Every API handler and every test helper goes through the methods here, under one
re-entrant lock, so "a user's edit" made by a test (:meth:`EmulatorState.patch_event`)
behaves exactly like the API call: new etag, sequence, sync-visible change, push message.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from hybrid_calendar_google.emulator import events as ev
from hybrid_calendar_google.emulator import invites
from hybrid_calendar_google.emulator.auth import ServiceAccountKey, TokenRegistry
from hybrid_calendar_google.emulator.calendars import (
    Calendar,
    Journal,
    new_event_id,
    valid_client_id,
)
from hybrid_calendar_google.emulator.errors import (
    bad_request,
    condition_not_met,
    deleted,
    duplicate,
    forbidden,
    not_found,
)
from hybrid_calendar_google.emulator.faults import Faults, Quota
from hybrid_calendar_google.emulator.instances import find_event
from hybrid_calendar_google.emulator.listing import PageCache, SyncTokens
from hybrid_calendar_google.emulator.push import ChannelRegistry, PushDispatcher, PushOptions
from hybrid_calendar_google.emulator.recurrence import occurrences
from hybrid_calendar_google.emulator.settings import EmulatorSettings
from hybrid_calendar_google.emulator.timeutil import event_time
from hybrid_calendar_google.emulator.users import RequestRecord, User


class EmulatorState:
    """All data of one emulator instance; thread-safe through :attr:`lock`."""

    def __init__(self, settings: EmulatorSettings, base_url: str = "http://127.0.0.1") -> None:
        self.settings = settings
        self.lock = threading.RLock()
        self.base_url = base_url.rstrip("/")
        self.journal = Journal()
        self.key = ServiceAccountKey(settings.project_id, self.public_url + "/token",
                                     fresh=settings.fresh_key)
        self.tokens = TokenRegistry()
        self.sync_tokens = SyncTokens()
        self.pages = PageCache(settings.page_token_cache)
        self.users: dict[str, User] = {}
        self.calendars: dict[str, Calendar] = {}
        self.channels = ChannelRegistry()
        self.push = PushDispatcher(PushOptions(
            timeout=settings.notification_timeout, retries=settings.notification_retries,
            backoff=settings.notification_backoff))
        self.quota = Quota(settings.project_rpm, settings.user_rpm)
        self.faults = Faults()
        self.request_log: list[RequestRecord] = []
        for email in settings.users:
            self.add_user(email)

    # -- set-up ---------------------------------------------------------------------------

    @property
    def public_url(self) -> str:
        """The base URL clients use (``public_base_url`` setting or the bound address)."""
        return (self.settings.public_base_url or self.base_url).rstrip("/")

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
        if not email.endswith("@" + self.settings.domain.lower()):
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

    def user(self, email: str) -> User:
        """The user with ``email``.

        :raises ApiError: 404 when unknown.
        """
        user = self.users.get(email.lower())
        if user is None:
            raise not_found()
        return user

    def calendar(self, calendar_id: str) -> Calendar:
        """The calendar ``calendar_id`` (an email address).

        :raises ApiError: 404 when unknown.
        """
        calendar = self.calendars.get(calendar_id.lower())
        if calendar is None:
            raise not_found()
        return calendar

    def timezone_of(self, calendar_id: str) -> str:
        """The owner's ``timezone`` setting (all-day events and default zone)."""
        user = self.users.get(calendar_id.lower())
        return user.settings.get("timezone", "UTC") if user else "UTC"

    # -- test controls --------------------------------------------------------------------

    def set_setting(self, user_email: str, setting: str, value: str) -> None:
        """Set a Calendar user setting (``locale``, ``timezone``, ...)."""
        with self.lock:
            self.user(user_email).settings[setting] = str(value)

    def set_vacation(self, user_email: str, vacation: dict[str, Any]) -> dict[str, Any]:
        """Replace the user's Gmail vacation responder settings (as updateVacation)."""
        from hybrid_calendar_google.emulator.gmail import normalise_vacation

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

    # -- events ---------------------------------------------------------------------------

    def _commit(self, calendar: Calendar, event: dict[str, Any], *, notify: bool = True,
                changed: set[str] | None = None) -> None:
        """Store a changed event, update invitation copies, and notify watchers."""
        previous = calendar.events.get(event["id"])
        calendar.store(event, self.journal.next())
        touched = {calendar.id} if changed is None else changed
        touched.add(calendar.id)
        if invites.organizer_of(event) == calendar.id:
            invites.propagate(self, calendar, event, previous, touched)
        else:
            invites.reply(self, calendar, event, touched)
        if notify and changed is None:
            for calendar_id in sorted(touched):
                self.notify(calendar_id)

    def notify(self, calendar_id: str) -> None:
        """Send an ``exists`` message on every live channel watching ``calendar_id``."""
        for channel in self.channels.for_calendar(calendar_id):
            self.push.send(channel, "exists")

    def insert_event(self, user_email: str, event: dict[str, Any], *,
                     calendar_id: str | None = None, conference_data_version: int = 1,
                     notify: bool = True) -> dict[str, Any]:
        """Create an event as ``user_email`` on ``calendar_id`` (default: their own)."""
        with self.lock:
            actor = self.user(user_email).email
            calendar = self.calendar(calendar_id or actor)
            event_id = event.get("id")
            if event_id is not None:
                if not valid_client_id(str(event_id)):
                    raise bad_request("Invalid resource id value.", location="id")
                if event_id in calendar.events:
                    raise duplicate()
            else:
                event_id = new_event_id()
            organizer = (event.get("organizer") or {}).get("email") or calendar.id
            resource = ev.build_event(
                event, calendar_id=calendar.id, organizer=organizer, actor=actor,
                event_id=str(event_id), stamp_us=self.journal.clock.tick(),
                default_tz=self.timezone_of(calendar.id),
                conference_version=conference_data_version,
                conference_requests=calendar.conference_requests)
            if resource.get("recurrence"):
                self._check_recurrence(resource, calendar.id)
            self._commit(calendar, resource, notify=notify)
            return ev.localize(copy.deepcopy(resource), self.timezone_of(calendar.id))

    def _check_recurrence(self, event: dict[str, Any], calendar_id: str) -> None:
        tz = self.timezone_of(calendar_id)
        next(occurrences(event["recurrence"], event_time(event["start"], tz, "start"),
                         event["start"].get("timeZone") or tz, limit=1), None)

    def find_event(self, calendar: Calendar, event_id: str) -> dict[str, Any] | None:
        """A stored event, or the generated instance for an instance id of a master."""
        return find_event(calendar, event_id, self.timezone_of(calendar.id))

    def get_event(self, user_email: str, event_id: str, *, calendar_id: str | None = None,
                  time_zone: str | None = None) -> dict[str, Any]:
        """An event (cancelled ones too, like events.get), times in ``time_zone``
        (default: the calendar's).

        :raises ApiError: 404.
        """
        with self.lock:
            calendar = self.calendar(calendar_id or user_email)
            found = self.find_event(calendar, event_id)
            if found is None:
                raise not_found()
            return ev.localize(copy.deepcopy(found), time_zone or self.timezone_of(calendar.id))

    def patch_event(self, user_email: str, event_id: str, changes: dict[str, Any], *,
                    calendar_id: str | None = None, if_match: str | None = None,
                    conference_data_version: int = 1, replace: bool = False
                    ) -> dict[str, Any]:
        """Apply a PATCH (or with ``replace``, an update) like the API; triggers push."""
        with self.lock:
            self.user(user_email)
            calendar = self.calendar(calendar_id or user_email)
            existing = self.find_event(calendar, event_id)
            if existing is None:
                raise not_found()
            if if_match is not None and if_match not in ("*", existing["etag"]):
                raise condition_not_met()
            if invites.organizer_of(existing) not in ("", calendar.id):
                shared = (changes.get("extendedProperties") or {}).get("shared")
                old_shared = (existing.get("extendedProperties") or {}).get("shared") or {}
                new_shared = dict(shared or {}) if replace else {**old_shared, **(shared or {})}
                if shared is not None and {k: v for k, v in new_shared.items()
                                           if v is not None} != old_shared:
                    raise forbidden("Shared properties can only be changed by the organizer "
                                    "of the event.", "forbiddenForNonOrganizer")
            resource = ev.update_event(
                existing, changes, calendar_id=calendar.id,
                stamp_us=self.journal.clock.tick(), default_tz=self.timezone_of(calendar.id),
                conference_version=conference_data_version,
                conference_requests=calendar.conference_requests, replace=replace)
            if resource.get("recurrence"):
                self._check_recurrence(resource, calendar.id)
            self._commit(calendar, resource)
            return ev.localize(copy.deepcopy(resource), self.timezone_of(calendar.id))

    def delete_event(self, user_email: str, event_id: str, *, calendar_id: str | None = None,
                     if_match: str | None = None) -> None:
        """Cancel an event (a master cancels its exceptions too); triggers push.

        :raises ApiError: 404 unknown, 410 ``deleted`` already cancelled, 412 etag mismatch.
        """
        with self.lock:
            self.user(user_email)
            calendar = self.calendar(calendar_id or user_email)
            existing = self.find_event(calendar, event_id)
            if existing is None:
                raise not_found()
            if existing.get("status") == "cancelled":
                raise deleted()
            if if_match is not None and if_match not in ("*", existing["etag"]):
                raise condition_not_met()
            stamp = self.journal.clock.tick()
            touched: set[str] = set()
            if existing.get("recurrence"):
                for exception in calendar.exceptions_of(event_id):
                    if exception.get("status") != "cancelled":
                        self._commit(calendar, ev.cancel_event(exception, stamp),
                                     changed=touched)
            self._commit(calendar, ev.cancel_event(existing, stamp), changed=touched)
            for calendar_id in sorted(touched):
                self.notify(calendar_id)

    def bulk_seed(self, users: list[str], events_per_user: int, *, start: Any = None,
                  days: int = 30) -> int:
        """Fast path for benchmarks: create users and events without push; returns count."""
        from hybrid_calendar_google.emulator.seed import seed

        with self.lock:
            return seed(self, users, events_per_user, start=start, days=days)

    def control(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Apply a control document (see :mod:`hybrid_calendar_google.emulator.control`)."""
        from hybrid_calendar_google.emulator.control import apply_control

        return apply_control(self, spec)
