"""Push channels: ``events.watch`` on the user's primary calendar and ``channels.stop``."""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from hybrid_calendar.errors import AccessDeniedError, AuthError, ProviderError
from hybrid_calendar.models import Channel
from hybrid_calendar.store.base import hash_channel_token
from hybrid_calendar_google.channel_cache import channel_cache
from hybrid_calendar_google.discovery import Calendar
from hybrid_calendar_google.push_supervisor import receiver_of

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import User
    from hybrid_calendar_google.context import GoogleContext

log = logging.getLogger(__name__)


def new_channel_id() -> str:
    """A fresh channel id: 32 hex characters (Google allows up to 64, unique per project)."""
    return secrets.token_hex(16)


async def watch(gateway: Gateway, ctx: GoogleContext, user: User, address: str, token: str
                ) -> Channel:
    """Create a channel delivering ``events`` changes of ``user``'s primary calendar.

    :param address: the gateway's public HTTPS webhook URL.
    :param token: echoed by Google as ``X-Goog-Channel-Token`` (≤ 256 characters).
    """
    if len(token) > 256:
        raise ValueError("channel token longer than Google's 256 characters")
    client = await ctx.client(gateway, user)
    ttl = int(ctx.settings["channel_ttl_seconds"])
    channel_id = new_channel_id()
    body = {"id": channel_id, "type": "web_hook", "address": address, "token": token,
            "params": {"ttl": str(ttl)}}
    # Google's first message (``sync``) may come before the call returns, and before the
    # store has the channel: both receivers know it from now on
    cache = channel_cache(gateway)
    opening = Channel(channel_id, user.id, "", token,
                      gateway.clock.now() + timedelta(seconds=ttl), provider="google")
    cache.remember(replace(opening, token=hash_channel_token(token)))
    receiver = receiver_of(gateway)
    if receiver is not None:
        receiver.register(opening, token)
    try:
        data = await client.call(user.email, Calendar.events_watch, ctx.calendar_url,
                                 body=body, calendarId=user.email)
    except BaseException:
        cache.forget(channel_id)
        if receiver is not None:
            receiver.remove(channel_id)
        raise
    expiration = data.get("expiration")
    if expiration:
        expires_at = datetime.fromtimestamp(int(str(expiration)) / 1000, UTC)
    else:
        expires_at = gateway.clock.now() + timedelta(seconds=ttl)
    channel = Channel(id=str(data.get("id") or channel_id), user_id=user.id,
                      resource_id=str(data.get("resourceId", "")), token=token,
                      expires_at=expires_at, provider="google")
    if channel.id != channel_id:
        cache.forget(channel_id)
    cache.remember(replace(channel, token=hash_channel_token(token)))  # with its resource id
    if receiver is not None:
        if channel.id != channel_id:
            receiver.remove(channel_id)
        receiver.register(channel, token)
    return channel


async def stop(gateway: Gateway, ctx: GoogleContext, user: User, channel: Channel) -> bool:
    """Stop ``channel``; ``True`` when stopped or already unknown to Google.

    Returns ``False`` when Google refuses (e.g. delegation already revoked): the channel
    then simply expires, and the webhook rejects it because the gateway forgot it.
    """
    channel_cache(gateway).forget(channel.id)
    receiver = receiver_of(gateway)
    if receiver is not None:
        receiver.remove(channel.id)
    client = await ctx.client(gateway, user)
    try:
        await client.call(user.email, Calendar.channels_stop, ctx.calendar_url,
                          body={"id": channel.id, "resourceId": channel.resource_id})
    except (AccessDeniedError, AuthError) as err:
        log.warning("channels.stop refused (%s); the channel will expire on its own",
                    err.reason or err.status)
        return False
    except ProviderError as err:
        if err.status == 404:
            return True
        raise
    return True
