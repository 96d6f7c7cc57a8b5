"""What the engine remembers between jobs within one process.

Lost on restart by design: both are throttles whose worst case after a restart is one
extra call (a presence poll, an invite write) per user or event.
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
    """

    presence_polled: dict[str, datetime] = field(default_factory=dict)
    invite_writes: dict[str, deque[datetime]] = field(default_factory=dict)
