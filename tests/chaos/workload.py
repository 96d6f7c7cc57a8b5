"""Calendar changes the harness makes in the Google emulator, as people would.

Every change goes through the emulator's state methods (in its own process), which
behave like the API calls: new etags, sync-visible changes, push messages to the
gateway's channels (lost while the gateway is dead, as Google's are).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.chaos.remote import EmulatorError, Emulators

JOIN_LINK = "https://acme.webex.com/acme/j.php?MTID=m0123456789abcdef0123456789abcdef"
KEYWORDS = ("@webex", "@webex:onetime")
MAX_EVENTS_PER_USER = 300
"""Calendars are trimmed back to this many harness events (runs stay seconds long)."""


def timed(start: datetime, minutes: int = 30) -> dict[str, Any]:
    """``start``/``end`` of a timed event."""
    start = start.replace(second=0, microsecond=0)
    return {"start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
            "end": {"dateTime": (start + timedelta(minutes=minutes)).isoformat(),
                    "timeZone": "UTC"}}


@dataclass
class Calendars:
    """The harness's events per user, and which of them carry a keyword."""

    emulators: Emulators
    users: list[str]
    rng: random.Random
    events: dict[str, list[str]] = field(default_factory=dict)
    keyword_events: dict[str, set[str]] = field(default_factory=dict)
    serial: int = 0

    def _anywhere(self) -> datetime:
        """A start well inside the retention window (away from its edges)."""
        now = datetime.now(UTC)
        return now + timedelta(days=self.rng.randint(-5, 28), hours=self.rng.randint(0, 23))

    def _insert(self, email: str, body: dict[str, Any]) -> str:
        self.serial += 1
        body = {"summary": f"chaos {self.serial}", **body}
        if self.rng.random() < 0.3:
            others = [u for u in self.users if u != email]
            body["attendees"] = [{"email": email}, {"email": self.rng.choice(others)}]
        event_id = str(self.emulators.call("google.insert_event", email, body)["id"])
        self.events.setdefault(email, []).append(event_id)
        return event_id

    def bulk(self, email: str, count: int) -> None:
        """``count`` new events across the window (a large sync)."""
        for _ in range(count):
            self._insert(email, timed(self._anywhere()))
        self.trim(email)

    def edits(self, email: str, count: int) -> None:
        """Retitle or move ``count`` events in time (the sync sees new etags)."""
        for event_id in self._pick(email, count):
            change: dict[str, Any] = ({"summary": f"edited {self.rng.random():.6f}"}
                                      if self.rng.random() < 0.5 else timed(self._anywhere()))
            self._try("google.patch_event", email, event_id, change)

    def cancel(self, email: str, count: int) -> None:
        """Cancel ``count`` events."""
        for event_id in self._pick(email, count):
            if self._try("google.delete_event", email, event_id):
                self.events[email].remove(event_id)

    def move(self, email: str) -> None:
        """``events.move`` one event to another user's calendar."""
        for event_id in self._pick(email, 1):
            other = self.rng.choice([u for u in self.users if u != email])
            if self._try("google.move_event", email, event_id, email, other):
                self.events[email].remove(event_id)
                self.events.setdefault(other, []).append(event_id)

    def keywords(self, email: str, count: int, *, soon: bool = False,
                 keyword: str | None = None) -> None:
        """``count`` events with a scheduling keyword in Location (the gateway makes a
        meeting and writes one join block); ``soon``: starting within the Join-button
        lead time; ``keyword``: this one rather than a random one of :data:`KEYWORDS`."""
        for _ in range(count):
            start = self._soon() if soon else self._anywhere()
            chosen = keyword or self.rng.choice(KEYWORDS)
            event_id = self._insert(email, {**timed(start),
                                            "location": f"Room {self.serial} {chosen}"})
            self.keyword_events.setdefault(email, set()).add(event_id)

    def starting_soon(self, email: str, count: int) -> None:
        """``count`` events with a join link starting within the lead time: Join buttons
        fall due at once."""
        for _ in range(count):
            self._insert(email, {**timed(self._soon()), "location": JOIN_LINK})

    def _soon(self) -> datetime:
        return datetime.now(UTC) + timedelta(minutes=self.rng.uniform(1.5, 4.0))

    def trim(self, email: str) -> None:
        """Cancel the oldest harness events beyond :data:`MAX_EVENTS_PER_USER`."""
        mine = self.events.get(email, [])
        while len(mine) > MAX_EVENTS_PER_USER:
            event_id = mine.pop(0)
            self._try("google.delete_event", email, event_id)

    def _pick(self, email: str, count: int) -> list[str]:
        mine = self.events.get(email, [])
        return self.rng.sample(mine, min(count, len(mine)))

    def _try(self, call: str, *args: Any) -> bool:
        """A change that may meet an event changed meanwhile (e.g. declined): skipped."""
        try:
            self.emulators.call(call, *args)
        except EmulatorError:
            return False
        return True
