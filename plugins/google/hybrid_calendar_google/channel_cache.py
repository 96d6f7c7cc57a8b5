"""Push channels held in memory, so acknowledging a notification reads no disk.

The webhook looks a channel up on every notification. A channel found in the store is
kept for :data:`TTL_SECONDS` (at most :data:`MAX_CHANNELS` of them), and so is a channel
this process opens, from before ``events.watch`` is called (Google sends the channel's
``sync`` message as it creates it, which may be before the store has the channel); a
channel this process stops is forgotten at once (:func:`forget`). Another process of a shared
database may stop one: its notifications are then still taken as hints here for at most
the TTL, and the sync job they ask for skips a user who is no longer active. Unknown ids
are not cached (a channel opened a moment ago must be found). The push receiver
process's look-ups (:mod:`.push_supervisor`) go through this cache too.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import Channel

TTL_SECONDS = 60.0
MAX_CHANNELS = 100_000
STATE_KEY = "google.channel_cache"


class ChannelCache:
    """Channel id → (channel, when it was read)."""

    def __init__(self) -> None:
        self._channels: dict[str, tuple[Channel, float]] = {}

    async def get(self, gateway: Gateway, channel_id: str) -> Channel | None:
        """The channel with ``channel_id``, from memory when read recently."""
        now = time.monotonic()
        held = self._channels.get(channel_id)
        if held is not None and now - held[1] < TTL_SECONDS:
            return held[0]
        channel = await gateway.store.get_channel(channel_id)
        if channel is None:
            self._channels.pop(channel_id, None)
            return None
        self.remember(channel)
        return channel

    def remember(self, channel: Channel) -> None:
        """Hold a channel for :data:`TTL_SECONDS`, its ``token`` the stored digest
        (:func:`~hybrid_calendar.store.base.hash_channel_token`): one read from the store,
        or one this process is opening (Google's first message on it may come before the
        store has it, and is then answered from memory)."""
        if len(self._channels) >= MAX_CHANNELS:
            self._channels.clear()
        self._channels[channel.id] = (channel, time.monotonic())

    def forget(self, channel_id: str) -> None:
        """Drop a channel (stopped by this process)."""
        self._channels.pop(channel_id, None)


def channel_cache(gateway: Gateway) -> ChannelCache:
    """The gateway's channel cache (created on first use)."""
    return gateway.state.get_or_create(STATE_KEY, ChannelCache, ChannelCache)
