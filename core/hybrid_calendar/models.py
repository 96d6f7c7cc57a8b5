"""Provider-neutral models passed between the core and plugins.

Plugins translate their wire formats into these dataclasses at the edge, so the engine
never sees a provider's JSON. All datetimes are timezone-aware (UTC unless stated).

Models are values: change one with :func:`dataclasses.replace`, never in place. They are
frozen, except the two built for every event of every sync (:class:`CalendarEvent`,
:class:`Attendee`): a frozen dataclass sets each field through ``object.__setattr__``,
which made building them ~40 % of event conversion (``docs/performance.md``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hybrid_calendar.store.base import UserContext


class UserState(enum.StrEnum):
    """Activation state of a user. Only ``ACTIVE`` users' calendars are ever read."""

    PENDING = "pending"
    """Activation requested, validation not started yet."""
    VALIDATING = "validating"
    """Validation running: token, calendar, settings, vacation responder, push channel
    (``hybrid_calendar.admin.policy``); stays here while the provider asks to retry."""
    ACTIVE = "active"
    """Validated; calendar watched and synced."""
    ERROR = "error"
    """Validation or access failed; ``User.reason`` says why. Not polled until re-activated."""
    INACTIVE = "inactive"
    """Deactivated by an admin; data purged, channels stopped."""


@dataclass(frozen=True, slots=True)
class Organisation:
    """A tenant: one Google Workspace domain with its service account and settings."""

    id: str
    name: str
    domain: str
    provider: str = "google"
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class User:
    """A person whose calendar the gateway may serve.

    ``email`` is in clear in memory only; the store keeps it encrypted with a blind index.
    """

    id: str
    org_id: str
    email: str
    state: UserState = UserState.PENDING
    reason: str | None = None
    provider: str = "google"
    locale: str | None = None
    timezone: str | None = None


@dataclass(slots=True)
class Attendee:
    """One invitee of an event."""

    email: str
    display_name: str | None = None
    response_status: str = "needsAction"
    organizer: bool = False
    resource: bool = False
    optional: bool = False
    calendar_owner: bool = False
    """This entry is the owner of the calendar the event was read from, whichever of the
    owner's addresses it was invited by (Google: ``attendees[].self``; an invitation to an
    alias keeps the alias as :attr:`email`)."""


@dataclass(frozen=True, slots=True)
class ConferenceEntryPoint:
    """One way into a conference, as in Google's ``conferenceData.entryPoints[]``."""

    kind: str
    """``video``, ``phone``, ``sip`` or ``more``."""
    uri: str
    label: str | None = None
    pin: str | None = None
    passcode: str | None = None
    meeting_code: str | None = None


@dataclass(frozen=True, slots=True)
class Conference:
    """Structured conference data attached to an event by the calendar provider."""

    solution: str | None
    """Provider's solution key, e.g. ``hangoutsMeet`` or ``addOn``."""
    conference_id: str | None = None
    entry_points: tuple[ConferenceEntryPoint, ...] = ()
    name: str | None = None


@dataclass(slots=True)
class CalendarEvent:
    """A calendar event or one instance of a recurring series, provider-neutral."""

    id: str
    calendar_id: str
    status: str
    """``confirmed``, ``tentative`` or ``cancelled``."""
    start: datetime | None
    end: datetime | None
    summary: str = ""
    description: str = ""
    location: str = ""
    all_day: bool = False
    organizer: str | None = None
    attendees: tuple[Attendee, ...] = ()
    conference: Conference | None = None
    recurring_event_id: str | None = None
    original_start: datetime | None = None
    recurrence: tuple[str, ...] = ()
    etag: str | None = None
    sequence: int = 0
    updated: datetime | None = None
    private_properties: Mapping[str, str] = field(default_factory=dict)
    html_link: str | None = None
    time_zone: str | None = None
    private: bool = False
    """The organiser marked the event's details private: shown only to its attendees
    and to people who may see all of the calendar's details, never where the public can
    read them (a room's touch panel). Google: ``visibility`` ``private`` or
    ``confidential``; ``default`` and ``public`` are not private (see
    ``docs/architecture.md``)."""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The provider's resource as received; for plugins, never stored in clear."""

    @property
    def cancelled(self) -> bool:
        """True for deleted events and cancelled instances."""
        return self.status == "cancelled"


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    """What ``fetch_changes`` returns: events changed since a cursor, and the next cursor.

    ``full_sync`` is true when the batch is a complete snapshot of the window: the engine
    then deletes every stored meeting of the user that is not in ``events``.
    """

    events: tuple[CalendarEvent, ...]
    next_cursor: str | None
    full_sync: bool


@dataclass(frozen=True, slots=True)
class JoinInfo:
    """How to join a meeting: found in an event, or created for a keyword."""

    provider: str
    """Lower-case service id: ``webex``, ``zoom``, ``teams``, ``meet``, ``sip``, ..."""
    url: str | None
    source: str
    """``conference``, ``location``, ``body``, or ``created`` for a keyword meeting."""
    dial: str | None = None
    """Dial string for SIP video devices, e.g. ``123456789@site.webex.com``."""
    meeting_id: str | None = None
    passcode: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class KeywordRequest:
    """A scheduling keyword found in an event's Location, e.g. ``@webex:onetime``."""

    keyword: str
    """The keyword without ``@``, lower-case: ``webex``, ``meet``."""
    action: str
    """Resolved action: ``personal_room``, ``onetime``, ``space``, ``meet``, ..."""
    modifier: str | None = None
    raw: str = ""
    """The exact token as typed, so it can be replaced in Location."""


