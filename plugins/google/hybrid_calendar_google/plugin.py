"""Built-in ``google`` plugin: the Google Workspace calendar provider hooks.

Each hook answers only for users whose ``provider`` is ``google`` (it returns ``None``
synchronously for others, so another provider can answer) and adapts the framework-free
modules — :mod:`~hybrid_calendar_google.sync`, :mod:`~hybrid_calendar_google.invites`,
:mod:`~hybrid_calendar_google.channels`, :mod:`~hybrid_calendar_google.calendar_settings` —
to the core's dataclasses. Configuration lives in the ``[google]`` section.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from hybrid_calendar import hookimpl
from hybrid_calendar.config import Config, Secret, SettingSpec
from hybrid_calendar.errors import ConfigError
from hybrid_calendar_google import (
    calendar_settings,
    channels,
    invites,
    key_route,
    keys,
    meet,
    org_init,
    parse_join,
    push_inbox,
    push_supervisor,
    quota,
    route_docs,
    sync,
)
from hybrid_calendar_google.auth import DEFAULT_SCOPES, ServiceAccount
from hybrid_calendar_google.context import context, parse_key_json
from hybrid_calendar_google.webhook import WEBHOOK_PATH, webhook_route

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import (
        AccessCheck,
        CalendarEvent,
        ChangeBatch,
        Channel,
        InviteUpdate,
        OutOfOffice,
        QuotaUse,
        User,
    )

PROVIDER = "google"

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("google", "service_account_file", str, "",
                help="Path to the service-account key JSON (domain-wide delegation)."),
    SettingSpec("google", "service_account_json", Secret, "",
                help="The service-account key JSON itself (use $file:/$env: indirection)."),
    SettingSpec("google", "calendar_base_url", str, "https://www.googleapis.com/calendar/v3",
                help="Calendar API base URL (point at the emulator for tests and demos)."),
    SettingSpec("google", "gmail_base_url", str, "https://gmail.googleapis.com",
                help="Gmail API base URL (paths start with gmail/v1/)."),
    SettingSpec("google", "token_uri", str, "",
                help="OAuth token endpoint; empty uses the key file's token_uri."),
    SettingSpec("google", "scopes", list, list(DEFAULT_SCOPES),
                help="Scopes requested for every user; all must be delegated."),
    SettingSpec("google", "token_refresh_margin_seconds", float, 300.0, minimum=0.0,
                help="Mint a new access token this long before the old one expires."),
    SettingSpec("google", "page_size", int, 2500, minimum=1,
                help="events.list maxResults (Google's maximum is 2500)."),
    SettingSpec("google", "channel_ttl_seconds", int, 604800, minimum=60,
                help="Requested lifetime of push channels (Google caps it)."),
    SettingSpec("google", "marker_property", str, "",
                help="extendedProperties.private key of the gateway's marker; empty uses "
                     "the core's key (hybrid_calendar.join_info.render.MARKER_KEY)."),
    SettingSpec("google", "update_max_attempts", int, 3, minimum=1,
                help="Re-reads on HTTP 412 before update_invite gives up."),
    SettingSpec("google", "push_listen", str, "",
                help="host:port where a push receiver process of its own answers POST "
                     "/webhooks/google (recommended: answers never wait for the syncs; "
                     "docs/architecture.md); empty: the main port's route only."),
    SettingSpec("google", "push_address", str, "",
                help="HTTPS URL Google posts push notifications to; empty: <public_url>"
                     "/webhooks/google (route that path to push_listen in the proxy)."),
)


def _ours(user: User) -> bool:
    return user.provider == PROVIDER


@hookimpl
def register_settings(register: Callable[[SettingSpec], None]) -> None:
    """Declare the ``[google]`` settings (see :data:`SETTINGS`)."""
    for spec in SETTINGS:
        register(spec)


@hookimpl
def register_commands(register: Callable[..., None]) -> None:
    """Add ``hybrid-calendar google import-key`` (store a key as an encrypted org secret)
    and ``hybrid-calendar parse-join`` (join information of Google event JSON)."""
    register("google import-key", "store a service-account key for an organisation",
             keys.configure, keys.run)
    register("org init", "create an organisation with its domains and service-account key; "
             "print the delegation steps", org_init.configure, org_init.run)
    register("parse-join", "Print the join information of Google Calendar events (JSON "
             "on stdin).", parse_join.configure, parse_join.run)


@hookimpl
def check_config(config: Config, problem: Callable[[str, str], None]) -> None:
    """Check that a configured service-account key file or JSON parses and holds a
    usable private key (organisations' own keys are checked by ``org init``)."""
    settings = config.section("google")
    token_uri = str(settings["token_uri"])
    inline = settings["service_account_json"]
    text = inline.reveal() if isinstance(inline, Secret) else str(inline or "")
    try:
        if text:
            ServiceAccount.from_info(parse_key_json(text, "google.service_account_json"),
                                     token_uri)
        if settings["service_account_file"]:
            ServiceAccount.from_file(str(settings["service_account_file"]), token_uri)
    except ConfigError as err:
        problem(err.key, str(err).removeprefix(f"{err.key}: "))
    if settings.get("push_listen"):
        try:
            push_supervisor.parse_listen(str(settings["push_listen"]))
        except ConfigError as err:
            problem(err.key, str(err).removeprefix(f"{err.key}: "))
    from hybrid_calendar.admin.preflight import is_loopback  # config check only

    address = str(settings.get("push_address") or "")
    if address and not address.startswith(("https://", "http://")):
        problem("google.push_address", "is not an http(s) URL")
    elif address.startswith("http://") and not is_loopback(address):
        problem("google.push_address", "is plain http to another machine: Google sends push "
                                       "notifications only to https addresses (it refuses "
                                       "every channel with push.webhookUrlNotHttps); use "
                                       "https://")
    for key in ("token_uri", "calendar_base_url", "gmail_base_url"):
        url = str(settings.get(key) or "")
        if url.startswith("http://") and not is_loopback(url):
            problem(f"google.{key}", "is plain http to another machine: signed token "
                                     "requests and access tokens would cross the network in "
                                     "clear; use https://")


@hookimpl
def register_meeting_actions(register: Callable[[str], None]) -> None:
    """The plugin creates Google Meet conferences (action ``google_meet``)."""
    register(meet.ACTION)


@hookimpl
async def startup(gateway: Gateway) -> None:
    """Start the push receiver process when ``google.push_listen`` is set
    (:mod:`.push_supervisor`)."""
    await push_supervisor.start_receiver(gateway)


@hookimpl
def report_health(gateway: Gateway, register: Callable[[str, bool, str | None], None]
                  ) -> None:
    """Report the push receiver process (``google:push_receiver``) when there is one."""
    receiver = push_supervisor.receiver_of(gateway)
    if receiver is not None:
        register(push_supervisor.SERVICE, *receiver.health())


@hookimpl
async def shutdown(gateway: Gateway) -> None:
    """Stop the push receiver process and the push inbox's task (hints not yet queued
    are left to the catch-up)."""
    await push_supervisor.stop_receiver(gateway)
    held = gateway.state.get(push_inbox.STATE_KEY, push_inbox.PushInbox)
    if held is not None:
        await held.close()


@hookimpl
def register_routes(gateway: Gateway, register: Callable[[BaseRoute], None]) -> None:
    """Register the push-notification receiver ``POST /webhooks/google`` and the admin
    route storing an organisation's service-account key (:mod:`.key_route`)."""
    register(webhook_route(gateway))
    register(key_route.key_route(gateway))


@hookimpl
def describe_routes(register: Callable[[str, str, dict[str, Any]], None]) -> None:
    """Describe the plugin's two routes for ``/openapi.json``."""
    for path, method, operation in route_docs.routes():
        register(path, method, operation)


@hookimpl
async def report_quota(gateway: Gateway, org_id: str, register: Callable[[QuotaUse], None]
                       ) -> None:
    """The units taken from the gateway's project budget (shared by every organisation)
    and the busiest of the organisation's users against the per-user budget, read from
    the store the budgets are taken from (:func:`.quota.quota_report`)."""
    org = await gateway.store.get_organisation(org_id)
    if org is None or org.provider != PROVIDER:
        return
    users = await gateway.store.list_users(org_id=org_id)
    for use in await quota.quota_report(context(gateway).quota,
                                        [u.email for u in users if _ours(u)]):
        register(use)


@hookimpl
def check_access(gateway: Gateway, user: User) -> Awaitable[AccessCheck] | None:
    """Mint a token for the user and read locale and time zone; report what failed.

    Refused delegation, unknown or suspended users and 403s give ``ok=False`` with a
    reason an admin can act on; rate limits and 5xx (after retries) raise.
    """
    if not _ours(user):
        return None
    return calendar_settings.check_access(gateway, context(gateway), user)


@hookimpl
def fetch_changes(gateway: Gateway, user: User, cursor: str | None
                  ) -> Awaitable[ChangeBatch] | None:
    """Full sync of the retention window (``cursor=None``) or incremental sync."""
    if not _ours(user):
        return None

    async def run() -> ChangeBatch:
        ctx = context(gateway)
        client = await ctx.client(gateway, user)
        return await sync.fetch_changes(client, user.email, ctx.calendar_url, cursor,
                                        gateway.clock.now(), ctx.window)

    return run()


@hookimpl
def get_event(gateway: Gateway, user: User, event_id: str
              ) -> Awaitable[CalendarEvent | None] | None:
    """``events.get`` on the user's primary calendar; ``None`` when it does not exist."""
    if not _ours(user):
        return None
    return invites.get_event(gateway, context(gateway), user, event_id)


@hookimpl
def watch_calendar(gateway: Gateway, user: User, token: str) -> Awaitable[Channel] | None:
    """Create an ``events.watch`` channel on the user's primary calendar, pointed at this
    plugin's receiver: ``google.push_address``, or ``<gateway.public_url>/webhooks/google``
    when that is empty."""
    if not _ours(user):
        return None
    address = str(gateway.config.get("google", "push_address") or "") \
        or gateway.public_url(WEBHOOK_PATH)
    return channels.watch(gateway, context(gateway), user, address, token)


@hookimpl
def stop_watch(gateway: Gateway, user: User, channel: Channel) -> Awaitable[bool] | None:
    """``channels.stop``; ``True`` when stopped or already gone, ``False`` if refused."""
    if not _ours(user) or channel.provider != PROVIDER:
        return None
    return channels.stop(gateway, context(gateway), user, channel)


@hookimpl
def update_invite(gateway: Gateway, user: User, event: CalendarEvent, update: InviteUpdate
                  ) -> Awaitable[CalendarEvent] | None:
    """One ``events.update`` (1 quota unit) of the listed event with ``If-Match``:
    location, description, marker (and a Meet conference request); no-op if marked."""
    if not _ours(user):
        return None
    return invites.update_invite(gateway, context(gateway), user, event, update)


@hookimpl
def read_out_of_office(gateway: Gateway, user: User) -> Awaitable[OutOfOffice] | None:
    """Read the Gmail vacation responder."""
    if not _ours(user):
        return None
    return calendar_settings.read_out_of_office(gateway, context(gateway), user)


@hookimpl
def read_locale(gateway: Gateway, user: User) -> Awaitable[str | None] | None:
    """Read the Calendar ``locale`` setting."""
    if not _ours(user):
        return None
    return calendar_settings.read_locale(gateway, context(gateway), user)
