"""Recurrence expansion for masters with ``recurrence`` lines (RRULE, EXRULE, RDATE, EXDATE).

Expansion happens in wall-clock time of ``start.timeZone`` (zoneinfo), so a weekly 09:00
meeting stays at 09:00 across DST changes. RRULE semantics come from ``dateutil.rrule``
(FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, WKST ...).
Instance ids follow Google: ``{masterId}_{YYYYMMDDTHHMMSSZ}`` (UTC) for timed events and
``{masterId}_{YYYYMMDD}`` for all-day events.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from dateutil import rrule

from hybrid_calendar_google_emulator.api_errors import bad_request
from hybrid_calendar_google_emulator.timeutil import UTC, zone

_UNTIL = re.compile(r"UNTIL=(\d{8})(T\d{6})?(Z)?", re.IGNORECASE)


def instance_id(master_id: str, original: dt.datetime | dt.date) -> str:
    """Google's id of the instance of ``master_id`` originally starting at ``original``."""
    if isinstance(original, dt.datetime):
        return f"{master_id}_{original.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    return f"{master_id}_{original.strftime('%Y%m%d')}"


def split_instance_id(event_id: str) -> tuple[str, str] | None:
    """``(master_id, stamp)`` when ``event_id`` looks like an instance id."""
    match = re.fullmatch(r"(.+)_(\d{8}(?:T\d{6}Z)?)", event_id)
    return (match.group(1), match.group(2)) if match else None


def _fix_until(line: str, all_day: bool, tz: dt.tzinfo) -> str:
    def repl(match: re.Match[str]) -> str:
        day, clock, _utc = match.groups()
        if all_day:
            return f"UNTIL={day}"
        if clock is None:  # a date-only UNTIL on a timed series: end of that local day
            local = dt.datetime.strptime(day, "%Y%m%d").replace(
                hour=23, minute=59, second=59, tzinfo=tz)
            return "UNTIL=" + local.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        if _utc is None:
            local = dt.datetime.strptime(day + clock, "%Y%m%dT%H%M%S").replace(tzinfo=tz)
            return "UNTIL=" + local.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return match.group(0)
    return _UNTIL.sub(repl, line)


def _parse_dates(line: str, all_day: bool, tz: dt.tzinfo) -> list[dt.datetime]:
    head, _, values = line.partition(":")
    params = dict(p.split("=", 1) for p in head.split(";")[1:] if "=" in p)
    value_tz = zone(params["TZID"]) if "TZID" in params else tz
    result = []
    for raw in values.split(","):
        raw = raw.strip()
        if not raw:
            continue
        try:
            if len(raw) == 8:
                day = dt.datetime.strptime(raw, "%Y%m%d")
                result.append(day if all_day else day.replace(tzinfo=tz))
            else:
                stamp = dt.datetime.strptime(raw.rstrip("Zz"), "%Y%m%dT%H%M%S")
                stamp = stamp.replace(tzinfo=UTC if raw[-1] in "Zz" else value_tz)
                result.append(stamp.replace(tzinfo=None) if all_day else stamp)
        except ValueError as err:
            raise bad_request("Invalid recurrence rule.", location="recurrence") from err
    return result


def build_set(lines: list[str], start: dt.datetime | dt.date, tz_name: str | None
              ) -> rrule.rruleset:
    """An ``rruleset`` for ``lines`` anchored at ``start`` (aware datetime or date).

    :raises ApiError: 400 ``invalid`` for rules dateutil cannot parse.
    """
    all_day = not isinstance(start, dt.datetime)
    tz = zone(tz_name)
    if isinstance(start, dt.datetime):
        anchor = start.astimezone(tz)
    else:
        anchor = dt.datetime(start.year, start.month, start.day)
    result = rrule.rruleset()
    result.rdate(anchor)  # DTSTART is always the first instance (RFC 5545)
    for raw in lines:
        line = raw.strip()
        name = line.split(":", 1)[0].split(";", 1)[0].upper()
        try:
            if name in ("RRULE", "EXRULE"):
                rule = rrule.rrulestr(_fix_until(line, all_day, tz), dtstart=anchor)
                if name == "RRULE":
                    result.rrule(rule)
                else:
                    result.exrule(rule)
            elif name == "RDATE":
                for value in _parse_dates(line, all_day, tz):
                    result.rdate(value)
            elif name == "EXDATE":
                for value in _parse_dates(line, all_day, tz):
                    result.exdate(value)
            else:
                raise bad_request("Invalid recurrence rule.", location="recurrence")
        except (ValueError, TypeError) as err:
            raise bad_request("Invalid recurrence rule.", location="recurrence") from err
    return result


def occurrences(lines: list[str], start: dt.datetime | dt.date, tz_name: str | None, *,
                after: dt.datetime | None = None, before: dt.datetime | None = None,
                limit: int = 730) -> Iterator[dt.datetime | dt.date]:
    """Original start times of the series, optionally only those in ``[after, before)``.

    ``after``/``before`` are aware; results are aware datetimes in the series' zone, or
    dates for all-day series. At most ``limit`` results.
    """
    rules = build_set(lines, start, tz_name)
    all_day = not isinstance(start, dt.datetime)
    tz = zone(tz_name)

    def convert(value: dt.datetime) -> dt.datetime | dt.date:
        if all_day:
            return value.date()
        return value.astimezone(tz)

    if all_day:
        lo = after.astimezone(tz).replace(tzinfo=None) if after else None
        hi = before.astimezone(tz).replace(tzinfo=None) if before else None
    else:
        lo, hi = after, before
    stream: Iterator[dt.datetime] = rules.xafter(lo, inc=True) if lo is not None else iter(rules)
    for count, value in enumerate(stream, start=1):
        if hi is not None and value >= hi:
            break
        yield convert(value)
        if count >= limit:
            break
