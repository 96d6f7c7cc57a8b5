"""Store suite, part 5: nothing sensitive reaches the database in clear."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hybrid_calendar.models import DeliveryState, JoinInfo, SinkDelivery, User
from hybrid_calendar.store.base import Store
from hybrid_calendar.store.testing.samples import ORG, join_button, meeting, presence
from hybrid_calendar.store.testing.support import NOW, StoreBackend, StoreFixtures, covers

SENTINELS = {
    "email": "sentinel.address.7f3a@example.com",
    "title": "SENTINEL-TITLE-9c1e",
    "description": "SENTINEL-AGENDA-41b0",
    "location": "SENTINEL-ROOM-5d2f",
    "organizer": "sentinel.organiser.08aa@example.com",
    "attendee": "sentinel.invitee.6b7e@example.com",
    "join": "https://sentinel-join-3e9d.example.com/j/778899",
    "dial": "778899@sentinel-dial-a4c2.example.com",
    "link": "https://calendar.example.com/sentinel-html-link-c0de",
    "secret": "SENTINEL-SERVICE-ACCOUNT-KEY-1d4f",
    "updated_secret": "SENTINEL-ROOM-RECORD-77b3",
    "payload": "SENTINEL-PAYLOAD-TITLE-2a6c",
    "reason": "SENTINEL-REMOTE-ERROR-ec31",
}
VISIBLE_EVENT_ID = "visible-event-id-5150"
"""Not sensitive (stored as is): proves the dump really holds the rows scanned."""


class EncryptionTests(StoreFixtures):
    """Encryption at rest, checked on the backend's raw bytes, not through the store."""

    @pytest.mark.anyio
    @covers("put_user", "put_org_secret", "update_org_secret", "apply_changes", "schedule",
            "enqueue_notification", "record_deliveries")
    async def test_nothing_sensitive_is_stored_in_clear(self, store: Store,
                                                        store_backend: StoreBackend) -> None:
        user = User(id="u-sentinel", org_id=ORG.id, email=SENTINELS["email"])
        await store.put_organisation(ORG)
        await store.put_user(user)
        await store.put_org_secret(ORG.id, "google_service_account", SENTINELS["secret"])
        await store.update_org_secret(ORG.id, "webex_rooms",
                                      lambda current: SENTINELS["updated_secret"])
        stored = meeting(
            VISIBLE_EVENT_ID, user=user, title=SENTINELS["title"],
            description=SENTINELS["description"], location=SENTINELS["location"],
            organizer=SENTINELS["organizer"], attendees=(SENTINELS["attendee"],),
            html_link=SENTINELS["link"],
            join=JoinInfo(provider="webex", url=SENTINELS["join"], source="location",
                          dial=SENTINELS["dial"]))
        await store.apply_changes(user, [stored], [], "cursor-1", full_sync=True,
                                  synced_at=NOW)
        button = join_button(VISIBLE_EVENT_ID, user=user,
                             payload={"title": SENTINELS["payload"]})
        await store.schedule(user, [button])
        await store.enqueue_notification(user, replace(presence("p", user=user),
                                                       payload={"who": SENTINELS["email"]}))
        await store.record_deliveries(user, button.key, [SinkDelivery(
            "webex", DeliveryState.PENDING, attempts=1, reason=SENTINELS["reason"],
            updated_at=NOW)], DeliveryState.PENDING, NOW, NOW)
        assert await store.get_meeting(user, VISIBLE_EVENT_ID) == stored
        raw = await store_backend.raw_bytes()
        assert VISIBLE_EVENT_ID.encode() in raw, "raw_bytes() does not hold the stored rows"
        leaked = sorted(name for name, value in SENTINELS.items() if value.encode() in raw)
        assert leaked == [], f"stored in clear: {leaked}"
