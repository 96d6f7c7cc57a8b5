"""calendarList.list / get, with incremental sync as the reference documents it.

``syncToken`` "makes the result of this list request contain only entries that have
changed since then … All entries deleted and hidden since the previous list request will
always be in the result set"; ``minAccessRole`` cannot be combined with it; an expired
token answers 410 (discovery, calendarList.list). Entries are the caller's own calendar
and calendars shared with them (ACL ≥ reader). The emulator has no calendarList writes, so
an entry "changes" only by appearing or disappearing; the token (MAC-protected, like the
events tokens, and invalidated with them by ``invalidate_sync_tokens``) carries the ids
listed so far, and a removed calendar comes back as
``{"kind", "etag", "id", "deleted": true}``. ``maxResults`` (default 100, at most 250)
pages with ``pageToken``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from hybrid_calendar_google_emulator.access import ROLES, access_role, rank, resolve
from hybrid_calendar_google_emulator.api_errors import ApiError, full_sync_required
from hybrid_calendar_google_emulator.dispatch import Call

DEFAULT_PAGE = 100
MAX_PAGE = 250


def calendar_entry(call: Call, calendar_id: str, role: str) -> dict[str, Any]:
    """A CalendarListEntry for ``calendar_id`` as the caller sees it."""
    return {"kind": "calendar#calendarListEntry",
            "etag": f'"{calendar_id.__hash__() & 0xffffff}"',
            "id": calendar_id, "summary": calendar_id,
            "timeZone": call.state.timezone_of(calendar_id),
            "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
            "accessRole": role, "defaultReminders": [], "primary": calendar_id == call.user,
            "selected": True}


def _entries(call: Call) -> dict[str, dict[str, Any]]:
    """The caller's calendar list now, by calendar id."""
    entries: dict[str, dict[str, Any]] = {}
    for calendar in call.state.calendars.values():
        role = access_role(calendar, call.user)
        if calendar.id == call.user or (rank(role) >= rank("reader") and any(
                r["scope"].get("value") == call.user for r in calendar.acl.values())):
            entries[calendar.id] = calendar_entry(call, calendar.id, role)
    return entries


def _mac(call: Call, payload: bytes) -> bytes:
    return hmac.new(call.state.sync_tokens.secret, b"calendarList:" + payload,
                    hashlib.sha256).digest()[:12]


def _encode(call: Call, kind: str, data: Any) -> str:
    payload = json.dumps([kind, call.user, data], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload + _mac(call, payload)).decode().rstrip("=")


def _decode(call: Call, kind: str, token: str) -> Any:
    """The data in a token this emulator issued to the caller, else ``ValueError``."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload, mac = raw[:-12], raw[-12:]
        if not hmac.compare_digest(mac, _mac(call, payload)):
            raise ValueError("bad mac")
        found_kind, user, data = json.loads(payload)
    except (ValueError, binascii.Error, TypeError) as err:
        raise ValueError("bad token") from err
    if found_kind != kind or user != call.user:
        raise ValueError("not this caller's token")
    return data


def _invalid(name: str, message: str) -> ApiError:
    return ApiError(400, "invalid", message, location=name, location_type="parameter")


def _page_size(call: Call) -> int:
    text = call.param("maxResults")
    if text is None:
        return DEFAULT_PAGE
    try:
        size = int(text)
    except ValueError as err:
        raise _invalid("maxResults", f"Invalid value '{text}'.") from err
    if size < 1:
        raise _invalid("maxResults", f"Invalid value '{text}'. Values must be >= 1")
    return min(size, MAX_PAGE)


def calendar_list_list(call: Call) -> dict[str, Any]:
    """calendarList.list: full or incremental (``syncToken``), paged."""
    size = _page_size(call)
    page_token = call.param("pageToken")
    if page_token:
        try:
            ids, known = _decode(call, "page", page_token)
        except ValueError as err:
            raise _invalid("pageToken", "Invalid page token.") from err
    else:
        ids, known = _first_page_ids(call)
    current = _entries(call)
    result: dict[str, Any] = {"kind": "calendar#calendarList",
                              "etag": f'"p{call.state.journal.seq:016d}"',
                              "items": [current.get(cal_id) or _deleted(cal_id)
                                        for cal_id in ids[:size]]}
    if len(ids) > size:
        result["nextPageToken"] = _encode(call, "page", [ids[size:], known])
    else:
        result["nextSyncToken"] = _encode(call, "sync", [_generation(call), known])
    return result


def _generation(call: Call) -> int:
    """The caller's calendar generation (``invalidate_sync_tokens`` bumps it: 410)."""
    own = call.state.calendars.get(call.user)
    return own.generation if own is not None else 0


def _deleted(calendar_id: str) -> dict[str, Any]:
    """What an incremental listing returns for an entry no longer in the list."""
    return {"kind": "calendar#calendarListEntry",
            "etag": f'"{calendar_id.__hash__() & 0xffffff}"', "id": calendar_id,
            "deleted": True}


def _first_page_ids(call: Call) -> tuple[list[str], list[str]]:
    """The ids a new listing returns and the ids its sync token will remember."""
    current = _entries(call)
    sync_token = call.param("syncToken")
    min_role = call.param("minAccessRole")
    if min_role is not None and min_role not in ROLES[1:]:
        raise _invalid("minAccessRole", f"Invalid value for minAccessRole: {min_role}")
    if sync_token is None:   # a full listing has nothing deleted to show
        return [cal_id for cal_id, entry in current.items()
                if min_role is None or rank(entry["accessRole"]) >= rank(min_role)
                ], sorted(current)
    if min_role is not None:
        raise _invalid("minAccessRole",
                       "minAccessRole cannot be specified together with syncToken.")
    for name in ("showDeleted", "showHidden"):
        if call.param(name) == "false":
            raise _invalid(name, f"{name}=false is not allowed with syncToken.")
    try:
        generation, listed = _decode(call, "sync", sync_token)
        known = {str(cal_id) for cal_id in listed}
    except (ValueError, TypeError) as err:
        raise full_sync_required() from err
    if generation != _generation(call):
        raise full_sync_required()
    changed = [cal_id for cal_id in current if cal_id not in known]
    return changed + sorted(known - set(current)), sorted(current)


def calendar_list_get(call: Call) -> dict[str, Any]:
    """calendarList.get."""
    calendar, role = resolve(call.state, call.path_params["calendarId"], call.user)
    return calendar_entry(call, calendar.id, role)
