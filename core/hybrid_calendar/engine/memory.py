"""What the engine remembers between jobs within one process.

Lost on restart by design: all are throttles whose worst case after a restart is one
extra call (a presence poll, an invite write, a channel renewal) per user or event.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class EngineMemory:
    """Per-process engine bookkeeping, held by the gateway (:attr:`Gateway.memory`).

    :ivar presence_polled: user id to when the user's out-of-office state was last read.
    :ivar invite_writes: ``"<user id>/<event id>"`` to the times the gateway wrote that
        invite within the fuse window (see :mod:`hybrid_calendar.engine.invites`).
    :ivar channel_renewals: user id to the failed renewals of the user's push channel in a
        row and when the next may be tried (see :mod:`hybrid_calendar.engine.sweeps`).
    :ivar settings_read: user id to the turn (a POSIX time) up to which the user's
        language and time zone were read (see :mod:`hybrid_calendar.engine.user_settings`).
    """

    presence_polled: dict[str, datetime] = field(default_factory=dict)
    invite_writes: dict[str, deque[datetime]] = field(default_factory=dict)
    channel_renewals: dict[str, tuple[int, datetime]] = field(default_factory=dict)
    settings_read: dict[str, float] = field(default_factory=dict)
