"""Replay check and per-channel rate limit of push notifications.

A notification that passed the channel checks of :mod:`.webhook` still proves little: a
captured one can be sent again and again. Google numbers the messages of a channel
(``X-Goog-Message-Number``: 1 for ``sync``, then increasing, not necessarily by one), so:

* a number not above the highest seen on the channel is a replay: acknowledged (200) and
  ignored;
* each channel may ask for :data:`BURST` syncs at once and one more every
  :data:`REFILL_SECONDS`; past that the answer is 503 with ``Retry-After`` — Google retries
  a 5xx with backoff, so a real change is still synced, while replays cannot spend the
  user's quota.

The state is per process (memory bounded by the number of channels): after a restart the
start-up catch-up sync covers anything a lost notification carried.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

BURST = 10
"""Syncs one channel may request at once."""
REFILL_SECONDS = 6.0
"""One more sync request per channel every this many seconds (10 a minute)."""
MAX_NUMBER_DIGITS = 20
"""Longest message number read (Google's are 64-bit); a longer one, which ``int()``
past 4300 digits would refuse with ``ValueError``, counts as none."""


class Verdict(Enum):
    """What to do with one notification."""

    ACCEPT = "accept"
    REPLAY = "replay"
    LIMITED = "limited"


@dataclass
class _ChannelState:
    highest: int = 0
    tokens: float = BURST
    updated: float = 0.0


class PushGuard:
    """The replay and rate state of every channel this process has heard from."""

    def __init__(self) -> None:
        self._channels: dict[str, _ChannelState] = {}

    def admit(self, channel_id: str, message_number: str | None, now: float) -> Verdict:
        """Judge one notification of ``channel_id`` received at ``now`` (seconds)."""
        state = self._channels.get(channel_id)
        if state is None:
            state = self._channels[channel_id] = _ChannelState(updated=now)
        number = int(message_number) if message_number \
            and len(message_number) <= MAX_NUMBER_DIGITS and message_number.isascii() \
            and message_number.isdigit() else None  # not "²", which int() refuses
        if number is not None and number <= state.highest:
            return Verdict.REPLAY
        state.tokens = min(BURST, state.tokens + (now - state.updated) / REFILL_SECONDS)
        state.updated = now
        if state.tokens < 1:
            return Verdict.LIMITED
        state.tokens -= 1
        if number is not None:
            state.highest = number
        return Verdict.ACCEPT

    def retry_after(self, channel_id: str) -> int:
        """Seconds until ``channel_id`` may request a sync again."""
        state = self._channels.get(channel_id)
        missing = 1 - state.tokens if state is not None else 0
        return max(1, math.ceil(missing * REFILL_SECONDS))

    def forget(self, channel_id: str) -> None:
        """Drop a stopped channel's state."""
        self._channels.pop(channel_id, None)
