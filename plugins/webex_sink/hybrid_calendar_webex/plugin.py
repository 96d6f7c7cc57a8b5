"""Built-in ``webex`` plugin: the Webex sink's hook implementations.

* ``create_meeting`` answers the Webex keyword actions (``personal_room``, ``onetime``,
  ``space``) for any organiser (:mod:`.create`);
* ``follow_meeting`` keeps one-time meetings in step with their events (:mod:`.follow`);
* ``deliver_notification`` sends Join cards and sets out-of-office presence
  (:mod:`.delivery`);
* ``mirror_meetings`` puts bookings on room devices (:mod:`.bookings`);
* ``startup`` checks the Webex identity's scopes (:mod:`.readiness`), registers the
  webhooks received by ``register_routes``' route (:mod:`.webhooks`, :mod:`.reconcile`)
  and starts the periodic convergence of room devices (:mod:`.room_keeper`), which
  ``shutdown`` stops.

Configuration lives in the ``[webex]`` section (:mod:`.settings`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from hybrid_calendar import hookimpl
from hybrid_calendar.models import NotificationKind
from hybrid_calendar_webex import (
    bookings,
    context,
    create,
    delivery,
    follow,
    readiness,
    room_keeper,
    route_docs,
    settings,
    webhooks,
)
from hybrid_calendar_webex.settings import SECTION, SETTINGS

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from hybrid_calendar.config import Config, SettingSpec
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import (
        CalendarEvent,
        DeliveryReceipt,
        JoinInfo,
        KeywordRequest,
        Meeting,
        Notification,
        QuotaUse,
        User,
    )


@hookimpl
def register_settings(register: Callable[[SettingSpec], None]) -> None:
    """Declare the ``[webex]`` settings."""
    for spec in SETTINGS:
        register(spec)


@hookimpl
def check_config(config: Config, problem: Callable[[str, str], None]) -> None:
    """Check that the Webex credentials configured are complete (nothing configured is
    allowed: keywords then get a note saying Webex is not set up)."""
    for key, message in settings.credential_problems(config.section(SECTION)):
        problem(f"{SECTION}.{key}", message)


@hookimpl
def register_meeting_actions(register: Callable[[str], None]) -> None:
    """The Webex actions: ``personal_room``, ``onetime`` and ``space``."""
    for action in create.ACTIONS:
        register(action)


@hookimpl
def register_routes(gateway: Gateway, register: Callable[[BaseRoute], None]) -> None:
    """The Webex webhook receiver ``POST /webhooks/webex/{org}``."""
    register(webhooks.route(gateway))


@hookimpl
def describe_routes(register: Callable[[str, str, dict[str, Any]], None]) -> None:
    """Describe ``POST /webhooks/webex/{org_id}`` for ``/openapi.json``."""
    for path, method, operation in route_docs.routes():
        register(path, method, operation)


@hookimpl
def startup(gateway: Gateway) -> Awaitable[None]:
    """Check the Webex identity's scopes for each organisation (never fails start-up:
    the reason is logged and kept for health); start converging room devices."""
    room_keeper.start(gateway)
    return readiness.check_at_startup(gateway)


@hookimpl
def shutdown(gateway: Gateway) -> Awaitable[None]:
    """Stop converging room devices."""
    return room_keeper.stop(gateway)


@hookimpl
def report_health(gateway: Gateway, register: Callable[[str, bool, str | None], None]
                  ) -> None:
    """``webex:<org>`` per organisation checked: healthy, or the reason (a missing scope,
    a refused token, a de-authorised Service App)."""
    for org_id, reason in sorted(readiness.health(gateway).items()):
        register(f"webex:{org_id}", reason is None, reason)


@hookimpl
async def report_quota(gateway: Gateway, org_id: str, register: Callable[[QuotaUse], None]
                       ) -> None:
    """The organisation's Webex calls in the last minute against ``webex.rate_per_minute``
    (when Webex is configured), from the budget every call takes from."""
    ctx = context.context(gateway)
    if ctx.configured and await gateway.store.get_organisation(org_id) is not None:
        register(await ctx.budget.quota_use(org_id))


@hookimpl
def create_meeting(gateway: Gateway, user: User, event: CalendarEvent,
                   request: KeywordRequest) -> Awaitable[JoinInfo] | None:
    """A Personal Room, a one-time meeting or a space for the Webex keyword actions."""
    if request.action not in create.ACTIONS:
        return None
    return create.create_meeting(gateway, user, event, request)


@hookimpl
def follow_meeting(gateway: Gateway, user: User, event: CalendarEvent,
                   previous: Meeting | None) -> Awaitable[None]:
    """Update or delete the one-time Webex meeting of a changed or cancelled event."""
    return follow.follow_meeting(gateway, user, event, previous)


@hookimpl
def mirror_meetings(gateway: Gateway, user: User, meetings: Sequence[Meeting],
                    deleted: Sequence[str]) -> Awaitable[None]:
    """Put, rewrite or clear bookings on the devices of the rooms the meetings invite."""
    room_keeper.watch_engine(gateway)
    return bookings.mirror_meetings(gateway, user, meetings, deleted)


@hookimpl
def register_delivery_kinds(register: Callable[[NotificationKind], None]) -> None:
    """Join buttons (as Join cards, deleted again when withdrawn) and presence (personal
    assistant)."""
    for kind in delivery.KINDS:
        register(kind)


@hookimpl
def deliver_notification(gateway: Gateway, notification: Notification
                         ) -> Awaitable[DeliveryReceipt | None]:
    """Send a Join card or set the personal assistant; a receipt per attempt."""
    return delivery.deliver(gateway, notification)
