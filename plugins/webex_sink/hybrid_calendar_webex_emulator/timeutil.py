"""Times on the wire: ISO 8601 in and out, minute rounding, time zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hybrid_calendar_webex_emulator.errors import bad_request


def iso(moment: datetime) -> str:
    """``2026-12-01T10:00:00.000Z`` (UTC, milliseconds), as Webex stamps ``created``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{moment.microsecond // 1000:03d}Z"


def parse(value: object, name: str) -> datetime:
    """An aware datetime from an ISO 8601 string (naive: UTC).

    :raises ApiError: 400 naming ``name``.
    """
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"{name} is required.")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as err:
        raise bad_request(f"Invalid {name}: {value}.") from err
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def zone(name: object) -> ZoneInfo:
    """An IANA time zone.

    :raises ApiError: 400 for an unknown zone.
    """
    if not isinstance(name, str):
        raise bad_request("timezone must be a string.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise bad_request(f"Invalid timezone: {name}.") from err


def local(moment: datetime, tz: ZoneInfo) -> str:
    """``moment`` in ``tz`` without fractions; ``Z`` for UTC."""
    text = moment.astimezone(tz).replace(microsecond=0).isoformat()
    return text.replace("+00:00", "Z") if tz.key in ("UTC", "Etc/UTC", "GMT") else text


def floor_minute(moment: datetime) -> datetime:
    """``moment`` without seconds."""
    return moment.replace(second=0, microsecond=0)


def ceil_minute(moment: datetime) -> datetime:
    """The next whole minute at or after ``moment``."""
    floored = floor_minute(moment)
    return floored if floored == moment else floored + timedelta(minutes=1)
