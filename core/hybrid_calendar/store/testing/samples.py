"""Sample organisations, users, meetings and notifications the store suite writes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hybrid_calendar.models import (
    JoinInfo,
    Meeting,
    NotificationKind,
    Organisation,
    ScheduledNotification,
    User,
    UserState,
)
from hybrid_calendar.store.base import Store
from hybrid_calendar.store.testing.support import NOW

ORG = Organisation(id="o1", name="Example", domain="example.com",
                   settings={"keywords": ["webex=personal_room"]})
OTHER_ORG = Organisation(id="o2", name="Elsewhere", domain="elsewhere.example")
ALICE = User(id="u1", org_id="o1", email="alice@example.com", state=UserState.ACTIVE,
             locale="de", timezone="Europe/Berlin")
BOB = User(id="u2", org_id="o1", email="bob@example.com", state=UserState.ACTIVE)
CAROL = User(id="u3", org_id="o2", email="carol@elsewhere.example")


async def seed(store: Store, *users: User) -> None:
    """Both organisations and the given users (Alice when none given)."""
    await store.put_organisation(ORG)
    await store.put_organisation(OTHER_ORG)
    for user in users or (ALICE,):
        await store.put_user(user)


def meeting(event_id: str, hours: float = 1, *, user: User = ALICE, title: str = "Standup",
            minutes: int = 30, **extra: Any) -> Meeting:
    """A meeting of ``user`` starting ``hours`` after :data:`NOW`."""
    start = NOW + timedelta(hours=hours)
    fields: dict[str, Any] = {
        "calendar_id": "primary", "status": "confirmed", "start": start,
        "end": start + timedelta(minutes=minutes), "title": title,
        "description": "Agenda", "location": "Room 1", "organizer": "bob@example.com",
        "attendees": ("alice@example.com", "bob@example.com"),
        "join": JoinInfo(provider="zoom", url="https://zoom.us/j/1", source="body"),
        "etag": '"1"', **extra}
    return Meeting(user_id=user.id, event_id=event_id, **fields)


def join_button(event_id: str, *, user: User = ALICE, due: datetime = NOW,
                ends: datetime | None = None, payload: dict[str, Any] | None = None,
                key: str | None = None) -> ScheduledNotification:
    """A Join button for ``event_id``, due at ``due``, its meeting ending at ``ends``."""
    end = ends or due + timedelta(minutes=35)
    return ScheduledNotification(
        key=key or f"{user.id}|{event_id}|start", user_id=user.id, event_id=event_id,
        due_at=due, start=due + timedelta(minutes=5), end=end,
        payload=payload or {"event_id": event_id, "title": "Standup"},
        kind=NotificationKind.JOIN_BUTTON)


def presence(key: str, *, user: User = ALICE, due: datetime = NOW, away: bool = True
             ) -> ScheduledNotification:
    """An out-of-office presence change (no meeting attached)."""
    return ScheduledNotification(key=key, user_id=user.id, event_id=None, due_at=due,
                                 start=None, end=None, payload={"out_of_office": away},
                                 kind=NotificationKind.PRESENCE)


def meetings_changed(key: str, *, user: User = ALICE) -> ScheduledNotification:
    """A meetings-changed notification of a full sync (a sync's announcement)."""
    return ScheduledNotification(key=key, user_id=user.id, event_id=None, due_at=NOW,
                                 start=None, end=None, payload={"full_sync": True},
                                 kind=NotificationKind.MEETINGS_CHANGED)
