"""Event operations shared by the API handlers and the test API (a mixin of the state).

Every write goes through :meth:`EventOperations._commit`, which stores the new version
with a fresh change sequence, updates invitation copies, and sends push messages, so edits
made by tests behave exactly like API calls.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from hybrid_calendar_google_emulator import attendee_copies
from hybrid_calendar_google_emulator import events as ev
from hybrid_calendar_google_emulator.api_errors import (
    bad_request,
    condition_not_met,
    deleted,
    duplicate,
    forbidden,
    not_found,
)
from hybrid_calendar_google_emulator.calendars import (
    Calendar,
    Journal,
    new_event_id,
    valid_client_id,
)
from hybrid_calendar_google_emulator.instances import find_event
from hybrid_calendar_google_emulator.push import ChannelRegistry, PushDispatcher
from hybrid_calendar_google_emulator.recurrence import occurrences
from hybrid_calendar_google_emulator.timeutil import event_time, format_utc, stamp_to_datetime
from hybrid_calendar_google_emulator.users import User


class EventOperations:
    """Users, calendars and event reads/writes; mixed into :class:`EmulatorState`."""

    lock: threading.RLock
    journal: Journal
    users: dict[str, User]
    calendars: dict[str, Calendar]
    aliases: dict[str, str]
    """Alternate address of a user (lower case) to the user's primary address."""
    channels: ChannelRegistry
    push: PushDispatcher

    def home_of(self, address: str) -> Calendar | None:
        """The calendar an invitation to ``address`` lands on: the user's own for their
        primary address or one of their aliases; ``None`` outside the domain's users."""
        address = address.lower()
        return self.calendars.get(self.aliases.get(address, address))

    def owns(self, calendar_id: str, address: str) -> bool:
        """True when ``address`` is the owner of ``calendar_id``: its primary address or
        one of the owner's aliases."""
        address = address.lower()
        return self.aliases.get(address, address) == calendar_id

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

    def _commit(self, calendar: Calendar, event: dict[str, Any], *, notify: bool = True,
                changed: set[str] | None = None) -> None:
        """Store a changed event, update invitation copies, and notify watchers."""
        previous = calendar.events.get(event["id"])
        if self.aliases and event.get("attendees"):  # the owner invited by an alias is self
            for attendee in event["attendees"]:
                if self.owns(calendar.id, str(attendee.get("email", ""))):
                    attendee["self"] = True
        calendar.store(event, self.journal.next())
        touched = {calendar.id} if changed is None else changed
        touched.add(calendar.id)
        if attendee_copies.organizer_of(event) == calendar.id:
            attendee_copies.propagate(self, calendar, event, previous, touched)
        else:
            attendee_copies.reply(self, calendar, event, touched)
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
            if attendee_copies.organizer_of(existing) not in ("", calendar.id):
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

    def move_event(self, user_email: str, event_id: str, source_id: str, destination_id: str
                   ) -> dict[str, Any]:
        """events.move: the event leaves ``source_id`` (tombstone) for ``destination_id``.

        :raises ApiError: 404 unknown, 400 for instances and recurring exceptions.
        """
        with self.lock:
            source = self.calendar(source_id)
            destination = self.calendar(destination_id)
            existing = source.events.get(event_id)
            if existing is None or existing.get("status") == "cancelled":
                raise not_found()
            if existing.get("recurringEventId"):
                raise bad_request("Cannot change the organizer of an instance.",
                                  "cannotChangeOrganizerOfInstance")
            if event_id in destination.events and destination.id != source.id:
                raise duplicate()
            stamp = self.journal.clock.tick()
            touched: set[str] = set()
            moved = copy.deepcopy(existing)
            moved["organizer"] = {"email": destination.id, "self": True}
            moved["etag"] = ev.etag_for(stamp)
            moved["updated"] = format_utc(stamp_to_datetime(stamp))
            if destination.id != source.id:
                self._commit(source, ev.cancel_event(existing, stamp), changed=touched)
            self._commit(destination, moved, changed=touched)
            for calendar_id in sorted(touched):
                self.notify(calendar_id)
            return ev.localize(copy.deepcopy(moved), self.timezone_of(destination.id))
