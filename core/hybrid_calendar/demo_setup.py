"""What plugins receive and return when they contribute to ``hybrid-calendar demo``.

The demo (:mod:`hybrid_calendar.demo`) knows no provider: it calls the ``prepare_demo``
hook with a :class:`DemoSetup` (the demo organisation and where to keep files), and each
plugin that has something to show starts it (an emulator seeded with events) and answers
with a :class:`DemoPart`: the configuration the gateway needs to use it and the lines to
print. The demo then merges the parts (:func:`merge_parts`) into the gateway's settings.
A part may also hand the walkthrough a role it plays (:mod:`hybrid_calendar.demo_roles`):
the calendar whose invitations it drives, or the meeting service whose records it checks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from hybrid_calendar.clock import Clock, SystemClock
from hybrid_calendar.demo_roles import DemoCalendar, DemoMeetingService
from hybrid_calendar.errors import ConfigError


@dataclass(frozen=True)
class DemoSetup:
    """The demo's shared facts, handed to every ``prepare_demo`` implementation.

    :ivar domain: the demo organisation's domain (``demo.example``).
    :ivar users: the e-mail addresses of its users, in the order the demo activates them.
    :ivar data_dir: the demo's private directory (mode 0700) for keys and databases.
    :ivar now: the demo's start time; seed events relative to it.
    :ivar cleanup: register what must stop when the demo ends
        (``demo.cleanup.enter_context(running_emulator(...))``); it unwinds in reverse.
    :ivar clock: the demo's clock, which the walkthrough moves forward to each moment it
        shows (a Join button at a meeting's start); an emulator that keeps time uses it.
    """

    domain: str
    users: tuple[str, ...]
    data_dir: Path
    now: datetime
    cleanup: contextlib.ExitStack
    clock: Clock = field(default_factory=SystemClock)


@dataclass(frozen=True)
class DemoPart:
    """One plugin's contribution to the demo.

    :ivar settings: configuration the gateway needs, by section (e.g. the base URL of a
        started emulator). A section belongs to one part: two parts setting the same key
        is an error.
    :ivar notes: lines shown at the end of the demo (e.g. ``Google emulator on <url>``).
    :ivar report: called once the walkthrough is over; returns lines that show what the
        gateway did on the plugin's side (e.g. meetings it created in the emulator).
    :ivar calendar: the calendar role, for the plugin running a calendar emulator.
    :ivar meeting_service: the meeting-service role, for the plugin running a meeting
        service's emulator.
    """

    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    report: Callable[[], Sequence[str]] | None = None
    calendar: DemoCalendar | None = None
    meeting_service: DemoMeetingService | None = None


def merge_parts(base: Mapping[str, Mapping[str, Any]], parts: Iterable[DemoPart]
                ) -> dict[str, dict[str, Any]]:
    """``base`` with every part's settings added, by section.

    :raises ConfigError: two contributors set the same key.
    """
    merged = {section: dict(values) for section, values in base.items()}
    for part in parts:
        for section, values in part.settings.items():
            target = merged.setdefault(section, {})
            for key, value in values.items():
                if key in target:
                    raise ConfigError(f"{section}.{key}",
                                      "is set by more than one part of the demo")
                target[key] = value
    return merged