@dataclass(frozen=True, slots=True)
class InviteUpdate:
    """Join details to write back into an invite."""

    location: str
    description: str
    marker: str
    """Value stored in ``extendedProperties.private`` (hash of the rendered block)."""
    locale: str = "en"
    conference: str | None = None
    """A conference the provider creates in the same write (Google Meet:
    ``hangoutsMeet``), asked for by ``JoinInfo.extra["conference"]``."""


@dataclass(frozen=True, slots=True)
class Channel:
    """A push-notification subscription for one user's calendar."""

    id: str
    user_id: str
    resource_id: str
    token: str
    expires_at: datetime
    provider: str = "google"


@dataclass(frozen=True, slots=True)
class OutOfOffice:
    """Vacation-responder state of a user."""

    enabled: bool
    start: datetime | None = None
    end: datetime | None = None
    message: str | None = None

    def active_at(self, when: datetime) -> bool:
        """True when the responder is on and ``when`` lies inside its optional window."""
        if not self.enabled:
            return False
        if self.start is not None and when < self.start:
            return False
        return not (self.end is not None and when >= self.end)


class NotificationKind(enum.StrEnum):
    """What ``deliver_notification`` carries."""

    MEETINGS_CHANGED = "meetings_changed"
    """A user's meetings list changed; payload has ``full_sync`` (read the list from the
    gateway's API or store)."""
    JOIN_BUTTON = "join_button"
    """A meeting starts soon; payload has ``event_id``, ``title``, ``start``, ``end`` and
    ``join`` (a :class:`JoinInfo` as JSON)."""
    PRESENCE = "presence"
    """Out-of-office presence changed; payload has ``out_of_office`` and ``until``."""
    JOIN_BUTTON_WITHDRAWN = "join_button_withdrawn"
    """A delivered Join button no longer holds, before its meeting ended: the meeting was
    cancelled, moved, declined by the user or lost its join information. Payload has
    ``event_id``, ``button`` (the withdrawn Join button's notification key: what a sink
    that delivered it knows it by), ``start``, ``end`` and ``reason`` (``cancelled``,
    ``moved``, ``declined`` or ``no_join``). Made only when a sink delivers this kind."""


@dataclass(frozen=True, slots=True)
class Notification:
    """One message for a user's apps and devices."""

    kind: NotificationKind
    user: User
    payload: Mapping[str, Any]
    key: str
    """Idempotency key: stable for the same message, so a sink delivers it at most once
    even when the core calls it again (delivery is at-least-once)."""


class DeliveryStatus(enum.StrEnum):
    """What a sink says about one delivery attempt (see :class:`DeliveryReceipt`)."""

    DELIVERED = "delivered"
    """The message reached the person's apps or devices (or had already, for this key)."""
    RETRY = "retry"
    """Not delivered now, worth trying again (rate limit, 5xx, network)."""
    FAILED = "failed"
    """Never deliverable as it stands (no account, refused); kept as a dead letter."""


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """A sink's answer to ``deliver_notification``. Build it with the class methods."""

    status: DeliveryStatus
    reason: str | None = None
    """Why it was not delivered, in words an admin can act on (no addresses, no text of
    the message)."""
    retry_after: float | None = None
    """Seconds to wait before the next attempt, when the remote said so (``RETRY``)."""

    @classmethod
    def delivered(cls) -> DeliveryReceipt:
        """The message reached the person (now, or earlier for the same key)."""
        return cls(DeliveryStatus.DELIVERED)

    @classmethod
    def retry_later(cls, reason: str, retry_after: float | None = None) -> DeliveryReceipt:
        """Not delivered now; the core retries with backoff (or after ``retry_after``)."""
        return cls(DeliveryStatus.RETRY, reason, retry_after)

    @classmethod
    def failed(cls, reason: str) -> DeliveryReceipt:
        """Not deliverable; the core keeps a dead letter with ``reason``."""
        return cls(DeliveryStatus.FAILED, reason)


class DeliveryState(enum.StrEnum):
    """Where the core's delivery of a notification stands, per sink and overall."""

    PENDING = "pending"
    """Not delivered yet: due, waiting for a retry, or no enabled sink delivers its kind."""
    DELIVERED = "delivered"
    """A sink returned a delivered receipt (overall: at least one did, none is pending)."""
    DEAD = "dead"
    """Failed permanently or gave up after ``notifications.max_attempts`` (a dead letter)."""
    SKIPPED = "skipped"
    """The sink does not serve this notification (it returned ``None``); overall: no sink
    served it."""


