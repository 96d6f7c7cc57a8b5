"""The ``hybrid-calendar parse-join`` command: Google event JSON in, join JSON out.

Reads one event resource from stdin and prints one JSON object (or ``null``); with
``--jsonl`` reads one event per line and prints one result per line. A line that is not
an event prints ``{"error": ..., "line": N}`` and the command goes on with the next one.

It belongs to the Google plugin because its input is Google's ``Event`` resource; the
detection itself is the core's provider-neutral :func:`hybrid_calendar.join_info.detect`
on the converted :class:`~hybrid_calendar.models.CalendarEvent`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from hybrid_calendar.join_info.detect import detect
from hybrid_calendar.join_info.dial import DialRule, parse_rules
from hybrid_calendar.models import JoinInfo
from hybrid_calendar_google.event_json import EventFormatError, event_from_google


def join_to_json(join: JoinInfo | None) -> dict[str, Any] | None:
    """The JSON form of a join result: provider, url, dial, source, meeting_id, passcode."""
    if join is None:
        return None
    result: dict[str, Any] = {"provider": join.provider, "url": join.url, "dial": join.dial,
                              "source": join.source, "meeting_id": join.meeting_id,
                              "passcode": join.passcode}
    for key, value in join.extra.items():
        result.setdefault(key, value)
    return result


def parse_line(line: str, rules: Sequence[DialRule] = ()) -> dict[str, Any] | None:
    """Parse one event's JSON text; raises ``ValueError`` for malformed input."""
    return join_to_json(detect(event_from_google(json.loads(line)), rules))


def run_jsonl(lines: Iterable[str], out: TextIO, rules: Sequence[DialRule] = ()) -> int:
    """Process one event per line; return the number of lines that failed."""
    failures = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():  # still answered, so output line N belongs to input line N
            failures += 1
            out.write(json.dumps({"error": "empty line", "line": number}) + "\n")
            continue
        try:
            result: Any = parse_line(line, rules)
        except (ValueError, RecursionError) as err:
            failures += 1
            result = {"error": _describe(err), "line": number}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return failures


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``parse-join``."""
    parser.add_argument("--jsonl", action="store_true",
                        help="read one event per line and print one result per line")
    parser.add_argument("--rule", action="append", default=[], metavar="'REGEX => TEMPLATE'",
                        help="an admin dial rule (repeatable), as in join_info.dial_rules")
    parser.add_argument("--config", help="read join_info.dial_rules from this TOML file")


def run(args: argparse.Namespace) -> int:
    """Execute ``parse-join`` on stdin/stdout."""
    rules = _rules(args)
    if args.jsonl:
        run_jsonl(sys.stdin, sys.stdout, rules)
        return 0
    try:
        result: Any = parse_line(sys.stdin.read(), rules)
    except (ValueError, RecursionError) as err:
        print(json.dumps({"error": _describe(err)}), file=sys.stdout)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _rules(args: argparse.Namespace) -> tuple[DialRule, ...]:
    lines = list(args.rule)
    if args.config:
        from pathlib import Path

        from hybrid_calendar.config import read_file

        section = read_file(Path(args.config)).get("join_info", {})
        configured = section.get("dial_rules", []) if isinstance(section, dict) else []
        lines = [str(line) for line in configured] + lines
    return parse_rules(lines)


def _describe(err: BaseException) -> str:
    if isinstance(err, EventFormatError):
        return str(err)
    if isinstance(err, json.JSONDecodeError):
        return f"invalid JSON at column {err.colno}"
    return "input is not a calendar event"
