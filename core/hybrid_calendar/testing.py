"""Conformance suites for plugin authors (the model is keyring's backend tests).

A calendar-provider plugin proves it keeps the core's contract by subclassing
:class:`ProviderTests` and writing one fixture, ``world``, that returns a
:class:`ProviderWorld`: a gateway with the provider enabled plus a way to act on the
remote calendar as its user would. Sinks subclass :class:`SinkTests` (from
:mod:`hybrid_calendar.sink_testing`, re-exported here); the KMS suite is
:class:`hybrid_calendar.crypto.testing.KeyStoreTests`.

Example (the Google plugin's own suite, against its emulator)::

    class TestGoogleProvider(ProviderTests):
        @pytest.fixture
        async def world(self, ...) -> AsyncIterator[ProviderWorld]:
            ...
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import ClassVar, Protocol

import pytest

from hybrid_calendar.errors import PluginError, SyncTokenExpiredError
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.join_info import MARKER_KEY
from hybrid_calendar.join_info.render import plan_invite_update
from hybrid_calendar.models import (
    CalendarEvent,
    ChangeBatch,
    Channel,
    InviteUpdate,
    JoinInfo,
    KeywordRequest,
    User,
)
from hybrid_calendar.sink_testing import SinkTests, SinkWorld


class ProviderWorld(Protocol):
    """The remote side of a provider, driven as its users would."""

    gateway: Gateway
    """A gateway with the provider plugin enabled and its store open."""
    user: User
    """An active user whose calendar the provider can read and write."""
    stranger: User
    """A user of the same organisation the provider does not know (no access)."""

    def add_event(self, summary: str, start: datetime, *, location: str = "",
                  description: str = "") -> str:
        """Create a 30-minute event in ``user``'s calendar; return its id."""
        ...

    def change_event(self, event_id: str, summary: str) -> None:
        """Rename an event, as the user would in a calendar client."""
        ...

    def remove_event(self, event_id: str) -> None:
        """Delete an event."""
        ...

    def expire_cursors(self) -> None:
        """Make every sync cursor handed out so far invalid (the provider's "410")."""
        ...

    def set_out_of_office(self, enabled: bool) -> None:
        """Turn the user's vacation responder on or off (open-ended)."""
        ...

    def set_locale(self, locale: str) -> None:
        """Set the language of the user's calendar (e.g. ``de``, ``pt_BR``)."""
        ...


def _soon(hours: float) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0)


def _by_id(batch: ChangeBatch) -> dict[str, CalendarEvent]:
    return {event.id: event for event in batch.events}


