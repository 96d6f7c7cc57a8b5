"""Full and incremental sync of one calendar (Google's sync guide, in ~100 lines).

https://developers.google.com/workspace/calendar/api/guides/sync

* Full sync (``cursor=None``): ``events.list`` with ``singleEvents=true`` and the retention
  window as ``timeMin``/``timeMax``, paged with ``pageToken`` until the last page hands out
  ``nextSyncToken``. Recurring series arrive as their instances in the window.
* Incremental sync: the same query minus the parameters Google forbids with ``syncToken``
  (``timeMin``/``timeMax``), plus ``syncToken``; deleted events and cancelled instances
  arrive as ``status: cancelled`` tombstones. Changes are not limited to the window: an
  event moved out of it is returned with its new times, so the engine can drop it.
* HTTP 410 (token expired) raises :class:`SyncTokenExpiredError`; the engine then calls
  again with ``cursor=None``.

Items are converted by
:func:`~hybrid_calendar_google.event_json.event_from_google` (shared with the
``parse-join`` command), :data:`CONVERT_CHUNK` at a time with a return to the event loop
between chunks, so a full page never holds up push acknowledgements. No partial
``fields`` are asked for: the items are whole resources, which
:mod:`~hybrid_calendar_google.invites` writes back with one ``events.update``.
The cursor handed to the engine is ``g2:<listed at>:<syncToken>``: the
prefix versions the cursor format (and the query it belongs to), so a cursor from another
version forces a full sync. ``<listed at>`` is when the window was last listed whole (Unix
seconds), carried over by every incremental sync: an incremental sync only returns events
that *changed*, so an event beyond ``timeMax`` when the window was listed, and untouched
since, would never come in as time brings it into the window (nor would the instances of
a series entering it week by week). Once :data:`WINDOW_RELIST` has passed since that
listing, the next sync lists the window again (a full sync, one more ``events.list``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hybrid_calendar.errors import ProviderError, SyncTokenExpiredError
from hybrid_calendar.models import CalendarEvent, ChangeBatch
from hybrid_calendar_google.client import GoogleClient
from hybrid_calendar_google.discovery import Calendar
from hybrid_calendar_google.event_json import event_from_google

CONVERT_CHUNK = 250
"""Events converted between two returns to the event loop (~8 ms of CPU)."""

CURSOR_PREFIX = "g2:"
"""Version of the cursor format; bump when the list query changes."""

WINDOW_RELIST = timedelta(days=1)
"""How long after a full listing the window is listed again, so that events entering it
(unchanged, hence never returned by an incremental sync) are seen at most this late."""


@dataclass(frozen=True, slots=True)
class SyncWindow:
    """The retention window, relative to now."""

    past_days: int = 7
    future_days: int = 31
    page_size: int = 2500

    def bounds(self, now: datetime) -> tuple[str, str]:
        """``timeMin``/``timeMax`` for ``now`` as RFC 3339 UTC strings."""
        low = (now - timedelta(days=self.past_days)).astimezone(UTC)
        high = (now + timedelta(days=self.future_days)).astimezone(UTC)
        return _rfc3339(low), _rfc3339(high)


def _rfc3339(when: datetime) -> str:
    return when.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_cursor(sync_token: str, listed_at: datetime) -> str:
    """Wrap Google's ``nextSyncToken`` into the engine's cursor, with the time the window
    was last listed whole."""
    return f"{CURSOR_PREFIX}{int(listed_at.timestamp())}:{sync_token}"


def decode_cursor(cursor: str) -> tuple[str, datetime]:
    """Return the ``syncToken`` inside ``cursor`` and when the window was listed.

    :raises SyncTokenExpiredError: the cursor is from another format version.
    """
    listed, _, token = cursor[len(CURSOR_PREFIX):].partition(":")
    if not cursor.startswith(CURSOR_PREFIX) or not token or not listed.isdigit():
        raise SyncTokenExpiredError("sync cursor of an unknown format; a full sync is needed",
                                    reason="cursorFormat")
    try:
        listed_at = datetime.fromtimestamp(int(listed), UTC)
    except (OverflowError, ValueError, OSError) as err:
        raise SyncTokenExpiredError("sync cursor of an unknown format; a full sync is "
                                    "needed", reason="cursorFormat") from err
    return token, listed_at


async def fetch_changes(client: GoogleClient, subject: str, base_url: str,
                        cursor: str | None, now: datetime, window: SyncWindow
                        ) -> ChangeBatch:
    """Fetch a full snapshot (``cursor=None``) or the changes since ``cursor``.

    A full sync whose paging is interrupted by HTTP 410 (a page token that expired
    between pages) starts over once; a second 410 is raised.

    :param subject: the user whose primary calendar is read (delegation subject; the
        primary calendar's id is the user's address).
    :raises SyncTokenExpiredError: the cursor's sync token is no longer valid.
    """
    calendar = subject
    query: dict[str, Any] = {"calendarId": calendar, "singleEvents": True,
                             "maxResults": window.page_size}
    if cursor is not None:
        query["syncToken"], listed_at = decode_cursor(cursor)
        if not now - WINDOW_RELIST < listed_at <= now:  # the window moved on: list it
            del query["syncToken"]
        else:
            return await _page_through(client, subject, base_url, calendar, query,
                                       full=False, listed_at=listed_at)
    query["timeMin"], query["timeMax"] = window.bounds(now)
    try:
        return await _page_through(client, subject, base_url, calendar, query, full=True,
                                   listed_at=now, restartable=True)
    except _InterruptedFullSync:
        return await _page_through(client, subject, base_url, calendar, query, full=True,
                                   listed_at=now)


class _InterruptedFullSync(Exception):
    """A full sync's page token expired after the first page (restart once)."""


