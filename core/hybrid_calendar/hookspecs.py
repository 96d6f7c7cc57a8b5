"""Hook specifications: the contract between the gateway core and its plugins.

Every hook is declared here with its docstring, which is the integrator's reference
(``docs/hooks.md`` is generated from these docstrings: ``hybrid-calendar docs hooks``).

Conventions:

* Implementations may return a value or a coroutine; the core awaits either.
* ``firstresult`` hooks stop at the first implementation that returns something other
  than ``None``. Return ``None`` (synchronously) to let another plugin answer: a provider
  plugin passes on users of another provider, a KMS plugin on keys it did not wrap.
* Hooks that hand over many things take a ``register`` callback instead of returning lists.
* ``gateway`` is the running :class:`hybrid_calendar.gateway.Gateway`, typed access to
  what plugins share: configuration, store, cipher, clock, shared ``httpx.AsyncClient``,
  public URL and the typed hook facade; ``gateway.state`` holds plugin-private values
  under the plugin's name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

from hybrid_calendar import PROJECT_NAME

if TYPE_CHECKING:
    import argparse

    from starlette.routing import BaseRoute

    from hybrid_calendar.config import Config, SettingSpec
    from hybrid_calendar.demo_setup import DemoPart, DemoSetup
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import (
        AccessCheck,
        CalendarEvent,
        ChangeBatch,
        Channel,
        DeliveryReceipt,
        InviteUpdate,
        JoinInfo,
        KeywordRequest,
        KmsStatus,
        Meeting,
        Notification,
        NotificationKind,
        OutOfOffice,
        QuotaUse,
        User,
        WrappedKey,
    )

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


# --------------------------------------------------------------------------- set-up


@hookspec
def register_settings(register: Callable[[SettingSpec], None]) -> None:
    """Declare the configuration keys a plugin reads.

    Called once when configuration is loaded, before it is validated. Each
    :class:`~hybrid_calendar.config.SettingSpec` names a section and key, its type, default
    and whether it is a secret. Unknown keys in a configuration file are errors, so a
    plugin must declare every key it reads.

    :param register: call once per setting.
    """


@hookspec
def register_commands(
    register: Callable[[str, str, Callable[[argparse.ArgumentParser], None],
                        Callable[[argparse.Namespace], int]], None],
) -> None:
    """Add sub-commands to the ``hybrid-calendar`` command line.

    Called when the CLI starts. ``register(name, help, configure, run)``: ``configure``
    adds arguments to the sub-command's parser, ``run`` executes it and returns the exit
    status. A name with a space (``"kms rotate"``) creates a command group.

    :param register: call once per command.
    """


@hookspec
def register_routes(gateway: Gateway, register: Callable[[BaseRoute], None]) -> None:
    """Add HTTP routes to the gateway's Starlette app.

    Called once when the app is built. A provider registers its push-notification
    receiver here (the Google plugin: ``/webhooks/google``) and points the channels it
    opens in :func:`watch_calendar` at it; a sink may register device endpoints.

    :param gateway: the gateway the routes serve.
    :param register: call once per Starlette route or mount.
    """


@hookspec
def describe_routes(gateway: Gateway,
                    register: Callable[[str, str, dict[str, Any]], None]) -> None:
    """Describe the HTTP routes a plugin registered, for the OpenAPI document.

    Called when the app is built (``/openapi.json`` is built once from it). Every
    implementation runs. Describe each route and method registered in
    :func:`register_routes`: the gateway logs a warning at start for a route nobody
    described, and the built-in plugins' tests check the document against the routes.
    ``hybrid_calendar.admin.openapi`` has helpers (``operation``, ``path_param``,
    ``query_param``, ``json_body``, ``ok``) and the shared ``Error`` schema
    (``#/components/schemas/Error``).

    :param gateway: the gateway the routes serve.
    :param register: ``register(path, method, operation)`` once per route and method:
        ``path`` as registered (``/webhooks/acme/{org}``), ``method`` in lower case
        (``"post"``), ``operation`` an OpenAPI 3.1 Operation Object listing every status
        the route answers. A route that needs no admin credential sets
        ``"security": []`` (or its own scheme).
    """


@hookspec
def startup(gateway: Gateway) -> Awaitable[None] | None:
    """Prepare a plugin's resources when the gateway starts.

    Called in the app's lifespan after the store is open, before the engine starts. Every
    implementation runs, in pluggy's call order (``tryfirst`` first, then the last
    registered); an exception stops the start-up with an error naming the plugin.

    :param gateway: the starting gateway.
    """


@hookspec
def shutdown(gateway: Gateway) -> Awaitable[None] | None:
    """Release a plugin's resources when the gateway stops.

    Called in the app's lifespan after the engine has stopped, in the reverse of start-up
    order. Every implementation runs, even if another raised; failures are logged with the
    plugin's name.

    :param gateway: the stopping gateway.
    """


@hookspec
def prepare_demo(demo: DemoSetup) -> DemoPart | None:
    """Start what a plugin contributes to ``hybrid-calendar demo``.

    Called once by the demo before the gateway is configured; every implementation runs.
    A plugin with something to show starts it here (an emulator seeded with events for
    ``demo.users``), registers its cleanup with ``demo.cleanup``, and returns the settings
    the gateway needs to use it. The demo enables each built-in ``<name>_emulator`` plugin
    next to an enabled ``<name>`` plugin, so an emulator plugin is the natural place.

    :param demo: the demo organisation (``domain``, ``users``), its data directory and
        start time, and the cleanup stack (:class:`~hybrid_calendar.demo_setup.DemoSetup`).
    :returns: a :class:`~hybrid_calendar.demo_setup.DemoPart` (settings by section, lines
        to print, optionally a ``report`` callable whose lines are printed after the
        walkthrough, and the walkthrough role the plugin plays: ``calendar`` or
        ``meeting_service``, answering from what its emulator recorded), or ``None`` when
        the plugin has no part in the demo.
    """


@hookspec
def report_health(gateway: Gateway, register: Callable[[str, bool, str | None], None]
                  ) -> Awaitable[None] | None:
    """Report the health of the remote services a plugin depends on, for ``/readyz``.

    Called on every ``/readyz`` request; keep it cheap (report what start-up or the last
    calls found, do not call the remote). Every implementation runs. What is reported
    appears under ``services`` in ``/readyz``; it does not make the gateway unready (the
    gateway still syncs calendars when a meeting service is unwell).

    :param gateway: the running gateway.
    :param register: ``register(name, healthy, reason)``, once per service (e.g.
        ``"webex:org1"``); ``reason`` says what to do when not healthy.
    """


@hookspec
def report_quota(gateway: Gateway, org_id: str, register: Callable[[QuotaUse], None]
                 ) -> Awaitable[None] | None:
    """Report each budget a plugin enforces on an organisation's outbound calls.

    Called for the admin API (``GET /api/v1/organisations/{id}/health``), the admin page
    and every ``/metrics`` scrape, once per organisation. Every implementation runs.
    Read the state that enforces the budget (e.g. the store's shared budgets,
    :meth:`Store.read_budgets <hybrid_calendar.store.base.Store.read_budgets>`), so what
    is reported holds for every process sharing the database; keep it cheap and never
    call the remote service. A budget shared by several organisations is reported for
    each of them, and its name says so.

    :param gateway: the running gateway.
    :param org_id: the organisation asked about.
    :param register: call once per budget with a :class:`~hybrid_calendar.models.QuotaUse`
        (name, units used in the window ending now, limit, window length).
    """


# --------------------------------------------------------------------------- calendar provider


@hookspec(firstresult=True)
def check_access(gateway: Gateway, user: User) -> Awaitable[AccessCheck] | None:
    """Validate that the gateway can read and write a user's calendar.

    Called when an admin activates a user, and again when a user in error state is retried.
    The provider owning ``user.provider`` answers; others return ``None``.

    :param gateway: the running gateway.
    :param user: the user being activated.
    :returns: an :class:`~hybrid_calendar.models.AccessCheck`; ``ok=False`` with a reason an
        admin can act on moves the user to error state. First result wins.
    """


@hookspec(firstresult=True)
def fetch_changes(gateway: Gateway, user: User, cursor: str | None
                  ) -> Awaitable[ChangeBatch] | None:
    """Fetch the events of a user's calendar that changed since ``cursor``.

    Called by the per-user sync job. With ``cursor=None`` the provider returns a full
    snapshot of the retention window (``full_sync=True``); otherwise only changes, with
    cancelled events as tombstones. Recurring series are returned as their instances in
    the window. The provider pages internally and returns the cursor for the next call.

    :param gateway: the running gateway.
    :param user: an active user of this provider.
    :param cursor: the cursor returned by the previous call, or ``None``.
    :returns: a :class:`~hybrid_calendar.models.ChangeBatch`. First result wins.
    :raises SyncTokenExpiredError: the cursor is no longer valid; the engine retries with
        ``cursor=None``.
    :raises AccessDeniedError: the user's calendar can no longer be read; the engine moves
        the user to error state.
    """


@hookspec(firstresult=True)
def get_event(gateway: Gateway, user: User, event_id: str
              ) -> Awaitable[CalendarEvent | None] | None:
    """Read one event (or the master of a recurring series) of a user's calendar.

    Called when a scheduling keyword is found on an instance of a recurring series, to
    see whether the keyword belongs to the whole series (then the series gets one meeting
    and the master is updated once) or to that instance alone.

    :param gateway: the running gateway.
    :param user: an active user of this provider.
    :param event_id: the event's id, e.g. a ``recurring_event_id``.
    :returns: the event, or ``None`` inside the awaitable when it does not exist.
        First result wins.
    """


@hookspec(firstresult=True)
def watch_calendar(gateway: Gateway, user: User, token: str) -> Awaitable[Channel] | None:
    """Subscribe to change notifications for a user's calendar.

    Called on activation and before an existing channel expires (renewal creates a new
    channel, then the old one is stopped). On activation the channel is also the proof
    that the user's calendar is readable (validation reads no event): raise a
    :class:`~hybrid_calendar.errors.ProviderError` with ``status=404`` when the calendar
    is not there for the user (the user's reason becomes ``calendar_unreadable``); any
    other refusal is ``channel_refused``. The provider builds the notification address
    itself: the gateway's public URL joined with the push route it registered in
    :func:`register_routes` (``gateway.public_url("/webhooks/acme")``). The core stores
    the returned channel (with a digest of ``token``); the provider's route looks it up
    with ``gateway.store.get_channel`` and checks the token before anything else.

    :param gateway: the running gateway.
    :param user: an active user of this provider.
    :param token: a random secret the provider must have echoed with every notification.
    :returns: the created :class:`~hybrid_calendar.models.Channel`. First result wins.
    """


@hookspec(firstresult=True)
def stop_watch(gateway: Gateway, user: User, channel: Channel) -> Awaitable[bool] | None:
    """Stop a change-notification channel.

    Called on deactivation and after a renewed channel replaced an old one.

    :param gateway: the running gateway.
    :param user: the channel's user.
    :param channel: the channel to stop.
    :returns: ``True`` when stopped (or already gone). First result wins.
    """


@hookspec(firstresult=True)
def update_invite(gateway: Gateway, user: User, event: CalendarEvent, update: InviteUpdate
                  ) -> Awaitable[CalendarEvent] | None:
    """Write join details back into an invite, idempotently.

    Called after a meeting was created for a keyword. The provider writes
    ``update.location`` and ``update.description`` and stores ``update.marker`` with the
    event (Google: ``extendedProperties.private``), creating ``update.conference`` in the
    same write when set, using the event's etag as a precondition and re-reading on
    conflict. If the event already carries the same marker it writes nothing.

    :param gateway: the running gateway.
    :param user: the organiser, whose copy is updated.
    :param event: the event as last read.
    :param update: what to write.
    :returns: the event as stored after the write. First result wins.
    """


@hookspec(firstresult=True)
def read_out_of_office(gateway: Gateway, user: User) -> Awaitable[OutOfOffice] | None:
    """Read a user's out-of-office (vacation responder) state.

    Called by the periodic presence poll for active users.

    :param gateway: the running gateway.
    :param user: an active user of this provider.
    :returns: an :class:`~hybrid_calendar.models.OutOfOffice`. First result wins.
    """


@hookspec(firstresult=True)
def read_locale(gateway: Gateway, user: User) -> Awaitable[str] | None:
    """Read the language a user's calendar is set to (e.g. ``de``, ``pt_BR``).

    Called before join details are rendered for an organiser.

    :param gateway: the running gateway.
    :param user: the organiser.
    :returns: a locale code; the core falls back to ``en``. First result wins.
    """


# --------------------------------------------------------------------------- join information


@hookspec
def parse_join_info(event: CalendarEvent, register: Callable[[JoinInfo], None]) -> None:
    """Find how to join a meeting from an event's conference data, location and body.

    Called for every stored event. Every implementation runs and registers the candidates
    it finds; the core ranks them (conference data, then location, then body; a longer URL
    wins a tie) and keeps the best. Join links are parsed, never fetched.

    :param event: the event to inspect.
    :param register: call once per :class:`~hybrid_calendar.models.JoinInfo` found.
    """


@hookspec(firstresult=True)
def create_meeting(gateway: Gateway, user: User, event: CalendarEvent,
                   request: KeywordRequest) -> Awaitable[JoinInfo] | None:
    """Create a meeting for a scheduling keyword (``@webex``, ``@meet``, ...).

    Called once per event carrying a keyword and no gateway marker. The plugin owning
    ``request.keyword`` answers; others return ``None``. Must be idempotent for the same
    event (use the event id as the request id) so a retry does not create two meetings.

    :param gateway: the running gateway.
    :param user: the organiser.
    :param event: the event with the keyword.
    :param request: keyword, modifier and resolved action.
    :returns: join information for the new meeting. A plugin that modified the event
        itself puts the event's new etag in ``extra["event_etag"]`` so the following
        invite update does not conflict. A meeting the calendar provider creates in the
        invite write itself (a Google Meet conference) is answered without a URL and with
        ``extra["conference"]`` naming the conference solution: the invite update then
        asks for it (``InviteUpdate.conference``), one write in all. First result wins.
    """


@hookspec
def follow_meeting(gateway: Gateway, user: User, event: CalendarEvent,
                   previous: Meeting | None) -> Awaitable[None] | None:
    """Keep a meeting made for a keyword in step with its calendar event.

    Called during the organiser's sync, before the change is stored, for each of the
    organiser's events that carries the gateway's marker and whose time, title or
    attendees differ from the stored meeting, and for each cancelled event (or cancelled
    instance) whose stored meeting carried the marker. Every implementation runs; each
    looks after the meetings it made (a Webex sink updates the meeting, or deletes it, or
    one occurrence of its series) and ignores the others.

    :param gateway: the running gateway.
    :param user: the organiser.
    :param event: the event as it now stands (a tombstone when cancelled: id, status and
        series fields only).
    :param previous: the meeting as stored before this sync (``None`` if there is none).
    :raises RateLimitError: or :class:`~hybrid_calendar.errors.TransientError`: the sync
        is retried later with its cursor unchanged, so the change is not lost. Other
        failures are logged; the change is stored anyway.
    """


@hookspec
def mirror_meetings(gateway: Gateway, user: User, meetings: Sequence[Meeting],
                    deleted: Sequence[str]) -> Awaitable[None] | None:
    """Mirror a user's stored meetings to another system (e.g. room-device bookings).

    Called after a sync of ``user`` stored its changes, when it added, changed or deleted
    a stored meeting, with the meetings that were added or changed (a meeting the sync
    found exactly as stored is not passed) and the ids of the events the sync saw deleted
    or cancelled. A sync that changed nothing (e.g. a full sync of an unchanged calendar)
    does not call it. When the user is deactivated it is called once more, with no
    meetings and every stored meeting's event id as deleted (the gateway stops following
    the calendar, so what was mirrored of it would go stale), before the meetings are
    deleted. Every implementation runs. A plugin keeps its own record of what it
    mirrored; failures are logged by the core and never fail the sync or the
    deactivation.

    :param gateway: the running gateway.
    :param user: the user whose calendar was synced.
    :param meetings: the changed meetings as stored (join information included).
    :param deleted: event ids no longer in the user's calendar (or cancelled): those the
        sync saw cancelled or moved out of the retention window, and those of stored
        meetings a full sync no longer found (deleted while the gateway was not told);
        on deactivation, every stored meeting's.
    """


# --------------------------------------------------------------------------- delivery


@hookspec
def register_delivery_kinds(register: Callable[[NotificationKind], None]) -> None:
    """Declare which kinds of notification a sink plugin delivers.

    Called for each plugin that implements :func:`deliver_notification`, when the gateway
    starts, for ``/readyz`` and for ``hybrid-calendar plugins``. The core calls a sink's
    :func:`deliver_notification` only for the kinds it declared here. A kind no enabled
    plugin declares is never marked delivered: its notifications stay pending (and are
    delivered once such a sink is enabled), and ``/readyz``, ``hybrid-calendar plugins``
    and the start-up log name it.

    :param register: call once per :class:`~hybrid_calendar.models.NotificationKind` the
        plugin delivers.
    """


@hookspec
def deliver_notification(gateway: Gateway, notification: Notification
                         ) -> Awaitable[DeliveryReceipt | None] | DeliveryReceipt | None:
    """Deliver a meetings-list change, a Join button (or its withdrawal, when the meeting no
    longer holds it) or a presence change to a user.

    Called by the core's outbox for each sink that declared ``notification.kind`` with
    :func:`register_delivery_kinds`, separately for each sink (a notification's sinks at
    once), so each answer is that sink's own.
    A sink that already delivered a notification is not called again for it; one that
    asked to retry is called again after a capped, jittered backoff (at least its
    ``retry_after``), up to ``notifications.max_attempts`` times. The core is the only
    layer that retries: a sink makes one attempt per call. A call that has not answered
    after ``notifications.sink_timeout_seconds`` is cancelled and counts as
    ``retry_later`` (a hung sink costs a retry, never a delivery slot for good).

    Delivery is at-least-once (a crash between the delivery and the core recording it
    repeats the call), so a sink must honour ``notification.key``: the same key reaches
    the person at most once, and a repeat answers "delivered" again.

    :param gateway: the running gateway.
    :param notification: what to deliver, to whom, with its idempotency key.
    :returns: a :class:`~hybrid_calendar.models.DeliveryReceipt`: ``delivered()`` once the
        message reached the person; ``retry_later(reason, retry_after)`` for a transient
        failure; ``failed(reason)`` when it can never be delivered (kept as a dead letter
        with the reason, visible in the admin API). ``None`` when the sink does not serve
        this notification (e.g. the person has no account there). Only a delivered receipt
        marks a notification delivered. An exception counts as ``retry_later``.
    """


# --------------------------------------------------------------------------- key management


@hookspec(firstresult=True)
def wrap_key(gateway: Gateway, plaintext: bytes, context: bytes
             ) -> Awaitable[WrappedKey] | None:
    """Encrypt a data key with the KMS's current key-encryption key.

    Called when a data key is created or rewrapped after rotation. Only the configured
    KMS plugin answers. The plaintext key must never be logged or stored.

    :param gateway: the running gateway.
    :param plaintext: the 32-byte data key.
    :param context: associated data binding the wrapped key to its owner; the same bytes
        must be passed to :func:`unwrap_key`.
    :returns: a :class:`~hybrid_calendar.models.WrappedKey`. First result wins.
    :raises KeyManagementError: the KMS is unreachable or refused.
    """


@hookspec(firstresult=True)
def unwrap_key(gateway: Gateway, wrapped: WrappedKey, context: bytes
               ) -> Awaitable[bytes] | None:
    """Decrypt a data key wrapped by :func:`wrap_key`.

    Called when a data key is first needed after start (the core caches it briefly). A
    plugin returns ``None`` for keys another KMS wrapped (``wrapped.kms``).

    :param gateway: the running gateway.
    :param wrapped: the wrapped key as stored.
    :param context: the same associated data given to :func:`wrap_key`.
    :returns: the plaintext data key. First result wins.
    :raises DecryptionError: the blob or context does not authenticate.
    :raises KeyManagementError: the KMS is unreachable, or the key version was destroyed.
    """


@hookspec(firstresult=True)
def rotate_master_key(gateway: Gateway) -> Awaitable[str] | None:
    """Create a new version of the key-encryption key and make it current.

    Called by ``hybrid-calendar kms rotate``. Old versions stay usable for unwrapping
    until the core has rewrapped every data key.

    :param gateway: the running gateway.
    :returns: the new key reference. First result wins.
    """


@hookspec(firstresult=True)
def kms_status(gateway: Gateway) -> Awaitable[KmsStatus] | None:
    """Report whether the KMS can wrap and unwrap right now.

    Called by ``/readyz`` and before the engine writes. An unhealthy KMS makes the gateway
    report not-ready and stop writing; it never falls back to clear text.

    :param gateway: the running gateway.
    :returns: a :class:`~hybrid_calendar.models.KmsStatus`. First result wins.
    """


# --------------------------------------------------------------------------- administration


@hookspec
def check_config(config: Config, problem: Callable[[str, str], None]) -> None:
    """Check what a plugin needs to start, beyond the types of its settings.

    Called by ``hybrid-calendar config check`` and by ``serve`` before anything is opened
    or written, so a configuration that ``config check`` passes starts. Check files (exist,
    readable, parse), keys and reachable services; never write, never print secrets.
    Every implementation runs.

    :param config: the validated configuration (types, choices and minimums already hold).
    :param problem: call ``problem("section.key", "what is wrong and how to fix it")``
        once per problem found; an exception is reported as a problem of the plugin.
    """


@hookspec
def register_meeting_actions(register: Callable[[str], None]) -> None:
    """Declare which keyword actions a plugin creates meetings for.

    Called by ``config check`` and ``serve`` before start: every action that
    ``join_info.keywords`` (or an organisation's keywords) maps a keyword to must be
    declared by an enabled plugin implementing :func:`create_meeting`, otherwise the
    keyword could never be served.

    :param register: call once per action (``"google_meet"``, ``"personal_room"``, ...).
    """


HOOK_NAMES: tuple[str, ...] = tuple(
    name for name, value in dict(globals()).items()
    if callable(value) and hasattr(value, f"{PROJECT_NAME}_spec")
)
"""Every hook declared in this module, in declaration order."""

__all__ = ["HOOK_NAMES", "hookspec"]

