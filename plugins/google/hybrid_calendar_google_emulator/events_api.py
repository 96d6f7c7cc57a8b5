"""Calendar v3 ``events.*`` handlers (list, get, insert, patch, update, delete, instances,
quickAdd, watch)."""

from __future__ import annotations

import datetime as dt
import time
import urllib.parse
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hybrid_calendar_google_emulator.access import resolve
from hybrid_calendar_google_emulator.api_errors import ApiError, bad_request, not_found, required
from hybrid_calendar_google_emulator.dispatch import Call, Handler
from hybrid_calendar_google_emulator.events import localize
from hybrid_calendar_google_emulator.listing import compute_items, expand, page, trim_attendees
from hybrid_calendar_google_emulator.push import Channel
from hybrid_calendar_google_emulator.query import get_int, parse_list_query
from hybrid_calendar_google_emulator.quickadd import parse_quick_add
from hybrid_calendar_google_emulator.timeutil import format_utc, now_utc


def _envelope(call: Call, calendar_id: str, role: str) -> dict[str, Any]:
    tz = call.state.timezone_of(calendar_id)
    return {"kind": "calendar#events", "etag": f'"p{call.state.journal.seq:016d}"',
            "summary": calendar_id, "description": "", "updated": format_utc(now_utc()),
            "timeZone": tz, "accessRole": role,
            "defaultReminders": [{"method": "popup", "minutes": 10}] if role == "owner" else []}


def _response_tz(call: Call, calendar_id: str) -> str:
    """The ``timeZone`` parameter if it names a zone, else the calendar's zone."""
    requested = call.param("timeZone")
    if requested:
        try:
            ZoneInfo(requested)
            return requested
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return call.state.timezone_of(calendar_id)


