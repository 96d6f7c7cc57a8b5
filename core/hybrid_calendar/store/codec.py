"""Turning models into encrypted rows and back (the only place that knows the columns)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from hybrid_calendar.errors import KeyManagementError
from hybrid_calendar.models import (
    Channel,
    JoinInfo,
    Meeting,
    Organisation,
    SyncState,
    User,
    UserState,
)
from hybrid_calendar.store.base import SYNC_KEY_PREFIX, SYNC_KIND, FieldCipher, Sealer, UserContext
from hybrid_calendar.store.sqlite_base import dt, ts

log = logging.getLogger(__name__)

MEETING_SEALED = ("calendar_id", "title", "description", "location", "organizer", "attendees",
                  "join_info", "html_link")
"""Meeting fields stored encrypted: together in :data:`ROW_COLUMN`, or (rows written
before migration ``m010``) one token per column of these names."""

ROW_COLUMN = "sealed"
"""The meetings column holding one token over all of a row's :data:`MEETING_SEALED`
fields (a JSON object); the per-field columns of such a row hold empty strings."""

DIGEST_COLUMN = "digest"
"""The meetings column holding the keyed digest of the text sealed in :data:`ROW_COLUMN`
(:func:`meeting_digest`, migration ``m017``): equal digests mean equal sealed content, so
a store tells an unchanged meeting from a changed one without opening its token (a seal
differs every time). ``NULL`` in rows written before ``m017``."""


USER_COLUMNS = ("id", "org_id", "email", "state", "reason", "provider", "locale", "timezone")
"""Columns :func:`row_to_user` reads."""


ORG_COLUMNS = ("id", "name", "domain", "provider", "settings")
SYNC_STATE_COLUMNS = ("user_id", "cursor", "last_sync_at", "out_of_office")
USER_CONTEXT_SELECT = (
    "SELECT " + ", ".join(f"u.{column}" for column in USER_COLUMNS) + ", "
    + ", ".join(f"o.{column} AS o_{column}" for column in ORG_COLUMNS) + ", "
    + ", ".join(f"s.{column} AS s_{column}" for column in SYNC_STATE_COLUMNS)
    + " FROM users u LEFT JOIN organisations o ON o.id = u.org_id"
    " LEFT JOIN sync_state s ON s.user_id = u.id")
"""A user with their organisation and sync state in one read (``Store.get_user_context``;
each store adds ``WHERE u.id = <placeholder>``): the user's columns by their names, the
organisation's prefixed ``o_``, the sync state's ``s_`` (NULL when there is no row)."""


def row_to_user_context(sealer: Sealer, row: Mapping[str, Any]) -> UserContext:
    """A :data:`USER_CONTEXT_SELECT` row as the user (opened with ``sealer``, the
    organisation's), their organisation (``None`` when missing) and sync state (an empty
    one when the user has none yet)."""
    user = row_to_user(sealer, row)
    org = None if row["o_id"] is None else row_to_org(
        {c: row[f"o_{c}"] for c in ORG_COLUMNS})
    state = SyncState(user.id) if row["s_user_id"] is None else row_to_sync_state(
        {c: row[f"s_{c}"] for c in SYNC_STATE_COLUMNS})
    return UserContext(user, org, state)


def job_payload(job_id: int, text: str | None) -> Mapping[str, Any]:
    """A job row's ``payload`` column as a mapping; ``{}`` with a warning when it is not a
    JSON object (a damaged row: its handler then fails and the job is retried and parked
    as any failing job is, instead of failing the claim and every claim after it)."""
    try:
        payload = json.loads(text or "{}")
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        return payload
    log.warning("job %s has an unreadable payload; its handler gets none", job_id)
    return {}


def sync_job_user(kind: str, key: str) -> str | None:
    """The user of a sync job by its key (``sync:<user id>``, as ``engine.user_job``
    makes it), or ``None``: what a claim reads the context of (the handler checks it
    against the payload's ``user_id``)."""
    if kind != SYNC_KIND or not key.startswith(SYNC_KEY_PREFIX):
        return None
    return key[len(SYNC_KEY_PREFIX):]


async def claimed_context(cipher: FieldCipher, row: Mapping[str, Any]) -> UserContext | None:
    """A :data:`USER_CONTEXT_SELECT` row read with a job's claim, opened
    (:func:`row_to_user_context`); ``None`` when the keys cannot open it now (the KMS is
    not ready, a key is gone): the claim stands, and the job's handler reads the context
    itself and fails as a job does (retried), never the claim."""
    try:
        return row_to_user_context(await cipher.sealer(row["org_id"], None), row)
    except KeyManagementError:
        return None


def row_to_org(row: Mapping[str, Any]) -> Organisation:
    """An ``organisations`` row."""
    return Organisation(id=row["id"], name=row["name"], domain=row["domain"],
                        provider=row["provider"], settings=json.loads(row["settings"] or "{}"))


def row_to_sync_state(row: Mapping[str, Any]) -> SyncState:
    """A ``sync_state`` row."""
    ooo = row["out_of_office"]
    return SyncState(user_id=row["user_id"], cursor=row["cursor"],
                     last_sync_at=dt(row["last_sync_at"]),
                     out_of_office=None if ooo is None else bool(ooo))


def row_to_channel(row: Mapping[str, Any]) -> Channel:
    """A ``channels`` row (its token is the stored digest)."""
    expires = dt(row["expires_at"])
    assert expires is not None
    return Channel(id=row["id"], user_id=row["user_id"], resource_id=row["resource_id"],
                   token=row["token_hash"], expires_at=expires, provider=row["provider"])


def meeting_row_id(user_id: str, event_id: str) -> str:
    """Row identity bound into each meeting ciphertext."""
    return f"{user_id}/{event_id}"


def meeting_to_row(sealer: Sealer, meeting: Meeting) -> dict[str, Any]:
    """Encrypt a meeting into a ``meetings`` row: its sensitive fields as one JSON object
    sealed once, bound to the row and to :data:`ROW_COLUMN` (one AES-GCM operation per
    row instead of one per field: docs/performance.md)."""
    row = meeting_plain_columns(meeting)
    clear = meeting_clear(meeting)
    row[ROW_COLUMN] = seal_meeting_clear(sealer, meeting, clear)
    row[DIGEST_COLUMN] = meeting_digest(sealer, meeting, clear)
    return row


PLAIN_COLUMNS = ("user_id", "event_id", "status", "start_at", "end_at", "all_day",
                 "recurring_event_id", "etag", "marker")
"""The meetings columns stored in clear (:func:`meeting_plain_columns`), in that order."""


def meeting_plain_columns(meeting: Meeting) -> dict[str, Any]:
    """A ``meetings`` row without its sealed token: :data:`PLAIN_COLUMNS` plus the empty
    per-field columns of the one-token format."""
    row = dict(zip(PLAIN_COLUMNS, meeting_plain_values(meeting), strict=True))
    row.update(_EMPTY_FIELDS)
    return row


def meeting_plain_values(meeting: Meeting) -> tuple[Any, ...]:
    """The values of :data:`PLAIN_COLUMNS`, in that order (the SQLite store binds them by
    position: cheaper than a dict bound by name)."""
    return (meeting.user_id, meeting.event_id, meeting.status, ts(meeting.start),
            ts(meeting.end), int(meeting.all_day), meeting.recurring_event_id, meeting.etag,
            meeting.marker)


def meeting_clear(meeting: Meeting) -> str:
    """The JSON text :data:`ROW_COLUMN` seals: the meeting's sensitive fields (the same
    meeting always gives the same text, so a stored row can be compared with it).

    ``"private": true`` is written only for a private meeting (:attr:`Meeting.private`),
    and ``"declined": [...]`` only when an attendee declined (:attr:`Meeting.declined`),
    last; absent means not private and nobody declined. So the text of every other
    meeting is the one written before these existed, and rows stored then still compare
    as unchanged (:data:`DIGEST_COLUMN`) without any migration."""
    clear: dict[str, Any] = {
        "calendar_id": meeting.calendar_id, "title": meeting.title,
        "description": meeting.description, "location": meeting.location,
        "organizer": meeting.organizer or "", "attendees": list(meeting.attendees),
        "join_info": join_to_json(meeting.join), "html_link": meeting.html_link or "",
    }
    if meeting.private:
        clear["private"] = True
    if meeting.declined:
        clear["declined"] = list(meeting.declined)
    return compact_json(clear)


_REFUSE = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
"""Types ``json.dumps`` refuses and orjson would write: left to ``json.dumps`` (which
raises, as before)."""


def compact_json(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``, the same text,
    made by orjson (≈ 20 times faster for a meeting); what orjson refuses (a lone
    surrogate in a string, a key that is not a string, a type it does not know) goes
    through ``json.dumps``."""
    try:
        return orjson.dumps(value, option=_REFUSE).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def seal_meeting_clear(sealer: Sealer, meeting: Meeting, clear: str) -> str:
    """Seal :func:`meeting_clear`'s text for the meeting's row."""
    return sealer.seal(clear, table="meetings",
                       row_id=meeting_row_id(meeting.user_id, meeting.event_id),
                       column=ROW_COLUMN)


def meeting_digest(sealer: Sealer, meeting: Meeting, clear: str) -> str:
    """The keyed digest of :func:`meeting_clear`'s text for :data:`DIGEST_COLUMN` (bound to
    the meeting's row and to :data:`ROW_COLUMN`, under a key of the owner: never a plain
    hash of sensitive text)."""
    return sealer.digest(clear, table="meetings",
                         row_id=meeting_row_id(meeting.user_id, meeting.event_id),
                         column=ROW_COLUMN)


def open_meeting_clear(sealer: Sealer, user_id: str, event_id: str, token: str) -> str:
    """The JSON text sealed in a row's :data:`ROW_COLUMN` (inverse of
    :func:`seal_meeting_clear`)."""
    return sealer.open(token, table="meetings", row_id=meeting_row_id(user_id, event_id),
                       column=ROW_COLUMN)


_EMPTY_FIELDS = dict.fromkeys(MEETING_SEALED, "")


def row_to_meeting(sealer: Sealer, row: Mapping[str, Any]) -> Meeting:
    """Decrypt a ``meetings`` row (one token per row, or one per field for older rows)."""
    row_id = meeting_row_id(row["user_id"], row["event_id"])
    sealed = row.get(ROW_COLUMN)
    if sealed:
        clear = json.loads(sealer.open(sealed, table="meetings", row_id=row_id,
                                       column=ROW_COLUMN))
    else:
        clear = {column: sealer.open(row[column], table="meetings", row_id=row_id,
                                     column=column) for column in MEETING_SEALED}
        clear["attendees"] = json.loads(clear["attendees"])
        clear["join_info"] = json.loads(clear["join_info"])
    start, end = dt(row["start_at"]), dt(row["end_at"])
    assert start is not None and end is not None
    return Meeting(
        user_id=row["user_id"], event_id=row["event_id"], calendar_id=clear["calendar_id"],
        status=row["status"], start=start, end=end, title=clear["title"],
        description=clear["description"], location=clear["location"],
        organizer=clear["organizer"] or None,
        attendees=tuple(clear["attendees"]),
        join=join_from_json(clear["join_info"]), all_day=bool(row["all_day"]),
        recurring_event_id=row["recurring_event_id"], etag=row["etag"], marker=row["marker"],
        html_link=clear["html_link"] or None, private=clear.get("private") is True,
        declined=_addresses(clear.get("declined")),
    )


def _addresses(value: Any) -> tuple[str, ...]:
    """A sealed text's list of addresses (absent: none; anything not a string skipped)."""
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def join_to_json(join: JoinInfo | None) -> dict[str, Any] | None:
    """JoinInfo as a JSON-able dict."""
    if join is None:
        return None
    return {"provider": join.provider, "url": join.url, "source": join.source,
            "dial": join.dial, "meeting_id": join.meeting_id, "passcode": join.passcode,
            "extra": dict(join.extra)}