@pytest.mark.anyio
class ProviderTests:
    """What every calendar provider plugin must do. Subclass and provide ``world``.

    A provider that also creates meetings for scheduling keywords (``create_meeting``)
    lists the requests it serves in :attr:`meeting_requests`; with none declared, the
    creation test is skipped and the suite checks the provider answers no keyword.
    """

    meeting_requests: ClassVar[tuple[KeywordRequest, ...]] = ()
    """Keyword requests this provider's ``create_meeting`` serves, e.g.
    ``KeywordRequest("meet", "google_meet", raw="@meet")``."""

    @pytest.fixture
    def world(self) -> ProviderWorld:
        """Override: return a :class:`ProviderWorld` for the provider under test."""
        raise NotImplementedError("subclasses provide the `world` fixture")

    async def test_hook_fetch_changes_full_sync_is_a_snapshot_with_a_cursor(
            self, world: ProviderWorld) -> None:
        event_id = world.add_event("Conformance one", _soon(2), location="Room 1")
        gateway = world.gateway
        batch = await gateway.hooks.fetch_changes(gateway, world.user, None)
        assert batch.full_sync is True and batch.next_cursor
        event = _by_id(batch)[event_id]
        assert (event.summary, event.location, event.status) == (
            "Conformance one", "Room 1", "confirmed")
        assert event.start is not None and event.start.tzinfo is not None
        assert abs(event.start - _soon(2)) < timedelta(minutes=1)

    async def test_incremental_sync_returns_changes_and_tombstones(
            self, world: ProviderWorld) -> None:
        keep = world.add_event("Conformance keep", _soon(3))
        drop = world.add_event("Conformance drop", _soon(4))
        gateway = world.gateway
        first = await gateway.hooks.fetch_changes(gateway, world.user, None)
        world.change_event(keep, "Conformance kept")
        world.remove_event(drop)
        second = await gateway.hooks.fetch_changes(gateway, world.user, first.next_cursor)
        assert second.full_sync is False and second.next_cursor
        changed = _by_id(second)
        assert changed[keep].summary == "Conformance kept"
        assert changed[drop].cancelled
        third = await gateway.hooks.fetch_changes(gateway, world.user, second.next_cursor)
        assert [e for e in third.events if e.id in (keep, drop)] == []

    async def test_hook_get_event_reads_one_event_or_none(self, world: ProviderWorld) -> None:
        event_id = world.add_event("Conformance single", _soon(7), location="Room 7")
        gateway = world.gateway
        event = await gateway.hooks.get_event(gateway, world.user, event_id)
        assert event is not None and (event.id, event.location) == (event_id, "Room 7")
        assert await gateway.hooks.get_event(gateway, world.user, "doesnotexist0") is None

    async def test_expired_cursor_asks_for_a_full_sync(self, world: ProviderWorld) -> None:
        world.add_event("Conformance cursor", _soon(5))
        gateway = world.gateway
        batch = await gateway.hooks.fetch_changes(gateway, world.user, None)
        world.expire_cursors()
        with pytest.raises(SyncTokenExpiredError):
            await gateway.hooks.fetch_changes(gateway, world.user, batch.next_cursor)

    async def test_hook_check_access_passes_or_fails_with_a_reason(
            self, world: ProviderWorld) -> None:
        gateway = world.gateway
        good = await gateway.hooks.check_access(gateway, world.user)
        assert good.ok is True and good.reason is None
        bad = await gateway.hooks.check_access(gateway, world.stranger)
        assert bad.ok is False and bad.reason
        assert world.stranger.email not in bad.reason

    async def test_hook_read_out_of_office_follows_the_vacation_responder(
            self, world: ProviderWorld) -> None:
        gateway = world.gateway
        world.set_out_of_office(True)
        assert (await gateway.hooks.read_out_of_office(gateway, world.user)).active_at(
            datetime.now(UTC))
        world.set_out_of_office(False)
        assert not (await gateway.hooks.read_out_of_office(gateway, world.user)).enabled

    async def test_hook_update_invite_writes_once_and_is_a_fixpoint(
            self, world: ProviderWorld) -> None:
        event_id = world.add_event("Conformance invite", _soon(6), location="@webex",
                                   description="Agenda")
        gateway = world.gateway
        event = _by_id(await gateway.hooks.fetch_changes(gateway, world.user, None))[event_id]
        update = InviteUpdate(location="https://example.test/j/1",
                              description="Agenda\n\n[join block]", marker="m-1")
        written = await gateway.hooks.update_invite(gateway, world.user, event, update)
        assert (written.location, written.description) == (update.location,
                                                           update.description)
        assert written.private_properties.get(MARKER_KEY) == "m-1"
        again = await gateway.hooks.update_invite(gateway, world.user, written, update)
        assert again.etag == written.etag  # nothing written the second time

    async def test_hook_watch_calendar_returns_a_live_channel(
            self, world: ProviderWorld) -> None:
        gateway = world.gateway
        channel = await gateway.hooks.watch_calendar(gateway, world.user, "token-" + "x" * 40)
        assert channel.id and channel.resource_id and channel.user_id == world.user.id
        assert channel.expires_at > datetime.now(UTC)
        assert await gateway.hooks.stop_watch(gateway, world.user, channel) is True

    async def test_hook_stop_watch_stops_a_channel_even_when_gone(
            self, world: ProviderWorld) -> None:
        gateway = world.gateway
        channel = await gateway.hooks.watch_calendar(gateway, world.user, "token-" + "y" * 40)
        assert await gateway.hooks.stop_watch(gateway, world.user, channel) is True
        assert await gateway.hooks.stop_watch(gateway, world.user, channel) is True  # gone

    async def test_hook_read_locale_follows_the_calendar_setting(
            self, world: ProviderWorld) -> None:
        gateway = world.gateway
        for locale in ("de", "pt_BR"):
            world.set_locale(locale)
            assert await gateway.hooks.read_locale(gateway, world.user) == locale

    async def test_update_invite_after_a_concurrent_edit_keeps_the_edit(
            self, world: ProviderWorld) -> None:
        event_id = world.add_event("Conformance race", _soon(8), location="@webex")
        gateway = world.gateway
        stale = await gateway.hooks.get_event(gateway, world.user, event_id)
        assert stale is not None
        world.change_event(event_id, "Conformance renamed meanwhile")
        update = InviteUpdate(location="https://example.test/j/2",
                              description="[join block]", marker="m-2")
        written = await gateway.hooks.update_invite(gateway, world.user, stale, update)
        assert written.summary == "Conformance renamed meanwhile"  # not clobbered
        assert written.location == update.location
        assert written.private_properties.get(MARKER_KEY) == "m-2"
        assert written.etag != stale.etag
        stored = await gateway.hooks.get_event(gateway, world.user, event_id)
        assert stored is not None and stored.summary == "Conformance renamed meanwhile"
        assert stored.location == update.location

    async def test_create_meeting_serves_declared_keywords_once_per_event(
            self, world: ProviderWorld) -> None:
        if not self.meeting_requests:
            pytest.skip("the provider declares no meeting_requests")
        gateway = world.gateway
        for request in self.meeting_requests:
            event_id = world.add_event(f"Conformance {request.raw}", _soon(9),
                                       location=request.raw)
            event = await gateway.hooks.get_event(gateway, world.user, event_id)
            assert event is not None
            join = await gateway.hooks.create_meeting(gateway, world.user, event, request)
            assert join is not None and join.source == "created"
            if join.extra.get("conference"):  # made by the invite write itself
                await self._conference_made_in_one_write(world, event, join, request)
                continue
            assert join.url and join.url.startswith("https://")
            current = await gateway.hooks.get_event(gateway, world.user, event_id)
            assert current is not None
            if join.extra.get("event_etag"):
                assert current.etag == join.extra["event_etag"]
            again = await gateway.hooks.create_meeting(gateway, world.user, current, request)
            assert again is not None and again.url == join.url  # a retry makes no second one

    @staticmethod
    async def _conference_made_in_one_write(world: ProviderWorld, event: CalendarEvent,
                                            join: JoinInfo, request: KeywordRequest
                                            ) -> None:
        """A conference asked for in the invite write: that one write makes it (with an
        https way in), and the written event plans no second write."""
        gateway = world.gateway
        update = plan_invite_update(event, join, "en", request)
        assert update is not None and update.conference == join.extra["conference"]
        written = await gateway.hooks.update_invite(gateway, world.user, event, update)
        entries = written.conference.entry_points if written.conference else ()
        assert any(entry.uri.startswith("https://") for entry in entries)
        again = await gateway.hooks.create_meeting(gateway, world.user, written, request)
        assert again is not None and plan_invite_update(written, again, "en", request) is None

    async def test_hook_create_meeting_passes_on_keywords_it_does_not_serve(
            self, world: ProviderWorld) -> None:
        event_id = world.add_event("Conformance unknown keyword", _soon(10),
                                   location="@conformance")
        gateway = world.gateway
        event = await gateway.hooks.get_event(gateway, world.user, event_id)
        assert event is not None
        request = KeywordRequest("conformance", "conformance_only", raw="@conformance")
        assert await gateway.hooks.create_meeting(gateway, world.user, event, request) is None

    async def test_users_of_other_providers_are_left_alone(self, world: ProviderWorld
                                                           ) -> None:
        gateway = world.gateway
        hooks = gateway.hooks
        foreign = User(id="foreign", org_id=world.user.org_id, email=world.user.email,
                       provider="some-other-provider")
        event = CalendarEvent(id="e1", calendar_id="primary", status="confirmed",
                              start=_soon(1), end=_soon(2), location="@meet")
        channel = Channel(id="c1", user_id="foreign", resource_id="r1", token="t",
                          expires_at=_soon(24), provider="some-other-provider")
        update = InviteUpdate(location="x", description="y", marker="m")
        for call in (hooks.check_access(gateway, foreign),
                     hooks.fetch_changes(gateway, foreign, None),
                     hooks.watch_calendar(gateway, foreign, "t" * 40),
                     hooks.stop_watch(gateway, foreign, channel),
                     hooks.update_invite(gateway, foreign, event, update),
                     hooks.read_out_of_office(gateway, foreign)):
            with pytest.raises(PluginError, match="no plugin answered"):
                await call
        assert await hooks.get_event(gateway, foreign, "e1") is None
        assert await hooks.read_locale(gateway, foreign) is None
        for request in self.meeting_requests:
            assert await hooks.create_meeting(gateway, foreign, event, request) is None


__all__ = ["ProviderTests", "ProviderWorld", "SinkTests", "SinkWorld"]