def _page_response(call: Call, calendar_id: str, role: str, items: list[dict[str, Any]],
                   query: Any, sync_seq: int | None, offset: int
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """One page of a list response: envelope, ``nextPageToken`` if more, localized items."""
    chunk, continuation = page(items, query, call.state.pages, sync_seq, offset)
    trim_attendees(chunk, query.max_attendees)
    response_tz = _response_tz(call, calendar_id)
    result = _envelope(call, calendar_id, role)
    if "nextPageToken" in continuation:
        result["nextPageToken"] = continuation["nextPageToken"]
    result["items"] = [localize(item, response_tz) for item in chunk]
    return result, continuation


def _conference_version(call: Call) -> int:
    return get_int(call.request.params, "conferenceDataVersion", 0, 0, 1)


def events_list(call: Call) -> dict[str, Any]:
    """events.list: filters, paging, incremental sync."""
    calendar, role = resolve(call.state, call.path_params["calendarId"], call.user)
    query = parse_list_query(call.request.params)
    query.page_key = f"{calendar.id}|{query.page_key}"
    state = call.state
    max_age = state.options.updated_min_max_age
    if query.updated_min is not None and max_age is not None \
            and (now_utc() - query.updated_min).total_seconds() > max_age:
        raise ApiError(410, "updatedMinTooLongAgo",
                       "The requested minimum modification time lies too far in the past.",
                       domain="calendar", location="updatedMin", location_type="parameter")
    tz = state.timezone_of(calendar.id)
    if query.page_token:
        snapshot = state.pages.take(query.page_token, query.page_key,
                                    syncing=query.sync_token is not None)
        items, sync_seq, offset = snapshot.items, snapshot.sync_seq, snapshot.offset
    else:
        since = None
        if query.sync_token is not None:
            since = state.sync_tokens.decode(query.sync_token, calendar,
                                             state.options.sync_token_ttl)
        sync_seq = state.journal.seq
        items = compute_items(calendar, query, tz, state.options.max_instances, since)
        offset = 0
    result, continuation = _page_response(call, calendar.id, role, items, query, sync_seq,
                                          offset)
    if "nextPageToken" not in result and continuation.get("_sync"):
        result["nextSyncToken"] = state.sync_tokens.encode(calendar, int(continuation["_sync"]))
    result["items"] = result.pop("items")  # items last, as Google orders the envelope
    return result


def events_instances(call: Call) -> dict[str, Any]:
    """events.instances: the instances of a recurring event (timeMin inclusive)."""
    calendar, role = resolve(call.state, call.path_params["calendarId"], call.user)
    master = calendar.events.get(call.path_params["eventId"])
    if master is None:
        raise not_found()
    query = parse_list_query(call.request.params, instances=True)
    query.page_key = f"{calendar.id}|{master['id']}|{query.page_key}"
    state = call.state
    tz = state.timezone_of(calendar.id)
    if query.page_token:
        snapshot = state.pages.take(query.page_token, query.page_key, syncing=False)
        items, offset = snapshot.items, snapshot.offset
    else:
        items = []
        if master.get("recurrence"):
            if query.time_min is not None:  # inclusive for instances
                query.time_min -= dt.timedelta(microseconds=1)
            for instance in expand(calendar, master, query, tz, state.options.max_instances,
                                   cancelled=master.get("status") == "cancelled"):
                if instance.get("status") != "cancelled" or query.show_deleted:
                    items.append(dict(instance))
        offset = 0
    result, _ = _page_response(call, calendar.id, role, items, query, None, offset)
    return result


def events_get(call: Call) -> dict[str, Any]:
    """events.get (cancelled events included)."""
    calendar, _ = resolve(call.state, call.path_params["calendarId"], call.user)
    return call.state.get_event(call.user, call.path_params["eventId"], calendar_id=calendar.id,
                                time_zone=_response_tz(call, calendar.id))


def events_insert(call: Call) -> dict[str, Any]:
    """events.insert."""
    calendar, _ = resolve(call.state, call.path_params["calendarId"], call.user, "writer")
    return call.state.insert_event(call.user, call.json_body(), calendar_id=calendar.id,
                                   conference_data_version=_conference_version(call))


def _write(call: Call, replace: bool) -> dict[str, Any]:
    calendar, _ = resolve(call.state, call.path_params["calendarId"], call.user, "writer")
    return call.state.patch_event(
        call.user, call.path_params["eventId"], call.json_body(), calendar_id=calendar.id,
        if_match=call.request.headers.get("if-match"),
        conference_data_version=_conference_version(call), replace=replace)


def events_patch(call: Call) -> dict[str, Any]:
    """events.patch (If-Match honoured)."""
    return _write(call, replace=False)


def events_update(call: Call) -> dict[str, Any]:
    """events.update (If-Match honoured)."""
    return _write(call, replace=True)


def events_delete(call: Call) -> None:
    """events.delete (204; 410 when already deleted)."""
    calendar, _ = resolve(call.state, call.path_params["calendarId"], call.user, "writer")
    call.state.delete_event(call.user, call.path_params["eventId"], calendar_id=calendar.id,
                            if_match=call.request.headers.get("if-match"))


def events_import(call: Call) -> dict[str, Any]:
    """events.import: a private copy of an existing event (``iCalUID`` required)."""
    calendar, _ = resolve(call.state, call.path_params["calendarId"], call.user, "writer")
    body = call.json_body()
    if not body.get("iCalUID"):
        raise required("iCalUID")
    return call.state.insert_event(call.user, body, calendar_id=calendar.id,
                                   conference_data_version=_conference_version(call))


def events_move(call: Call) -> dict[str, Any]:
    """events.move: change the organizer calendar (same id; a tombstone stays behind)."""
    source, _ = resolve(call.state, call.path_params["calendarId"], call.user, "writer")
    destination_id = call.param("destination")
    if not destination_id:
        raise required("destination")
    destination, _ = resolve(call.state, destination_id, call.user, "writer")
    return call.state.move_event(call.user, call.path_params["eventId"], source.id,
                                 destination.id)


def events_quick_add(call: Call) -> dict[str, Any]:
    """events.quickAdd: a small deterministic natural-language parser."""
    calendar, _ = resolve(call.state, call.path_params["calendarId"], call.user, "writer")
    text = call.param("text")
    if not text:
        raise required("text")
    body = parse_quick_add(text, call.state.timezone_of(calendar.id))
    return call.state.insert_event(call.user, body, calendar_id=calendar.id)


def events_watch(call: Call) -> dict[str, Any]:
    """events.watch: register a web_hook channel and send its ``sync`` message."""
    calendar, _ = resolve(call.state, call.path_params["calendarId"], call.user)
    body = call.json_body()
    state = call.state
    channel_id = body.get("id")
    if not channel_id:
        raise required("resource.id")
    if len(str(channel_id)) > 64:
        raise bad_request("Channel id must be at most 64 characters.", location="resource.id")
    if str(channel_id) in state.channels.by_id:
        raise bad_request(f"Channel id {channel_id} not unique", "channelIdNotUnique")
    if body.get("type") not in ("web_hook", "webhook"):
        raise bad_request("Invalid channel type.", location="resource.type")
    address = body.get("address")
    if not address:
        raise required("resource.address")
    parts = urllib.parse.urlsplit(str(address))
    allowed = ("https",) if state.options.require_https else ("https", "http")
    if parts.scheme not in allowed:
        raise ApiError(400, "push.webhookUrlNotHttps",
                       "WebHook callback must be HTTPS: " + str(address), domain="global")
    if not push_host_verified(parts.hostname or "", state.options.verified_push_domains):
        raise ApiError(401, "push.webhookUrlUnauthorized",
                       "Unauthorized WebHook callback channel: " + str(address),
                       domain="global")
    token = body.get("token")
    if token is not None and len(str(token)) > 256:
        raise bad_request("Channel token must be at most 256 characters.",
                          location="resource.token")
    now_ms = int(time.time() * 1000)
    params = body.get("params") or {}
    try:
        ttl = int(params.get("ttl", state.options.channel_default_ttl))
    except (TypeError, ValueError) as err:
        raise bad_request("Invalid ttl.", location="resource.params.ttl") from err
    expiration = now_ms + min(ttl, state.options.channel_max_ttl) * 1000
    if body.get("expiration") is not None:
        try:
            expiration = min(expiration, int(body["expiration"]))
        except (TypeError, ValueError) as err:
            raise bad_request("Invalid expiration.", location="resource.expiration") from err
    # the URI names the collection as requested (``primary`` stays ``primary``); the
    # resourceId is per calendar, whatever name was used
    quoted = urllib.parse.quote(call.path_params["calendarId"], safe="")
    channel = Channel(
        id=str(channel_id), calendar_id=calendar.id, user=call.user, address=str(address),
        token=None if token is None else str(token), expiration_ms=expiration,
        resource_id=calendar.resource_id,
        resource_uri=f"{state.public_url}/calendar/v3/calendars/{quoted}/events?alt=json")
    state.channels.add(channel)
    state.push.send(channel, "sync")
    return channel.resource()


HANDLERS: dict[str, Handler] = {
    "calendar.events.list": events_list,
    "calendar.events.instances": events_instances,
    "calendar.events.get": events_get,
    "calendar.events.insert": events_insert,
    "calendar.events.patch": events_patch,
    "calendar.events.update": events_update,
    "calendar.events.delete": events_delete,
    "calendar.events.quickAdd": events_quick_add,
    "calendar.events.import": events_import,
    "calendar.events.move": events_move,
    "calendar.events.watch": events_watch,
}


def push_host_verified(host: str, domains: tuple[str, ...] | None) -> bool:
    """Whether a push address's host lies in one of the project's verified domains
    (``None``: every host does)."""
    if domains is None:
        return True
    host = host.lower().rstrip(".")
    return any(host == domain or host.endswith("." + domain)
               for domain in (d.lower().rstrip(".") for d in domains))