async def _page_through(client: GoogleClient, subject: str, base_url: str, calendar: str,
                        query: dict[str, Any], *, full: bool, listed_at: datetime,
                        restartable: bool = False) -> ChangeBatch:
    events: list[CalendarEvent] = []
    page_token: str | None = None
    while True:
        try:
            page = await client.call(subject, Calendar.events_list, base_url,
                                     pageToken=page_token, **query)
        except SyncTokenExpiredError as err:
            if restartable and page_token is not None:
                raise _InterruptedFullSync from err
            raise
        items = _items(page)
        for first in range(0, len(items), CONVERT_CHUNK):
            if first:  # a 2,500-event page converts in ~80 ms: let push answers through
                await asyncio.sleep(0)
            events += [event_from_google(item, calendar)
                       for item in items[first:first + CONVERT_CHUNK]]
        page_token = page.get("nextPageToken")
        if page_token:
            continue
        sync_token = page.get("nextSyncToken")
        if not sync_token:
            raise ProviderError("calendar.events.list: last page carries no nextSyncToken",
                                reason="noSyncToken")
        return ChangeBatch(events=tuple(events), next_cursor=encode_cursor(sync_token, listed_at),
                           full_sync=full)


NOT_MEETINGS = frozenset({"birthday", "focusTime", "outOfOffice", "workingLocation"})
"""``eventType`` values of entries Google Calendar lists among events that are not
meetings: a contact's birthday, a focus-time block, an out-of-office block and the daily
working location ("Home", "Office"). They never enter a meetings list nor get a Join
button (``default`` events and ``fromGmail`` ones, such as a booked call, do). Their
deletion stubs carry no type and pass as deletions of meetings never stored."""


def _items(page: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The page's events that can be meetings (each a mapping with an ``id``; an
    ``eventType`` that is not a string is taken for an ordinary event)."""
    items = page.get("items") or []
    return [item for item in items
            if (type(item) is dict or isinstance(item, Mapping)) and item.get("id")
            and (type(kind := item.get("eventType")) is not str or kind not in NOT_MEETINGS)]