@dataclass(frozen=True, slots=True)
class SinkDelivery:
    """The core's record of one sink's delivery of one notification."""

    sink: str
    state: DeliveryState
    attempts: int = 0
    reason: str | None = None
    next_attempt_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A data key encrypted ("wrapped") by a KMS plugin's key-encryption key."""

    kms: str
    """Name of the KMS plugin that wrapped it, e.g. ``local`` or ``pkcs11``."""
    key_ref: str
    """Which key-encryption key and version wrapped it, e.g. ``kek-v3``."""
    blob: bytes
    """Opaque to the core: whatever the KMS needs to unwrap (nonce, ciphertext, tag)."""


@dataclass(frozen=True, slots=True)
class KmsStatus:
    """Health of the key management service, reported on ``/readyz``."""

    kms: str
    healthy: bool
    current_key_ref: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class QuotaUse:
    """One budget a plugin enforces on an organisation's calls, as it stands now.

    Reported through the ``report_quota`` hook; the admin API, the admin page and
    ``/metrics`` show it.
    """

    name: str
    """What is counted, in words, e.g. ``"google units/min (project: all organisations)"``
    or ``"webex requests/min"``."""
    used: int
    """Units counted in the window ending now."""
    limit: int
    """Units the budget allows per window."""
    window_seconds: float
    """Length of the window (60 for "per minute")."""


@dataclass(frozen=True, slots=True)
class AccessCheck:
    """Outcome of validating a user's calendar access on activation."""

    ok: bool
    reason: str | None = None
    """Why access failed, in words an admin can act on (no secrets, no addresses)."""
    locale: str | None = None
    timezone: str | None = None
    code: str | None = None
    """The stable reason code of a failure (``hybrid_calendar.admin.reasons.ReasonCode``:
    ``token_refused``, ``access_denied``, ``provider_not_configured``, ...)."""


@dataclass(frozen=True, slots=True)
class Meeting:
    """A meeting as the gateway keeps it for a user's meetings list (stored encrypted).

    ``event_id`` is the provider's event (or instance) id; ``(user_id, event_id)`` is unique.
    """

    user_id: str
    event_id: str
    calendar_id: str
    status: str
    start: datetime
    end: datetime
    title: str = ""
    description: str = ""
    location: str = ""
    organizer: str | None = None
    attendees: tuple[str, ...] = ()
    join: JoinInfo | None = None
    all_day: bool = False
    recurring_event_id: str | None = None
    etag: str | None = None
    marker: str | None = None
    html_link: str | None = None
    private: bool = False
    """The event's details are private (:attr:`CalendarEvent.private`): sinks never put
    its title, organiser or other details where the public can read them (a room's
    devices show the booking as "Booked", without organiser)."""
    declined: tuple[str, ...] = ()
    """The attendees (of :attr:`attendees`) who declined the invitation, as the calendar
    gives their response (Google: ``attendees[].responseStatus == "declined"``), and the
    user's own address when the user declined as another one (an alias: the attendee
    marked :attr:`Attendee.calendar_owner`). A meeting its user declined gets no Join
    button, and a room that declined it (a resource calendar refusing a conflict) no
    booking on its devices."""

    def declined_by(self, email: str) -> bool:
        """True when the attendee ``email`` (any case) declined the meeting."""
        if not self.declined:
            return False
        wanted = email.casefold()
        return any(address.casefold() == wanted for address in self.declined)

    def joinable_by(self, email: str) -> bool:
        """Whether the meeting gets a Join button for its user ``email``: it has join
        information, is neither cancelled nor all-day, and that user did not decline it
        (the one rule the scheduled buttons and the personal pages share)."""
        return (self.join is not None and self.status != "cancelled" and not self.all_day
                and not (self.declined and self.declined_by(email)))


@dataclass(frozen=True, slots=True)
class SyncState:
    """Where a user's sync stands."""

    user_id: str
    cursor: str | None = None
    last_sync_at: datetime | None = None
    out_of_office: bool | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """A durable background job (per-user sync, activation, ...)."""

    id: int
    kind: str
    key: str
    payload: Mapping[str, Any]
    attempts: int
    run_at: datetime
    context: UserContext | None = field(default=None, compare=False, repr=False)
    """For a ``sync`` job, its user with their organisation and sync state as the claim
    read them (:meth:`Store.get_user_context`, with the claim: one store round trip fewer
    per sync); ``None`` when the store did not read them (the handler reads them then)."""


@dataclass(frozen=True, slots=True)
class ScheduledNotification:
    """A notification in the core's outbox, due at ``due_at``.

    Join buttons carry their meeting (``event_id``, ``start``, ``end``: never delivered
    after the end); presence and meetings-list changes have ``event_id``, ``start`` and
    ``end`` set to ``None``. ``key`` makes delivery idempotent per sink.
    """

    key: str
    user_id: str
    event_id: str | None
    due_at: datetime
    start: datetime | None
    end: datetime | None
    payload: Mapping[str, Any]
    sent_at: datetime | None = None
    kind: NotificationKind = NotificationKind.JOIN_BUTTON
    state: DeliveryState = DeliveryState.PENDING
    deliveries: Mapping[str, SinkDelivery] = field(default_factory=dict)
    """Per-sink records, by sink (plugin) name."""
