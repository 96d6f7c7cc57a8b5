"""events.list / events.instances results: filters, recurrence expansion, paging, sync tokens.

A first page computes the complete result and freezes it; ``nextPageToken`` points at the
frozen snapshot (bound to the query), so later pages are consistent, and the last page
carries ``nextSyncToken`` for the sequence number current when the snapshot was taken.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from hybrid_calendar_google_emulator.api_errors import ApiError, bad_request, full_sync_required
from hybrid_calendar_google_emulator.calendars import Calendar
from hybrid_calendar_google_emulator.events import bounds, render_instance, tombstone
from hybrid_calendar_google_emulator.query import ListQuery
from hybrid_calendar_google_emulator.recurrence import instance_id, occurrences
from hybrid_calendar_google_emulator.timeutil import event_time, parse_rfc3339


class SyncTokens:
    """Opaque, MAC-protected sync tokens: calendar, generation, sequence, issue time."""

    def __init__(self) -> None:
        self.secret = secrets.token_bytes(32)

    def encode(self, calendar: Calendar, seq: int) -> str:
        """A token meaning "changes of ``calendar`` after ``seq``"."""
        payload = json.dumps([calendar.id, calendar.generation, seq, int(time.time())],
                             separators=(",", ":")).encode()
        mac = hmac.new(self.secret, payload, hashlib.sha256).digest()[:12]
        return "C" + base64.urlsafe_b64encode(payload + mac).decode().rstrip("=")

    def decode(self, token: str, calendar: Calendar, ttl: float | None) -> int:
        """The sequence in ``token``.

        :raises ApiError: 410 ``fullSyncRequired`` when the token is malformed, for another
            calendar, invalidated, or older than ``ttl`` seconds.
        """
        try:
            raw = base64.urlsafe_b64decode(token[1:] + "=" * (-len(token[1:]) % 4))
            payload, mac = raw[:-12], raw[-12:]
            expected = hmac.new(self.secret, payload, hashlib.sha256).digest()[:12]
            if not token.startswith("C") or not hmac.compare_digest(mac, expected):
                raise ValueError("bad mac")
            cal_id, generation, seq, issued = json.loads(payload)
        except (ValueError, binascii.Error, TypeError) as err:
            raise full_sync_required() from err
        if cal_id != calendar.id or generation != calendar.generation \
                or seq < calendar.min_sync_seq:
            raise full_sync_required()
        if ttl is not None and time.time() - issued > ttl:
            raise full_sync_required()
        return int(seq)


@dataclass
class Snapshot:
    """A frozen result being paged through."""

    key: str
    items: list[dict[str, Any]]
    offset: int
    sync_seq: int | None


class PageCache:
    """Frozen snapshots by page token, least recently used evicted first."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._pages: OrderedDict[str, Snapshot] = OrderedDict()

    def put(self, snapshot: Snapshot) -> str:
        """Store ``snapshot``; returns its page token."""
        token = base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("=")
        self._pages[token] = snapshot
        while len(self._pages) > self.capacity:
            self._pages.popitem(last=False)
        return token

    def take(self, token: str, key: str, syncing: bool) -> Snapshot:
        """The snapshot for ``token`` (tokens stay valid for retries until evicted).

        :raises ApiError: 400 (410 while syncing) when unknown or bound to another query.
        """
        snapshot = self._pages.get(token)
        if snapshot is not None:
            self._pages.move_to_end(token)
        if snapshot is None or snapshot.key != key:
            if syncing:
                raise full_sync_required()
            raise bad_request("Invalid page token value.", location="pageToken")
        return snapshot


def _matches(event: dict[str, Any], query: ListQuery) -> bool:
    props = event.get("extendedProperties") or {}
    private, shared = props.get("private") or {}, props.get("shared") or {}
    if any(private.get(k) != v for k, v in query.private_props):
        return False
    if any(shared.get(k) != v for k, v in query.shared_props):
        return False
    if query.ical_uid and event.get("iCalUID") != query.ical_uid:
        return False
    if query.event_types and event.get("eventType", "default") not in query.event_types:
        return False
    if query.q:
        hay = " ".join(str(event.get(k, "")) for k in ("summary", "description", "location"))
        hay += " " + " ".join(f"{a.get('email', '')} {a.get('displayName', '')}"
                              for a in event.get("attendees", []))
        hay += " " + str(event.get("organizer", {}).get("email", ""))
        if not all(term in hay.lower() for term in query.q.lower().split()):
            return False
    return True


def _in_window(event: dict[str, Any], query: ListQuery, tz: str) -> bool:
    if query.time_min is None and query.time_max is None:
        return True
    start, end = bounds(event, tz)
    if query.time_min is not None and not end > query.time_min:
        return False
    return not (query.time_max is not None and not start < query.time_max)


