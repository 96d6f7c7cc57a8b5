"""Time helpers: RFC 3339 parsing/formatting and an event's start/end as aware datetimes."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hybrid_calendar_google_emulator.api_errors import bad_request

UTC = dt.UTC


def zone(name: str | None, default: str = "UTC") -> dt.tzinfo:
    """The IANA zone ``name`` (``default`` when missing or unknown)."""
    for candidate in (name, default, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return UTC


def parse_rfc3339(value: str, location: str) -> dt.datetime:
    """An aware datetime from an RFC 3339 timestamp with offset.

    :raises ApiError: 400 ``invalid`` naming ``location`` when malformed or without offset.
    """
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise bad_request(f"Bad Request: invalid value for {location}", "badRequest",
                          location=location)
    return parsed


def format_utc(value: dt.datetime) -> str:
    """``2024-01-01T09:00:00.000Z`` (Google's form for ``updated``/``created``)."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def format_local(value: dt.datetime) -> str:
    """``2024-01-01T10:00:00+01:00`` (Google's form for event times; ``Z`` for offset 0)."""
    text = value.replace(microsecond=0).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def now_utc() -> dt.datetime:
    """The current time, aware UTC."""
    return dt.datetime.now(UTC)


class Clock:
    """Strictly increasing microsecond stamps for ``updated`` and etags."""

    def __init__(self) -> None:
        self._last = 0

    def tick(self) -> int:
        """A microsecond timestamp larger than any previously returned."""
        stamp = max(time.time_ns() // 1000, self._last + 1)
        self._last = stamp
        return stamp


def stamp_to_datetime(stamp_us: int) -> dt.datetime:
    """Microsecond epoch stamp to aware UTC datetime."""
    return dt.datetime.fromtimestamp(stamp_us / 1_000_000, UTC)


def event_time(value: Any, default_tz: str, location: str) -> dt.datetime | dt.date:
    """An ``EventDateTime`` as aware datetime (``dateTime``) or date (``date``).

    ``dateTime`` without offset is read in its ``timeZone`` (else ``default_tz``).
    :raises ApiError: 400 when neither is present or a value is malformed.
    """
    if not isinstance(value, dict):
        raise bad_request("Missing time.", "required", location=location)
    if value.get("date"):
        try:
            return dt.date.fromisoformat(str(value["date"]))
        except ValueError as err:
            raise bad_request("Invalid value for date.", location=location) from err
    if value.get("dateTime"):
        text = str(value["dateTime"])
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError as err:
            raise bad_request("Invalid value for dateTime.", location=location) from err
        if parsed.tzinfo is None:
            if not value.get("timeZone"):
                raise bad_request("Missing time zone definition for start time.",
                                  location=location)
            parsed = parsed.replace(tzinfo=zone(value.get("timeZone"), default_tz))
        return parsed
    raise bad_request("Missing time.", "required", location=location)


def as_instant(value: dt.datetime | dt.date, tz: dt.tzinfo) -> dt.datetime:
    """A point in time: datetimes unchanged, dates at local midnight in ``tz``."""
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime(value.year, value.month, value.day, tzinfo=tz)
