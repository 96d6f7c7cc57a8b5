"""Activating and deactivating users, and keeping their push channels alive."""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING

from hybrid_calendar.engine.presence import record_presence_poll, update_presence
from hybrid_calendar.errors import GatewayError, RateLimitError, TransientError
from hybrid_calendar.models import Job, User, UserState

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)

async def run_activate_job(gateway: Gateway, job: Job) -> None:
    """Validate access; on success mark active, open a channel and queue a full sync."""
    user = await gateway.store.get_user(str(job.payload["user_id"]))
    if user is None or user.state == UserState.INACTIVE:
        return
    check_ok: bool
    reason: str | None
    try:
        check = await gateway.hooks.check_access(gateway, user)
    except (RateLimitError, TransientError):
        raise  # not the user's fault: the job retries with backoff, the user stays pending
    except GatewayError as err:
        check_ok, reason = False, f"{type(err).__name__}: {err}"
    else:
        check_ok, reason = check.ok, check.reason
        if check.ok:
            user = replace(user, locale=check.locale or user.locale,
                           timezone=check.timezone or user.timezone)
    if not check_ok:
        await gateway.store.set_user_state(user.id, UserState.ERROR,
                                           reason or "access check failed")
        log.warning("activation of user %s failed: %s", user.id, reason)
        return
    user = replace(user, state=UserState.ACTIVE, reason=None)
    await gateway.store.put_user(user)
    await stop_channels(gateway, user)  # a retried or repeated activation starts afresh
    await open_channel(gateway, user)
    now = gateway.clock.now()
    await update_presence(gateway, user, now)  # presence is right from the start
    record_presence_poll(gateway, user, now)
    await gateway.store.reset_cursor(user.id)
    assert gateway.engine is not None
    await gateway.engine.request_sync(user.id, "activation")


async def run_deactivate_job(gateway: Gateway, job: Job) -> None:
    """Stop channels, delete the user's data and keys, mark inactive."""
    user = await gateway.store.get_user(str(job.payload["user_id"]))
    if user is None:
        return
    await stop_channels(gateway, user)
    await gateway.store.forget_user_data(user.id)
    await gateway.cipher.forget_user(user.org_id, user.id)
    await gateway.store.set_user_state(user.id, UserState.INACTIVE, job.payload.get("reason"))


async def stop_channels(gateway: Gateway, user: User) -> None:
    """Stop and forget every push channel of a user (best effort at the provider)."""
    for channel in await gateway.store.list_channels(user_id=user.id):
        try:
            await gateway.hooks.stop_watch(gateway, user, channel)
        except GatewayError as err:  # the channel expires on its own at worst
            log.warning("stopping channel of user %s failed: %s", user.id, err)
        await gateway.store.delete_channel(channel.id)


async def open_channel(gateway: Gateway, user: User) -> bool:
    """Open a push channel for the user (best effort: polling covers a failure).

    The user's provider points the channel at its own push route; the core only makes
    the channel's secret token and stores the channel.
    """
    token = secrets.token_urlsafe(32)
    try:
        channel = await gateway.hooks.watch_calendar(gateway, user, token)
    except GatewayError as err:
        log.warning("watch failed for user %s (safety re-sync covers it): %s", user.id, err)
        return False
    await gateway.store.put_channel(replace(channel, token=token))
    return True


def new_user_id() -> str:
    """A fresh opaque user id."""
    return uuid.uuid4().hex
