"""Store suite, part 2: sync state, meetings with their cursor, retention, forgetting a user."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from hybrid_calendar.models import Channel, DeliveryState, Meeting, SyncState, User, UserState
from hybrid_calendar.store.base import ApplyResult, Store, UserContext
from hybrid_calendar.store.testing.samples import (
    ALICE,
    BOB,
    CAROL,
    ORG,
    OTHER_ORG,
    join_button,
    meeting,
    presence,
    seed,
)
from hybrid_calendar.store.testing.support import NOW, StoreFixtures, covers

DAY = timedelta(days=1)


async def _event_ids(store: Store, *, user: User = ALICE) -> list[str]:
    listed = await store.list_meetings(user, NOW - 60 * DAY, NOW + 60 * DAY)
    return [m.event_id for m in listed]


class MeetingTests(StoreFixtures):
    """Sync cursors, meetings, the retention window and deactivation."""

    @pytest.mark.anyio
    @covers("get_sync_state")
    async def test_a_user_never_synced_has_an_empty_sync_state(self, store: Store) -> None:
        await seed(store)
        assert await store.get_sync_state(ALICE.id) == SyncState(user_id=ALICE.id)

    @pytest.mark.anyio
    @covers("get_user_context", "get_user", "get_organisation", "get_sync_state")
    async def test_user_context_is_the_user_their_organisation_and_sync_state(
            self, store: Store) -> None:
        await seed(store, ALICE, BOB, CAROL)
        assert await store.get_user_context("nobody") is None
        assert await store.get_user_context(ALICE.id) == UserContext(
            ALICE, ORG, SyncState(user_id=ALICE.id))
        await store.apply_changes(ALICE, [meeting("e1")], [], "c1", full_sync=True,
                                  synced_at=NOW)
        await store.set_out_of_office(ALICE.id, True)
        await store.set_out_of_office(CAROL.id, False)
        for user, org in ((ALICE, ORG), (BOB, ORG), (CAROL, OTHER_ORG)):
            stored = await store.get_user(user.id)
            assert stored is not None
            context = await store.get_user_context(user.id)
            assert context == UserContext(stored, await store.get_organisation(org.id),
                                          await store.get_sync_state(user.id))
            assert context is not None and context.organisation == org
        assert (await store.get_user_context(ALICE.id)) == UserContext(
            ALICE, ORG, SyncState(ALICE.id, "c1", NOW, out_of_office=True))

    @pytest.mark.anyio
    @covers("start_validation", "set_user_state", "get_user", "set_out_of_office")
    async def test_start_validation_marks_the_user_and_returns_the_context_before(
            self, store: Store) -> None:
        await seed(store, ALICE, BOB, CAROL)
        assert await store.start_validation("nobody") is None
        await store.set_user_state(ALICE.id, UserState.ERROR, "access_denied: no scope")
        await store.set_out_of_office(ALICE.id, True)
        before = await store.get_user_context(ALICE.id)
        assert before is not None and before.user.state == UserState.ERROR
        assert await store.start_validation(ALICE.id) == before
        marked = await store.get_user(ALICE.id)
        assert marked is not None
        assert (marked.state, marked.reason) == (UserState.VALIDATING, None)
        assert replace(marked, state=ALICE.state, reason=ALICE.reason) == ALICE
        await store.set_user_state(BOB.id, UserState.INACTIVE, "deactivated")
        assert await store.start_validation(BOB.id) is None  # an inactive user stays so
        bob = await store.get_user(BOB.id)
        assert bob is not None and (bob.state, bob.reason) == (UserState.INACTIVE,
                                                               "deactivated")
        carol = await store.start_validation(CAROL.id)  # another organisation's user
        assert carol is not None and carol.organisation == OTHER_ORG
        assert carol.user == CAROL

    @pytest.mark.anyio
    @covers("apply_changes", "get_sync_state", "list_meetings")
    async def test_apply_changes_stores_meetings_and_their_cursor(self, store: Store) -> None:
        await seed(store)
        result = await store.apply_changes(ALICE, [meeting("e1"), meeting("e2", 3)], [], "c1",
                                           full_sync=True, synced_at=NOW)
        assert result == ApplyResult(upserted=2, deleted=0)
        assert await store.get_sync_state(ALICE.id) == SyncState(ALICE.id, "c1", NOW)
        assert await store.list_meetings(ALICE, NOW, NOW + DAY) == [meeting("e1"),
                                                                    meeting("e2", 3)]
        later = NOW + timedelta(minutes=5)
        result = await store.apply_changes(ALICE, [meeting("e3", 5), meeting("e2", 4)],
                                           ["e1", "never-stored"], "c2", full_sync=False,
                                           synced_at=later)
        assert result == ApplyResult(upserted=2, deleted=1)
        assert await _event_ids(store) == ["e2", "e3"]
        assert (await store.get_meeting(ALICE, "e2")) == meeting("e2", 4)  # updated in place
        assert await store.get_sync_state(ALICE.id) == SyncState(ALICE.id, "c2", later)

    @pytest.mark.anyio
    @covers("apply_changes")
    async def test_a_full_sync_drops_what_the_snapshot_lacks(self, store: Store) -> None:
        await seed(store, ALICE, BOB)
        await store.apply_changes(ALICE, [meeting("e1"), meeting("e2")], [], "c1",
                                  full_sync=True, synced_at=NOW)
        await store.apply_changes(BOB, [meeting("e1", user=BOB)], [], "b1", full_sync=True,
                                  synced_at=NOW)
        result = await store.apply_changes(ALICE, [meeting("e3")], [], "c2", full_sync=True,
                                           synced_at=NOW)
        assert result == ApplyResult(upserted=1, deleted=2)
        assert await _event_ids(store) == ["e3"]
        assert await _event_ids(store, user=BOB) == ["e1"]  # another user's rows stay

    @pytest.mark.anyio
    @covers("apply_changes", "get_sync_state", "list_meetings")
    async def test_the_cursor_is_written_in_the_same_transaction_as_the_rows(
            self, store: Store) -> None:
        await seed(store)
        await store.apply_changes(ALICE, [meeting("e1")], [], "c1", full_sync=True,
                                  synced_at=NOW)
        broken = Meeting(user_id=ALICE.id, event_id="e2", calendar_id="primary",
                         status="confirmed", start=NOW, end=None,  # type: ignore[arg-type]
                         title="cannot be stored")
        with pytest.raises(Exception):  # noqa: B017 - whatever the backend raises
            await store.apply_changes(ALICE, [meeting("e9"), broken], ["e1"], "c2",
                                      full_sync=False, synced_at=NOW + DAY)
        assert await store.get_sync_state(ALICE.id) == SyncState(ALICE.id, "c1", NOW)
        assert await _event_ids(store) == ["e1"]  # neither e9 added nor e1 deleted

    @pytest.mark.anyio
    @covers("list_sync_states", "set_out_of_office")
    async def test_list_sync_states_reads_every_user(self, store: Store) -> None:
        await seed(store, ALICE, BOB)
        await store.apply_changes(ALICE, [], [], "c1", full_sync=True, synced_at=NOW)
        await store.set_out_of_office(BOB.id, True)
        states = {s.user_id: s for s in await store.list_sync_states()}
        assert states == {ALICE.id: SyncState(ALICE.id, "c1", NOW),
                          BOB.id: SyncState(BOB.id, out_of_office=True)}

    @pytest.mark.anyio
    @covers("reset_cursor")
    async def test_reset_cursor_forgets_only_the_cursor(self, store: Store) -> None:
        await seed(store)
        await store.apply_changes(ALICE, [meeting("e1")], [], "c1", full_sync=True,
                                  synced_at=NOW)
        await store.reset_cursor(ALICE.id)
        assert await store.get_sync_state(ALICE.id) == SyncState(ALICE.id, None, NOW)
        assert await _event_ids(store) == ["e1"]
        await store.reset_cursor("never-synced")  # nothing to forget: no error

    @pytest.mark.anyio
    @covers("set_out_of_office")
    async def test_set_out_of_office_returns_the_previous_state(self, store: Store) -> None:
        await seed(store)
        assert await store.set_out_of_office(ALICE.id, True) is None
        assert await store.set_out_of_office(ALICE.id, True) is True
        assert await store.set_out_of_office(ALICE.id, False) is True
        assert (await store.get_sync_state(ALICE.id)).out_of_office is False

    @pytest.mark.anyio
    @covers("list_meetings", "get_meeting")
    async def test_meetings_are_listed_by_overlap_and_per_user(self, store: Store) -> None:
        await seed(store, ALICE, BOB)
        before, during, after = meeting("a", -2), meeting("b", 0.25), meeting("c", 2)
        await store.apply_changes(ALICE, [after, during, before], [], "c", full_sync=True,
                                  synced_at=NOW)
        # [NOW, NOW+1h): "b" overlaps; "a" ended before; "c" starts after
        assert await store.list_meetings(ALICE, NOW, NOW + timedelta(hours=1)) == [during]
        window = await store.list_meetings(ALICE, NOW - DAY, NOW + DAY)
        assert window == [before, during, after]  # by start time
        ends_at_start = await store.list_meetings(ALICE, before.end, before.end + DAY)
        assert before not in ends_at_start  # [start, end): touching is not overlapping
        assert await store.get_meeting(ALICE, "b") == during
        assert await store.get_meeting(ALICE, "zzz") is None
        assert await store.get_meeting(BOB, "b") is None
        assert await store.list_meetings(BOB, NOW - DAY, NOW + DAY) == []

    @pytest.mark.anyio
    @covers("apply_changes", "list_meetings", "get_meeting")
    async def test_a_private_meeting_is_read_back_private(self, store: Store) -> None:
        await seed(store)
        private, public = meeting("p", private=True), meeting("q", 2)
        await store.apply_changes(ALICE, [private, public], [], "c", full_sync=True,
                                  synced_at=NOW)
        assert await store.get_meeting(ALICE, "p") == private
        assert await store.list_meetings(ALICE, NOW, NOW + DAY) == [private, public]
        assert [m.private for m in await store.list_meetings(ALICE, NOW, NOW + DAY)] == [
            True, False]

    @pytest.mark.anyio
    @covers("purge_outside", "list_notifications")
    async def test_purge_keeps_only_the_retention_window(self, store: Store) -> None:
        await seed(store)
        keep_from, keep_until = NOW - 7 * DAY, NOW + 31 * DAY
        old, now, far = meeting("old", -24 * 8), meeting("now"), meeting("far", 24 * 32)
        edge = meeting("edge", -24 * 7, minutes=90)  # ends inside the window: kept
        await store.apply_changes(ALICE, [old, now, far, edge], [], "c", full_sync=True,
                                  synced_at=NOW)
        await store.schedule(ALICE, [
            join_button("old", due=old.start, ends=old.end),
            join_button("now", due=now.start, ends=now.end)])
        assert await store.enqueue_notification(ALICE, presence("p-old", due=NOW - 8 * DAY))
        assert await store.purge_outside(keep_from, keep_until) == 2
        assert await _event_ids(store) == ["edge", "now"]
        kept = await store.list_notifications(ALICE)
        assert [n.key for n in kept] == [join_button("now").key]

    @pytest.mark.anyio
    @covers("forget_user_data")
    async def test_forget_user_data_removes_one_users_data_only(self, store: Store) -> None:
        await seed(store, ALICE, BOB)
        for user in (ALICE, BOB):
            await store.apply_changes(user, [meeting("e1", user=user)], [], f"c-{user.id}",
                                      full_sync=True, synced_at=NOW)
            await store.put_channel(Channel(f"ch-{user.id}", user.id, "r", "t" * 43,
                                            NOW + 7 * DAY))
            await store.schedule(user, [join_button("e1", user=user)])
        await store.forget_user_data(ALICE.id)
        assert await _event_ids(store) == []
        assert await store.get_sync_state(ALICE.id) == SyncState(ALICE.id)
        assert await store.list_channels(user_id=ALICE.id) == []
        assert await store.list_notifications(ALICE) == []
        assert await store.get_user(ALICE.id) == ALICE  # the user row itself stays
        assert await _event_ids(store, user=BOB) == ["e1"]
        assert (await store.get_sync_state(BOB.id)).cursor == "c-u2"
        assert len(await store.list_channels(user_id=BOB.id)) == 1
        [kept] = await store.list_notifications(BOB)
        assert kept.state is DeliveryState.PENDING
        assert kept.payload == join_button("e1", user=BOB).payload
