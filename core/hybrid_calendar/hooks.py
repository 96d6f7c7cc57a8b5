"""The typed facade over ``pm.hook``: every hook call site of the core is here.

Reading this one file shows how data flows between the core and plugins. Each method
awaits implementations that return coroutines, so plugins may be sync or async.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from hybrid_calendar.errors import PluginError
from hybrid_calendar.models import DeliveryReceipt, NotificationKind, QuotaUse

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
        InviteUpdate,
        JoinInfo,
        KeywordRequest,
        KmsStatus,
        Meeting,
        Notification,
        OutOfOffice,
        User,
        WrappedKey,
    )

T = TypeVar("T")

log = logging.getLogger(__name__)


async def await_me_maybe(value: T | Awaitable[T]) -> T:
    """Await ``value`` if it is awaitable, else return it."""
    if inspect.isawaitable(value):
        return await value
    return value


class Hooks:
    """Typed access to every hook. Built around a :class:`pluggy.PluginManager`."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self._hook = pm.hook
        self._sink_kinds: tuple[tuple[object, ...], dict[str, frozenset[NotificationKind]]] \
            = ((), {})

    # set-up ------------------------------------------------------------------
    def register_settings(self, register: Callable[[SettingSpec], None]) -> None:
        self._hook.register_settings(register=register)

    def register_commands(self, register: Callable[
            [str, str, Callable[[argparse.ArgumentParser], None],
             Callable[[argparse.Namespace], int]], None]) -> None:
        self._hook.register_commands(register=register)

    def register_routes(self, gateway: Gateway, register: Callable[[BaseRoute], None]) -> None:
        self._hook.register_routes(gateway=gateway, register=register)

    def describe_routes(self, gateway: Gateway) -> list[tuple[str, str, dict[str, Any]]]:
        """Every plugin's route descriptions: ``(path, method, OpenAPI operation)``."""
        found: list[tuple[str, str, dict[str, Any]]] = []

        def register(path: str, method: str, operation: dict[str, Any]) -> None:
            found.append((str(path), str(method).lower(), dict(operation)))

        self._hook.describe_routes(gateway=gateway, register=register)
        return found

    async def startup(self, gateway: Gateway) -> None:
        """Run every plugin's ``startup`` in pluggy's call order; the first failure stops
        start-up with a :class:`PluginError` naming its plugin."""
        for plugin_name, call in self._per_plugin("startup", teardown=False):
            try:
                for result in call(gateway=gateway):
                    await await_me_maybe(result)
            except Exception as err:
                raise PluginError(plugin_name, f"startup failed: {err}") from err

    async def shutdown(self, gateway: Gateway) -> list[PluginError]:
        """Run every plugin's ``shutdown`` (in the reverse of start-up order), each even if
        another raised; return the failures, each naming its plugin."""
        errors: list[PluginError] = []
        for plugin_name, call in self._per_plugin("shutdown", teardown=True):
            try:
                for result in call(gateway=gateway):
                    await await_me_maybe(result)
            except Exception as err:  # every plugin gets to shut down
                failure = PluginError(plugin_name, f"shutdown failed: {err}")
                failure.__cause__ = err
                errors.append(failure)
        return errors

    def prepare_demo(self, demo: DemoSetup) -> list[DemoPart]:
        parts: list[DemoPart] = self._hook.prepare_demo(demo=demo)
        return parts

    async def report_health(self, gateway: Gateway) -> dict[str, dict[str, Any]]:
        """Every plugin's service health: name to ``{"healthy", "reason"}``."""
        found: dict[str, dict[str, Any]] = {}

        def register(name: str, healthy: bool, reason: str | None) -> None:
            found[str(name)] = {"healthy": bool(healthy), "reason": reason}

        for result in self._hook.report_health(gateway=gateway, register=register):
            await await_me_maybe(result)
        return found

    async def report_quota(self, gateway: Gateway, org_id: str) -> list[QuotaUse]:
        """Every budget the plugins enforce on ``org_id``'s calls, sorted by name; a
        plugin that fails is logged and left out (the others still report)."""
        found: list[QuotaUse] = []

        def register(use: QuotaUse) -> None:
            if not isinstance(use, QuotaUse):
                raise TypeError(f"report_quota registered {type(use).__name__}, "
                                "not a QuotaUse")
            found.append(use)

        for plugin_name, call in self._per_plugin("report_quota", teardown=False):
            try:
                for result in call(gateway=gateway, org_id=org_id, register=register):
                    await await_me_maybe(result)
            except Exception as err:  # a plugin's bug must not break health or /metrics
                log.warning("plugin %s failed to report quota of organisation %s: %s: %s",
                            plugin_name, org_id, type(err).__name__, err)
        return sorted(found, key=lambda use: use.name)

    # provider ----------------------------------------------------------------
    async def check_access(self, gateway: Gateway, user: User) -> AccessCheck:
        result: AccessCheck = await self._first("check_access", gateway=gateway, user=user)
        return result

    async def fetch_changes(self, gateway: Gateway, user: User, cursor: str | None
                            ) -> ChangeBatch:
        result: ChangeBatch = await self._first("fetch_changes", gateway=gateway, user=user,
                                                cursor=cursor)
        return result

    async def get_event(self, gateway: Gateway, user: User, event_id: str
                        ) -> CalendarEvent | None:
        result: CalendarEvent | None = await self._first("get_event", gateway=gateway,
                                                         user=user, event_id=event_id,
                                                         required=False)
        return result

    async def watch_calendar(self, gateway: Gateway, user: User, token: str) -> Channel:
        result: Channel = await self._first("watch_calendar", gateway=gateway, user=user,
                                            token=token)
        return result

    async def stop_watch(self, gateway: Gateway, user: User, channel: Channel) -> bool:
        return bool(await self._first("stop_watch", gateway=gateway, user=user,
                                      channel=channel))

    async def update_invite(self, gateway: Gateway, user: User, event: CalendarEvent,
                            update: InviteUpdate) -> CalendarEvent:
        result: CalendarEvent = await self._first("update_invite", gateway=gateway, user=user,
                                                  event=event, update=update)
        return result

    async def read_out_of_office(self, gateway: Gateway, user: User) -> OutOfOffice:
        result: OutOfOffice = await self._first("read_out_of_office", gateway=gateway,
                                                user=user)
        return result

    async def read_locale(self, gateway: Gateway, user: User) -> str | None:
        result: str | None = await self._first("read_locale", gateway=gateway, user=user,
                                               required=False)
        return result

    # join information --------------------------------------------------------
    def parse_join_info(self, event: CalendarEvent) -> list[JoinInfo]:
        found: list[JoinInfo] = []
        self._hook.parse_join_info(event=event, register=found.append)
        return found

    async def create_meeting(self, gateway: Gateway, user: User, event: CalendarEvent,
                             request: KeywordRequest) -> JoinInfo | None:
        result: JoinInfo | None = await self._first("create_meeting", gateway=gateway,
                                                    user=user, event=event, request=request,
                                                    required=False)
        return result

    async def follow_meeting(self, gateway: Gateway, user: User, event: CalendarEvent,
                             previous: Meeting | None) -> None:
        """Let every plugin update or delete the meetings it made for ``event``."""
        for result in self._hook.follow_meeting(gateway=gateway, user=user, event=event,
                                                previous=previous):
            await await_me_maybe(result)

    async def mirror_meetings(self, gateway: Gateway, user: User,
                              meetings: Sequence[Meeting], deleted: Sequence[str]) -> None:
        """Let every plugin mirror a user's changed meetings (each failure is logged)."""
        for name, call in self._per_plugin("mirror_meetings", teardown=False):
            try:
                for result in call(gateway=gateway, user=user, meetings=meetings,
                                   deleted=deleted):
                    await await_me_maybe(result)
            except Exception as err:  # a mirror never fails the sync
                log.warning("plugin %s failed to mirror meetings of user %s: %s: %s", name,
                            user.id, type(err).__name__, err)

    # delivery ----------------------------------------------------------------
    def sink_kinds(self) -> dict[str, frozenset[NotificationKind]]:
        """Each plugin implementing ``deliver_notification`` and the kinds it declared
        with ``register_delivery_kinds`` (asked one plugin at a time)."""
        impls = self._hook.deliver_notification.get_hookimpls()
        sinks: dict[str, frozenset[NotificationKind]] = {}
        for impl in impls:
            declared: list[NotificationKind] = []
            register = _kind_collector(impl.plugin_name, declared)
            self._only(impl.plugin, "register_delivery_kinds")(register=register)
            sinks[impl.plugin_name] = frozenset(declared)
        self._sink_kinds = (tuple(impl.plugin for impl in impls), sinks)
        return dict(sinks)

    def declared_sink_kinds(self) -> dict[str, frozenset[NotificationKind]]:
        """:meth:`sink_kinds`, asked again only when the registered sinks changed (every
        sync and delivery round reads it: ≈ 27 µs asked, ≈ 5 µs kept, with the built-in
        sinks)."""
        current = tuple(impl.plugin for impl in
                        self._hook.deliver_notification.get_hookimpls())
        cached_for, cached = self._sink_kinds
        return dict(cached) if cached_for == current and cached_for else self.sink_kinds()

    async def deliver_notification(self, gateway: Gateway, notification: Notification,
                                   sink: str) -> DeliveryReceipt | None:
        """Ask one sink (by plugin name) to deliver; its receipt, or ``None`` if it does
        not serve the notification."""
        plugin = self.pm.get_plugin(sink)
        if plugin is None:
            raise PluginError(sink, "is not a registered plugin")
        results = self._only(plugin, "deliver_notification")(gateway=gateway,
                                                             notification=notification)
        receipt = None
        for result in results:
            receipt = await await_me_maybe(result)
        if receipt is not None and not isinstance(receipt, DeliveryReceipt):
            raise PluginError(sink, f"deliver_notification returned {type(receipt).__name__}"
                                    ", not a DeliveryReceipt or None")
        return receipt

    # key management ----------------------------------------------------------
    async def wrap_key(self, gateway: Gateway, plaintext: bytes, context: bytes) -> WrappedKey:
        result: WrappedKey = await self._first("wrap_key", gateway=gateway,
                                               plaintext=plaintext, context=context)
        return result

    async def unwrap_key(self, gateway: Gateway, wrapped: WrappedKey, context: bytes) -> bytes:
        result: bytes = await self._first("unwrap_key", gateway=gateway, wrapped=wrapped,
                                          context=context)
        return result

    async def rotate_master_key(self, gateway: Gateway) -> str:
        result: str = await self._first("rotate_master_key", gateway=gateway)
        return result

    async def kms_status(self, gateway: Gateway) -> KmsStatus | None:
        result: KmsStatus | None = await self._first("kms_status", gateway=gateway,
                                                     required=False)
        return result

    # administration ------------------------------------------------------------
    def check_config(self, config: Config, problem: Callable[[str, str], None]) -> None:
        """Run every plugin's ``check_config``; an exception becomes a problem of its
        plugin."""
        for plugin_name, call in self._per_plugin("check_config", teardown=False):
            try:
                call(config=config, problem=problem)
            except Exception as err:
                problem(f"plugins.{plugin_name}", f"configuration check failed: {err}")

    def register_meeting_actions(self, register: Callable[[str], None]) -> None:
        self._hook.register_meeting_actions(register=register)

    # helpers -----------------------------------------------------------------
    def _per_plugin(self, name: str, *, teardown: bool
                    ) -> list[tuple[str, pluggy.HookCaller]]:
        """One ordinary pluggy hook caller per plugin implementing hook ``name``
        (:meth:`_only`), so each call is traced and a failure belongs to one plugin and
        cannot keep another's implementation from running. Call order is pluggy's
        (``tryfirst`` first, then the last registered); ``teardown`` reverses it.
        """
        caller: pluggy.HookCaller = getattr(self._hook, name)
        impls = caller.get_hookimpls()  # pluggy calls them last-first
        ordered = impls if teardown else list(reversed(impls))
        return [(impl.plugin_name, self._only(impl.plugin, name)) for impl in ordered]

    def _only(self, plugin: object, name: str) -> pluggy.HookCaller:
        """The hook caller of ``name`` restricted to one plugin (still traced)."""
        others = [p for p in self.pm.get_plugins() if p is not plugin]
        return self.pm.subset_hook_caller(name, remove_plugins=others)

    async def _first(self, name: str, *, required: bool = True, **kwargs: Any) -> Any:
        """Call a ``firstresult`` hook; await the answer; complain if nobody answers."""
        result = await await_me_maybe(getattr(self._hook, name)(**kwargs))
        if result is None and required:
            raise PluginError("(none)", f"no plugin answered hook {name!r}; "
                              "is the plugin that should be enabled in plugins.enabled?")
        return result


def _kind_collector(plugin_name: str, into: list[NotificationKind]
                    ) -> Callable[[NotificationKind], None]:
    """The ``register`` callback handed to one plugin's ``register_delivery_kinds``."""
    def register(kind: NotificationKind) -> None:
        try:
            into.append(NotificationKind(kind))
        except ValueError:
            raise PluginError(plugin_name, f"declared unknown notification kind {kind!r}"
                              ) from None
    return register
