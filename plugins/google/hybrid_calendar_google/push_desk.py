"""The push receiver process's decisions: what to answer a notification, and what it asks.

:class:`PushDesk` holds what the receiver process (:mod:`.push_process`) knows — the
channels the gateway registered (id → user, resource, token digest, expiry), the replay
and rate state (:class:`~.push_guard.PushGuard`), the outcome counts, the refusal log
lines and the users to sync — and answers one notification with the checks of
:mod:`.push_checks`, as the in-process route (:mod:`.webhook`) does. It does no I/O of
its own: a channel it does not hold is asked of the gateway through ``lookup`` (the
gateway reads its store), and the gateway takes :meth:`PushDesk.take_batch` every
window.

Channels the gateway registered (its start-up snapshot, every ``events.watch``) stay
until the gateway removes them (``channels.stop``) or they expire; channels found by a
look-up are kept :data:`LOOKED_UP_SECONDS`, as the in-process cache keeps them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from hybrid_calendar_google.push_checks import Answer, check_channel_id, judge, unknown
from hybrid_calendar_google.push_guard import PushGuard
from hybrid_calendar_google.refusal_log import RefusalLog

LOOKED_UP_SECONDS = 60.0
"""How long a channel found by a look-up is kept (as :mod:`.channel_cache` keeps it)."""
MAX_CHANNELS = 1_000_000
"""Bound of the channel table (the gateway registers at most its own channels)."""

@dataclass(frozen=True, slots=True)
class Registration:
    """What the receiver knows of one channel."""

    user_id: str
    resource_id: str
    token_hash: str
    """:func:`hybrid_calendar.store.base.hash_channel_token` of the channel's token."""
    expires_at: float
    """Epoch seconds after which the entry is looked up again."""
    until: float | None = None
    """Monotonic deadline of a looked-up entry; ``None`` for a registered one."""

    def to_wire(self, channel_id: str) -> list[Any]:
        """The registration as sent over the control socket."""
        return [channel_id, self.user_id, self.resource_id, self.token_hash,
                self.expires_at]

    @classmethod
    def from_wire(cls, row: list[Any], until: float | None = None) -> tuple[str, Registration]:
        """``(channel id, registration)`` from :meth:`to_wire`'s list."""
        channel_id, user_id, resource_id, token_hash, expires_at = row
        return str(channel_id), cls(str(user_id), str(resource_id), str(token_hash),
                                    float(expires_at), until)


@dataclass
class Batch:
    """What the receiver hands the gateway once per window."""

    hints: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.hints or self.counts or self.lines)


class LookupFailedError(Exception):
    """The gateway could not say whether a channel exists (down, slow, store error)."""


Lookup = Callable[[str], Awaitable[Registration | None]]
"""Ask the gateway for a channel; raises :class:`LookupFailedError` when it cannot
answer."""


class PushDesk:
    """Channel table, checks and pending results of the receiver process."""

    def __init__(self, lookup: Lookup, clock: Callable[[], float] = time.time) -> None:
        self.lookup = lookup
        self.clock = clock
        self.ready = False
        """Whether the gateway's engine takes sync requests (else 503, as in-process)."""
        self.channels: dict[str, Registration] = {}
        self.guard = PushGuard()
        self._refusals = RefusalLog()
        self._pending = Batch()
        self._hinted: dict[str, None] = {}

    def register(self, rows: list[list[Any]]) -> None:
        """Add or replace channels the gateway registered."""
        for row in rows:
            channel_id, registration = Registration.from_wire(row)
            self._store(channel_id, registration)

    def remove(self, channel_ids: list[str]) -> None:
        """Forget stopped channels (and their replay state)."""
        for channel_id in channel_ids:
            self.channels.pop(channel_id, None)
            self.guard.forget(channel_id)

    def take_batch(self) -> Batch:
        """Everything gathered since the last call (hints coalesced per user)."""
        batch, self._pending = self._pending, Batch()
        batch.hints = list(self._hinted)
        self._hinted = {}
        return batch

    def answer_now(self, headers: dict[str, str]) -> Answer | None:
        """Judge one notification (lower-case header names) from what the desk holds;
        ``None`` when its channel must be looked up first (then await :meth:`answer`)."""
        now = self.clock()
        checked = check_channel_id(headers, now, self)
        if not isinstance(checked, str):
            return checked
        held = self.channels.get(checked)
        if held is None or not (now < held.expires_at if held.until is None
                                else time.monotonic() < held.until):
            return None
        return self._judge(checked, held, headers, now)

    async def answer(self, headers: dict[str, str]) -> Answer:
        """Judge one notification, asking the gateway for its channel when needed."""
        answered = self.answer_now(headers)
        if answered is not None:
            return answered
        channel_id = headers["x-goog-channel-id"]
        try:
            channel = await self.lookup(channel_id)
        except LookupFailedError:
            self.count("lookup_failed")
            return 503, b"try again later", [(b"retry-after", b"1")]
        now = self.clock()
        if channel is None:
            self.channels.pop(channel_id, None)
            return unknown(now, self)
        self._store(channel_id, channel)
        return self._judge(channel_id, channel, headers, now)

    def _judge(self, channel_id: str, channel: Registration, headers: dict[str, str],
               now: float) -> Answer:
        answer, accepted = judge(channel_id, channel.user_id, channel.resource_id,
                                 channel.token_hash, headers, now, ready=self.ready,
                                 guard=self.guard, outcomes=self)
        if accepted:
            self._hinted[channel.user_id] = None
        return answer

    def count(self, outcome: str) -> None:
        """Count one notification with ``outcome`` (relayed to the gateway's metric)."""
        counts = self._pending.counts
        counts[outcome] = counts.get(outcome, 0) + 1

    def refuse(self, key: str, outcome: str, status: int, now: float) -> None:
        """Count a refused (or ignored) notification; its log line, unless ``key`` was
        logged within the interval, goes to the gateway with the next batch."""
        self.count(outcome)
        line = self._refusals.line(key, outcome, status, now)
        if line is not None:
            self._pending.lines.append(line)

    def _store(self, channel_id: str, registration: Registration) -> None:
        if len(self.channels) >= MAX_CHANNELS and channel_id not in self.channels:
            self.channels = {k: v for k, v in self.channels.items() if v.until is None}
        self.channels[channel_id] = registration
