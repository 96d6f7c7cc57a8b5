"""Calendars and their event rows: the data the Calendar API serves, with change sequence numbers.

Every mutation stamps the changed rows with a new value of the emulator-wide sequence
counter (:class:`Journal`); a sync token is just "changes after sequence N", so incremental
sync returns exactly the rows whose sequence is larger. Deleted events stay as
``status: cancelled`` tombstones, as on Google.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from hybrid_calendar_google_emulator.timeutil import Clock


class Journal:
    """The emulator-wide change counter and microsecond clock."""

    def __init__(self) -> None:
        self.seq = 0
        self.clock = Clock()

    def next(self) -> int:
        """A new, larger sequence number."""
        self.seq += 1
        return self.seq


@dataclass
class Calendar:
    """One calendar (every user has a primary calendar whose id is the user's email)."""

    id: str
    owner: str
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    seqs: dict[str, int] = field(default_factory=dict)
    exceptions: dict[str, set[str]] = field(default_factory=dict)
    """Master id -> ids of its stored exceptions (modified or cancelled instances)."""
    acl: dict[str, dict[str, Any]] = field(default_factory=dict)
    generation: int = 1
    """Bumped to invalidate every sync token issued for this calendar."""
    min_sync_seq: int = 0
    """Sync tokens older than this sequence are refused (410)."""
    conference_requests: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def resource_id(self) -> str:
        """The stable ``resourceId`` of this calendar's events collection (for watch)."""
        return hashlib.sha1(f"events:{self.id}".encode()).hexdigest()[:27]

    def store(self, event: dict[str, Any], seq: int) -> None:
        """Insert or replace an event row, recording its change sequence."""
        event_id = event["id"]
        self.events[event_id] = event
        self.seqs[event_id] = seq
        master = event.get("recurringEventId")
        if master:
            self.exceptions.setdefault(master, set()).add(event_id)

    def changed_since(self, seq: int) -> list[dict[str, Any]]:
        """Rows changed after ``seq``, oldest change first."""
        ids = sorted((s, i) for i, s in self.seqs.items() if s > seq)
        return [self.events[i] for _, i in ids]

    def exceptions_of(self, master_id: str) -> list[dict[str, Any]]:
        """The stored exceptions of a recurring master."""
        return [self.events[i] for i in self.exceptions.get(master_id, ()) if i in self.events]


def new_event_id() -> str:
    """A random id in Google's alphabet (base32hex lower case, 26 characters)."""
    return base64.b32hexencode(secrets.token_bytes(16)).decode().lower().rstrip("=")


def valid_client_id(event_id: str) -> bool:
    """Whether a client-supplied id is acceptable: ``[a-v0-9]``, 5-1024 characters."""
    return 5 <= len(event_id) <= 1024 and all(c in "0123456789abcdefghijklmnopqrstuv"
                                               for c in event_id)
