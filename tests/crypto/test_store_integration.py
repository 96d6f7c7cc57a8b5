"""The real FieldCipher under the real SQLite store: sentinels never reach the file or WAL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hybrid_calendar.builder import opened_gateway
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import JoinInfo, Meeting, Organisation, User, UserState

TITLE, BODY = "SENTINEL-TITLE-b7e1 acquisition", "SENTINEL-BODY-3d9f agenda"
PLACE, JOIN = "SENTINEL-PLACE-0c4a", "https://example.webex.com/meet/sentinel-join-6f2e"
ORGANISER, INVITEE = "sentinel-organiser-a1@example.com", "sentinel-invitee-b2@example.com"
SERVICE_ACCOUNT = '{"private_key": "SENTINEL-SA-KEY-77aa"}'


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    config, pm = load_config(None, overrides={
        "gateway": {"data_dir": str(tmp_path / "var")},
        "plugins": {"enabled": ["kms_local"], "load_entrypoints": False}}, environ={})
    async with opened_gateway(config, pm) as gateway:
        yield gateway


def meetings(user: User, count: int) -> list[Meeting]:
    start = datetime(2026, 11, 30, 9, tzinfo=UTC)
    return [Meeting(user_id=user.id, event_id=f"evt{i}", calendar_id="primary",
                    status="confirmed", start=start + timedelta(hours=i),
                    end=start + timedelta(hours=i, minutes=30), title=f"{TITLE} {i}",
                    description=BODY, location=PLACE, organizer=ORGANISER,
                    attendees=(ORGANISER, INVITEE),
                    join=JoinInfo(provider="webex", url=JOIN, source="location"))
            for i in range(count)]


@pytest.mark.anyio
async def test_store_writes_no_sentinel_in_clear(gateway: Gateway, tmp_path: Path) -> None:
    store = gateway.store
    await store.put_organisation(Organisation(id="org1", name="Org", domain="example.com"))
    await store.put_org_secret("org1", "service_account", SERVICE_ACCOUNT)
    user = User(id="u1", org_id="org1", email=ORGANISER, state=UserState.ACTIVE)
    await store.put_user(user)
    await store.apply_changes(user, meetings(user, 40), [], "cursor-1", full_sync=True,
                              synced_at=datetime(2026, 11, 27, tzinfo=UTC))
    db = Path(gateway.config.get("gateway", "data_dir")) / "gateway.sqlite3"
    raw = db.read_bytes() + db.with_name(db.name + "-wal").read_bytes()
    for sentinel in ("SENTINEL-TITLE", "SENTINEL-BODY", "SENTINEL-PLACE", "sentinel-join",
                     "sentinel-organiser", "sentinel-invitee", "SENTINEL-SA-KEY"):
        assert sentinel.encode() not in raw, sentinel
    stored = await store.get_meeting(user, "evt7")
    assert stored is not None and stored.title == f"{TITLE} 7"
    assert stored.attendees == (ORGANISER, INVITEE) and stored.join is not None
    assert await store.get_org_secret("org1", "service_account") == SERVICE_ACCOUNT
    found = await store.find_user("org1", ORGANISER.upper())
    assert found is not None and found.id == "u1"
    cipher = gateway.cipher
    report = await cipher.rotate_master_key()
    assert report.failed == 0 and report.remaining == 0
    assert (await store.get_meeting(user, "evt7")) == stored


@pytest.mark.anyio
async def test_calendar_id_address_is_not_stored_in_clear(gateway: Gateway) -> None:
    store = gateway.store
    await store.put_organisation(Organisation(id="org1", name="Org", domain="example.com"))
    user = User(id="u1", org_id="org1", email=ORGANISER, state=UserState.ACTIVE)
    await store.put_user(user)
    realistic = [Meeting(user_id=m.user_id, event_id=m.event_id, calendar_id=ORGANISER,
                         status=m.status, start=m.start, end=m.end, title=m.title)
                 for m in meetings(user, 3)]
    await store.apply_changes(user, realistic, [], "cursor-1", full_sync=True,
                              synced_at=datetime(2026, 11, 27, tzinfo=UTC))
    db = Path(gateway.config.get("gateway", "data_dir")) / "gateway.sqlite3"
    raw = db.read_bytes() + db.with_name(db.name + "-wal").read_bytes()
    assert b"sentinel-organiser" not in raw
