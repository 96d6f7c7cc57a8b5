"""A meeting as a person sees it: in their time zone, all-day events on their dates.

Providers give all-day events as dates; the store keeps them as midnight UTC of those
dates. Shown as instants, they would start the evening before for anyone west of UTC, so
here an all-day event is re-anchored on the same calendar dates at midnight in the user's
zone. A Join button is due from ``start − notifications.join_button_lead_minutes`` until
the meeting ends (never for all-day or cancelled events, or without join information).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hybrid_calendar.models import Meeting, User

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)


def user_zone(gateway: Gateway, user: User) -> ZoneInfo:
    """The user's IANA zone, else ``people.default_timezone``, else UTC."""
    for name in (user.timezone, str(gateway.config.get("people", "default_timezone"))):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                log.warning("unknown time zone %r for user %s: falling back", name, user.id)
    return ZoneInfo("UTC")


def lead_time(gateway: Gateway) -> timedelta:
    """How long before its start a meeting's Join button shows."""
    return timedelta(minutes=float(gateway.config.get("notifications",
                                                      "join_button_lead_minutes")))


@dataclass(frozen=True, slots=True)
class LocalSpan:
    """Where a meeting lies on the user's clock."""

    start: datetime
    end: datetime
    first_day: date
    end_day: date
    """The day after the last day (exclusive, as in iCalendar)."""


def local_span(meeting: Meeting, zone: ZoneInfo) -> LocalSpan:
    """The meeting's start and end in ``zone``; all-day events keep their calendar dates."""
    if meeting.all_day:
        first = meeting.start.astimezone(UTC).date()
        end_day = max(meeting.end.astimezone(UTC).date(), first + timedelta(days=1))
        return LocalSpan(datetime.combine(first, time(), zone),
                         datetime.combine(end_day, time(), zone), first, end_day)
    start, end = meeting.start.astimezone(zone), meeting.end.astimezone(zone)
    return LocalSpan(start, end, start.date(), end.date() + timedelta(days=1))


def join_button_at(meeting: Meeting, lead: timedelta, email: str) -> datetime | None:
    """When the meeting's Join button appears for the user ``email``, or None if it never
    does (:meth:`Meeting.joinable_by`, and a link or an address to dial to join)."""
    join = meeting.join
    if join is None or not meeting.joinable_by(email) or not (join.url or join.dial):
        return None
    return meeting.start - lead


def meeting_view(meeting: Meeting, zone: ZoneInfo, now: datetime, lead: timedelta,
                 email: str) -> dict[str, Any]:
    """The personal API's JSON for one meeting of the user ``email`` (``declined``: that
    user declined it, so it has no Join button)."""
    span = local_span(meeting, zone)
    join = meeting.join
    shows = join_button_at(meeting, lead, email)
    return {
        "event_id": meeting.event_id, "title": meeting.title, "status": meeting.status,
        "all_day": meeting.all_day, "start": span.start.isoformat(),
        "end": span.end.isoformat(),
        "date": span.first_day.isoformat() if meeting.all_day else None,
        "end_date": span.end_day.isoformat() if meeting.all_day else None,
        "organizer": meeting.organizer, "invitees": list(meeting.attendees),
        "location": meeting.location,
        "provider": join.provider if join else None,
        "join_url": join.url if join else None, "dial": join.dial if join else None,
        "join_button_at": shows.astimezone(zone).isoformat() if shows else None,
        "join_button_due": shows is not None and shows <= now < meeting.end,
        "declined": meeting.declined_by(email),
    }


def personal_window(gateway: Gateway, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """From ``sync.retention_past_days`` back to ``sync.retention_future_days`` ahead."""
    now = gateway.clock.now().astimezone(zone)
    return (now - timedelta(days=int(gateway.config.get("sync", "retention_past_days"))),
            now + timedelta(days=int(gateway.config.get("sync", "retention_future_days"))))


async def personal_meetings(gateway: Gateway, user: User) -> list[Meeting]:
    """The user's meetings overlapping the personal window on the user's own clock."""
    zone = user_zone(gateway, user)
    start, end = personal_window(gateway, zone)
    margin = timedelta(days=1)  # all-day events move by up to a day once re-anchored
    found = await gateway.store.list_meetings(user, start - margin, end + margin)
    kept = [m for m in found if _overlaps(local_span(m, zone), start, end)]
    return sorted(kept, key=lambda m: (local_span(m, zone).start, m.event_id))


def _overlaps(span: LocalSpan, start: datetime, end: datetime) -> bool:
    return span.end > start and span.start < end
