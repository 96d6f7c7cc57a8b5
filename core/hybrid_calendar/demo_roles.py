"""The two roles the demo's walkthrough drives and checks: a calendar and a meeting service.

The walkthrough (:mod:`hybrid_calendar.demo_mission`) knows no provider. The plugin that
runs the calendar service's emulator hands it a :class:`DemoCalendar` (put invitations in
people's calendars, read back what the gateway wrote there, turn on a vacation
responder); the plugin that runs the meeting service's emulator hands it a
:class:`DemoMeetingService` (what the emulator recorded: meetings made, spaces, Join
buttons received, room-device bookings, presence). Every check of ``demo --once`` reads
these recorded states, never the gateway's own account of what it did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Invite:
    """An invitation the walkthrough puts in its organiser's calendar.

    :ivar rooms: room (resource) calendars invited, as e-mail addresses.
    """

    organiser: str
    title: str
    start: datetime
    minutes: int = 30
    location: str = ""
    description: str = ""
    attendees: tuple[str, ...] = ()
    rooms: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredInvite:
    """An invitation as the calendar service holds it now (after the gateway's writes)."""

    location: str
    description: str


@dataclass(frozen=True)
class Joinable:
    """How to join something the meeting service recorded: link and video address."""

    url: str
    dial: str | None = None


@dataclass(frozen=True)
class Space:
    """A group space the meeting service recorded, with its members' e-mail addresses."""

    title: str
    link: Joinable | None
    members: tuple[str, ...]


@dataclass(frozen=True)
class RoomBooking:
    """A booking on a room's video device (which shows its own Join button at start)."""

    device: str
    title: str
    start: datetime
    dial: tuple[str, ...]


class DemoCalendar(Protocol):
    """The calendar service's emulator, as the walkthrough drives and reads it."""

    name: str
    """The service's name, as printed (``Google Calendar``)."""

    def add_invite(self, invite: Invite) -> str:
        """Put ``invite`` in its organiser's calendar (and the attendees'); return its id."""
        ...

    def stored_invite(self, organiser: str, event_id: str) -> StoredInvite:
        """The invitation as the organiser's calendar holds it now."""
        ...

    def set_locale(self, user: str, locale: str) -> None:
        """Set the language of ``user``'s calendar (what invites are written in)."""
        ...

    def set_vacation(self, user: str, start: datetime, end: datetime) -> None:
        """Turn on ``user``'s vacation responder from ``start`` to ``end``."""
        ...

    def watched(self, user: str) -> bool:
        """Whether the service holds a live change-notification channel on ``user``'s
        calendar (the gateway subscribed)."""
        ...


class DemoMeetingService(Protocol):
    """The meeting service's emulator, as the walkthrough reads it."""

    name: str
    """The service's name, as printed (``Webex``)."""
    schedule_keyword: str
    """The Location keyword that schedules a new meeting (``@webex:onetime``)."""
    personal_keyword: str
    """The Location keyword for the organiser's own standing room (``@webex``)."""
    space_keyword: str
    """The Location keyword that makes a group space (``@meet``)."""
    room: str
    """A room calendar's address whose video device the service knows."""

    def scheduled_meeting(self, host: str, title: str) -> Joinable | None:
        """The meeting the service scheduled for ``host`` titled ``title``, if any."""
        ...

    def personal_room(self, user: str) -> Joinable | None:
        """``user``'s personal room."""
        ...

    def space(self, title: str) -> Space | None:
        """The group space titled ``title``, if any."""
        ...

    def join_buttons(self, user: str) -> Sequence[str]:
        """The join links of the Join buttons ``user`` received in the service's app."""
        ...

    def room_bookings(self) -> Sequence[RoomBooking]:
        """The bookings on every room device."""
        ...

    def out_of_office(self, user: str) -> bool:
        """Whether the service shows ``user`` as out of office."""
        ...
