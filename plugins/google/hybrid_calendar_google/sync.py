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
The cursor handed to the engine is ``g1:<syncToken>``: the
prefix versions the cursor format (and the query it belongs to), so a cursor from another
version forces a full sync.
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

CURSOR_PREFIX = "g1:"
"""Version of the cursor format; bump when the list query changes."""


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


def encode_cursor(sync_token: str) -> str:
    """Wrap Google's ``nextSyncToken`` into the engine's cursor."""
    return CURSOR_PREFIX + sync_token


def decode_cursor(cursor: str) -> str:
    """Return the ``syncToken`` inside ``cursor``.

    :raises SyncTokenExpiredError: the cursor is from another format version.
    """
    if not cursor.startswith(CURSOR_PREFIX) or len(cursor) == len(CURSOR_PREFIX):
        raise SyncTokenExpiredError("sync cursor of an unknown format; a full sync is needed",
                                    reason="cursorFormat")
    return cursor[len(CURSOR_PREFIX):]


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
        query["syncToken"] = decode_cursor(cursor)
        return await _page_through(client, subject, base_url, calendar, query, full=False)
    query["timeMin"], query["timeMax"] = window.bounds(now)
    try:
        return await _page_through(client, subject, base_url, calendar, query, full=True,
                                   restartable=True)
    except _InterruptedFullSync:
        return await _page_through(client, subject, base_url, calendar, query, full=True)


class _InterruptedFullSync(Exception):
    """A full sync's page token expired after the first page (restart once)."""


async def _page_through(client: GoogleClient, subject: str, base_url: str, calendar: str,
                        query: dict[str, Any], *, full: bool, restartable: bool = False
                        ) -> ChangeBatch:
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
        return ChangeBatch(events=tuple(events), next_cursor=encode_cursor(sync_token),
                           full_sync=full)


def _items(page: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = page.get("items") or []
    return [item for item in items
            if (type(item) is dict or isinstance(item, Mapping)) and item.get("id")]