def join_from_json(data: Mapping[str, Any] | None) -> JoinInfo | None:
    """Inverse of :func:`join_to_json`."""
    if data is None:
        return None
    return JoinInfo(provider=data["provider"], url=data.get("url"), source=data["source"],
                    dial=data.get("dial"), meeting_id=data.get("meeting_id"),
                    passcode=data.get("passcode"), extra=data.get("extra") or {})


def user_to_row(sealer: Sealer, user: User, email_index: str, now: float) -> dict[str, Any]:
    """Encrypt a user into a ``users`` row (email sealed under the organisation's key)."""
    return {
        "id": user.id, "org_id": user.org_id,
        "email": sealer.seal(user.email, table="users", row_id=user.id, column="email"),
        "email_index": email_index, "state": str(user.state), "reason": user.reason,
        "provider": user.provider, "locale": user.locale, "timezone": user.timezone,
        "updated_at": now,
    }


@dataclass(frozen=True, slots=True)
class NewUserRows:
    """What both stores' ``add_users`` write and answer from: each organisation's sealer,
    one ``users`` row per address (the first of an address given twice wins; ``created_at``
    and ``updated_at`` set) and, per given user in order, its ``(org_id, email_index)``."""

    sealers: dict[str, Sealer]
    rows: dict[tuple[str, str], dict[str, Any]]
    keys: list[tuple[str, str]]