def expand(calendar: Calendar, master: dict[str, Any], query: ListQuery, tz: str,
           limit: int, *, cancelled: bool = False) -> list[dict[str, Any]]:
    """Instances of ``master`` overlapping the query window, exceptions substituted.

    ``cancelled``: render every instance as cancelled (the master was deleted).
    """
    start = event_time(master["start"], tz, "start")
    s, e = bounds(master, tz)
    duration = e - s
    after = query.time_min - duration if query.time_min else None
    if query.original_start:
        original = parse_rfc3339(query.original_start, "originalStart")
        after = original
    exceptions = {ev["id"]: ev for ev in calendar.exceptions_of(master["id"])}
    result: list[dict[str, Any]] = []
    seen: set[str] = set()
    for original_start in occurrences(master.get("recurrence", []), start,
                                      master["start"].get("timeZone") or tz,
                                      after=after, before=query.time_max, limit=limit):
        if query.original_start and isinstance(original_start, dt.datetime) \
                and original_start != after:
            break
        ident = instance_id(master["id"], original_start)
        seen.add(ident)
        instance = exceptions.get(ident) or render_instance(master, original_start, tz)
        if cancelled:
            instance = {**instance, "status": "cancelled"}
        result.append(instance)
    if not query.original_start:
        result.extend(ev for ident, ev in exceptions.items() if ident not in seen)
    return [ev for ev in result if _in_window(ev, query, tz)]


def compute_items(calendar: Calendar, query: ListQuery, tz: str, limit: int,
                  since: int | None) -> list[dict[str, Any]]:
    """Every item of a list result, before paging (``since``: incremental sync).

    Items are shallow copies: stored events are never mutated in place (every write
    stores a new dict), so nested values can be shared safely.
    """
    rows = calendar.changed_since(since) if since is not None else list(calendar.events.values())
    incremental = since is not None or query.updated_min is not None
    show_deleted = query.show_deleted or incremental
    items: list[dict[str, Any]] = []
    for event in rows:
        if query.updated_min is not None and \
                parse_rfc3339(event["updated"], "updated") < query.updated_min:
            continue
        cancelled = event.get("status") == "cancelled"
        if query.single_events and event.get("recurrence"):
            if cancelled and not show_deleted:
                continue
            instances = expand(calendar, event, query, tz, limit, cancelled=cancelled)
            for inst in instances:
                if inst.get("status") == "cancelled":
                    if show_deleted:
                        items.append(tombstone(inst))
                elif _matches(inst, query):
                    items.append(dict(inst))
            continue
        if query.single_events and event.get("recurringEventId") and since is None:
            continue  # already produced by expanding its master
        if cancelled:
            # cancelled exceptions of a live master are listed even without showDeleted
            # when singleEvents is false (Google's documented quirk)
            master = calendar.events.get(event.get("recurringEventId") or "")
            live_exception = (master is not None and bool(master.get("recurrence"))
                              and master.get("status") != "cancelled"
                              and not query.single_events)
            if show_deleted or live_exception:
                items.append(tombstone(event))
            continue
        if not query.single_events and event.get("recurrence"):
            if expand(calendar, event, query, tz, 1) and _matches(event, query):
                items.append(dict(event))
            continue
        if _in_window(event, query, tz) and _matches(event, query):
            items.append(dict(event))
    unique: dict[str, dict[str, Any]] = {}
    for item in items:
        unique.setdefault(item["id"], item)
    items = list(unique.values())
    if query.order_by == "startTime":
        items.sort(key=lambda ev: bounds(ev, tz)[0] if "start" in ev else dt.datetime.min
                   .replace(tzinfo=dt.UTC))
    elif query.order_by == "updated":
        items.sort(key=lambda ev: ev.get("updated", ""))
    return items


def page(items: list[dict[str, Any]], query: ListQuery, cache: PageCache,
         sync_seq: int | None, offset: int = 0) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """One page of ``items`` and the continuation (``nextPageToken`` xor sync marker)."""
    chunk = items[offset:offset + query.max_results]
    if offset + query.max_results < len(items):
        token = cache.put(Snapshot(query.page_key, items, offset + query.max_results, sync_seq))
        return chunk, {"nextPageToken": token}
    return chunk, {"_sync": "" if sync_seq is None else str(sync_seq)}


def trim_attendees(items: list[dict[str, Any]], max_attendees: int | None) -> None:
    """Apply ``maxAttendees`` as Google documents it: an event with more attendees than
    that keeps only the participant (the ``self`` attendee, if any) and gets
    ``attendeesOmitted``. ``items`` are the listing's copies, changed in place."""
    if max_attendees is None:
        return
    for event in items:
        attendees = event.get("attendees") or []
        if len(attendees) > max_attendees:
            event["attendees"] = [a for a in attendees if a.get("self")]
            event["attendeesOmitted"] = True


__all__ = ["ApiError", "PageCache", "Snapshot", "SyncTokens", "compute_items", "expand", "page"]
