"""Users of the emulated domain and the request log's records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_USER_SETTINGS: dict[str, str] = {
    "locale": "en", "timezone": "Etc/GMT", "autoAddHangouts": "false",
    "dateFieldOrder": "MDY", "defaultEventLength": "60", "format24HourTime": "false",
    "hideInvitations": "false", "hideWeekends": "false",
    "remindOnRespondedEventsOnly": "false", "showDeclinedEvents": "true",
    "useKeyboardShortcuts": "true", "weekStart": "0",
}


@dataclass
class User:
    """A user of the emulated Workspace domain."""

    email: str
    delegated: bool = True
    """Whether the service account's DWD grant covers this user (Admin console)."""
    suspended: bool = False
    has_mailbox: bool = True
    settings: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_USER_SETTINGS))
    vacation: dict[str, Any] = field(default_factory=lambda: {"enableAutoReply": False})


@dataclass
class RequestRecord:
    """One API call as seen by the emulator (no bodies, no tokens)."""

    method: str
    path: str
    user: str | None
    status: int
    operation: str | None = None
    units: int = 0
    """Quota units charged for the call (Google's table, :data:`~.dispatch.QUOTA_COST`);
    0 when it was refused before being counted (bad credentials, rate limit)."""