async def new_user_rows(cipher: FieldCipher, users: Sequence[User], now: float) -> NewUserRows:
    """Seal ``users`` into the rows an ``add_users`` inserts (see :class:`NewUserRows`)."""
    sealers = {org: await cipher.sealer(org, None) for org in {u.org_id for u in users}}
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    keys: list[tuple[str, str]] = []
    for user in users:
        key = (user.org_id, await cipher.blind_index(user.org_id, user.email))
        keys.append(key)
        if key not in rows:
            rows[key] = {**user_to_row(sealers[user.org_id], user, key[1], now),
                         "created_at": now}
    return NewUserRows(sealers, rows, keys)


async def sealed_user_row(cipher: FieldCipher, user: User, now: float) -> dict[str, Any]:
    """The ``users`` row ``Store.put_user`` writes (:func:`user_to_row` with the
    organisation's sealer and blind index, ``created_at`` and ``updated_at`` set to
    ``now``; an existing row keeps its ``created_at``)."""
    sealer = await cipher.sealer(user.org_id, None)
    index = await cipher.blind_index(user.org_id, user.email)
    return {**user_to_row(sealer, user, index, now), "created_at": now}


def row_to_user(sealer: Sealer, row: Mapping[str, Any]) -> User:
    """Decrypt a ``users`` row."""
    return User(id=row["id"], org_id=row["org_id"],
                email=sealer.open(row["email"], table="users", row_id=row["id"], column="email"),
                state=UserState(row["state"]), reason=row["reason"], provider=row["provider"],
                locale=row["locale"], timezone=row["timezone"])
