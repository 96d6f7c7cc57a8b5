"""Activating and deactivating users, and keeping their push channels alive."""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from hybrid_calendar.engine.notify import try_enqueued
from hybrid_calendar.engine.presence import UNREAD, presence_change, record_presence_poll
from hybrid_calendar.errors import (
    GatewayError,
    KeyManagementError,
    RateLimitError,
    TransientError,
)
from hybrid_calendar.ids import time_ordered_id
from hybrid_calendar.models import Channel, Job, User, UserState
from hybrid_calendar.store.base import SYNC_KIND, ActivationWrite

if TYPE_CHECKING:
    from hybrid_calendar.crypto.cipher import FirstKey
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.store.base import UserContext

log = logging.getLogger(__name__)

EVER = (datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC))
"""A time range holding every stored meeting (a day inside ``datetime``'s own limits)."""

NEW_USER = "new_user"
"""Set (``True``) in the payload of the activation job the admin API queues for a user it
just created (a fresh id): until that job's first attempt opens one, the user has no
push channel anywhere. The payload then also names the user's organisation (``org_id``),
so that attempt brings the user's first data key to the store's first write."""


def _never_activated(job: Job, context: UserContext) -> bool:
    """True when no activation of this user can have run before this one: the job was
    queued with the user's creation, this is its first attempt (a claim counts one, so a
    retry or a take-over after a crash counts more) and the user is still ``pending`` (an
    attempt sets ``validating`` before it opens a channel). Such a user owns no channel,
    and nothing but this job stores its out-of-office state before the job makes it
    ``active`` (only active users are polled): the state read with the context holds."""
    return (job.payload.get(NEW_USER) is True and job.attempts == 1
            and context.user.state == UserState.PENDING)


async def run_activate_job(gateway: Gateway, job: Job) -> None:
    """Validate (``admin.policy``); on success open a channel, mark active, queue a full
    sync; on failure mark ``error`` with a reason code (``admin.reasons``)."""
    from hybrid_calendar.admin.policy import channel_refusal, validate_user

    # marked validating, and the context as it was (None: gone or inactive); a new
    # user's first data key is stored with the mark (no write of its own)
    first_key = await _first_key(gateway, job)
    context = await gateway.store.start_validation(str(job.payload["user_id"]),
                                                   first_key=first_key)
    if context is None:
        return
    first = _never_activated(job, context)
    if first and first_key is None:  # it owns no data key either, unless another
        # process made one meanwhile: its first sealer here creates the key without
        # reading the stored ones first
        gateway.cipher.note_new_users(context.user.org_id, [context.user.id])
    user = replace(context.user, state=UserState.VALIDATING, reason=None)
    validation = await validate_user(  # rate limits, 5xx: the job retries
        gateway, user, context.organisation)
    if not validation.ok:
        await gateway.store.set_user_state(user.id, UserState.ERROR, validation.reason)
        log.warning("activation of user %s failed: %s", user.id, validation.reason)
        return
    user = replace(user, locale=validation.locale or user.locale,
                   timezone=validation.timezone or user.timezone)
    try:  # what validation read is stored with the outcome: one write, not two
        if not first:  # a retried or repeated activation starts afresh
            await stop_channels(gateway, user)
        opened = await watch_channel(gateway, user, strict=True)
    except Exception:
        await gateway.store.put_user(user)  # the job retries; keep what validation read
        raise
    if isinstance(opened, GatewayError):  # the calendar's proof of access failed
        await gateway.store.put_user(replace(user, state=UserState.ERROR,
                                             reason=channel_refusal(opened)))
        return
    from hybrid_calendar.engine.engine import user_job  # engine imports this module

    user = replace(user, state=UserState.ACTIVE, reason=None)
    now = gateway.clock.now()
    # presence is right from the start (the responder validation just read)
    _active, change = await presence_change(
        gateway, user, now, validation.out_of_office,
        stored=context.sync_state.out_of_office if first else UNREAD)
    # Only a job of the user's lane writes the cursor, and this job holds the lane: none
    # read at the start means none now. (A one-off command holds no lane.)
    write = ActivationWrite(
        user, user_job(SYNC_KIND, user.id, {"user_id": user.id, "reason": "activation"}, now),
        presence=None if change is None else change.item,
        presence_at=None if change is None else change.first_attempt,
        out_of_office=change is not None and change.active,
        reset_cursor=context.sync_state.cursor is not None or gateway.engine is None,
        channel=opened)
    # one write: the user active, its presence, its channel, its first sync (the running
    # gateway's engine picks the job up when this is a one-off command)
    engine = gateway.engine
    try:
        written = await (gateway.store.write_activation(write) if engine is None else
                         engine.queue_with(user.id, lambda notify: gateway.store.
                                           write_activation(write, notify=notify)))
    except Exception:  # the job retries with a channel of its own: this one is let go
        await _let_go(gateway, user, opened)
        raise
    record_presence_poll(gateway, user, now)
    if change is not None:
        try:
            await try_enqueued(gateway, user, change.item, change.sinks, written.presence_added)
        except Exception as err:  # the outbox holds it: its loop tries it again
            log.warning("presence of user %s not tried now: %s: %s", user.id,
                        type(err).__name__, err)


async def _first_key(gateway: Gateway, job: Job) -> FirstKey | None:
    """A first data key for the user of the admin API's job for a new user, on its first
    attempt (``org_id`` in the payload), for ``start_validation`` to store; else, or when
    the KMS cannot wrap one now, ``None``: the user's first seal makes the key then (and
    meets the KMS's failure where activation has always met it)."""
    org_id = job.payload.get("org_id")
    if job.payload.get(NEW_USER) is not True or job.attempts != 1 or not isinstance(
            org_id, str):
        return None
    try:
        return await gateway.cipher.first_key(org_id, str(job.payload["user_id"]))
    except KeyManagementError as err:
        log.debug("no first key for user %s ahead of validation: %s", job.payload["user_id"],
                  err)
        return None


async def run_deactivate_job(gateway: Gateway, job: Job) -> None:
    """Stop channels, take away what plugins mirrored of the user's meetings, delete the
    user's data and keys, mark inactive."""
    user = await gateway.store.get_user(str(job.payload["user_id"]))
    if user is None:
        return
    await stop_channels(gateway, user)
    await unmirror_meetings(gateway, user)
    await gateway.store.forget_user_data(user.id)
    await gateway.cipher.forget_user(user.org_id, user.id)
    await gateway.store.set_user_state(user.id, UserState.INACTIVE, job.payload.get("reason"))


async def unmirror_meetings(gateway: Gateway, user: User) -> None:
    """Tell ``mirror_meetings`` that every stored meeting of a user being deactivated is
    gone: the gateway stops following the calendar, so what a plugin mirrored of it (a
    room booking, say) would go stale. Best effort: meetings that cannot be read (the
    user's data key unreadable) are logged, and the deactivation goes on. With no
    plugin implementing the hook there is nothing to take away, and nothing is read."""
    if not gateway.pm.hook.mirror_meetings.get_hookimpls():
        return
    try:
        stored = await gateway.store.list_meetings(user, EVER[0], EVER[1])
    except Exception as err:  # deactivation must not depend on the user's keys
        log.warning("meetings of user %s not read to take their mirrors away: %s: %s",
                    user.id, type(err).__name__, err)
        return
    if stored:
        await gateway.hooks.mirror_meetings(gateway, user, [],
                                            [meeting.event_id for meeting in stored])


async def stop_channels(gateway: Gateway, user: User) -> None:
    """Stop and forget every push channel of a user (best effort at the provider)."""
    for channel in await gateway.store.list_channels(user_id=user.id):
        try:
            await gateway.hooks.stop_watch(gateway, user, channel)
        except GatewayError as err:  # the channel expires on its own at worst
            log.warning("stopping channel of user %s failed: %s", user.id, err)
        await gateway.store.delete_channel(channel.id)


async def open_channel(gateway: Gateway, user: User) -> GatewayError | None:
    """Open a push channel for the user and store it (a renewal); ``None`` on success,
    else the provider's refusal or failure (see :func:`watch_channel`), for the caller to
    log: the sweep condenses many users' refusals into one line."""
    opened = await watch_channel(gateway, user)
    if isinstance(opened, GatewayError):
        return opened
    await gateway.store.put_channel(opened)
    return None


async def watch_channel(gateway: Gateway, user: User, *, strict: bool = False
                        ) -> Channel | GatewayError:
    """Open a push channel for the user, not stored yet: the channel with its secret
    token in clear (the store keeps only its digest), else the provider's refusal.

    The user's provider points the channel at its own push route; the core only makes
    the channel's secret token. A renewal is best effort (polling covers a failure) and
    its caller logs it; on activation (``strict``) rate limits and server failures raise
    so the job retries, and a refusal is logged here.
    """
    token = secrets.token_urlsafe(32)
    try:
        channel = await gateway.hooks.watch_calendar(gateway, user, token)
    except (RateLimitError, TransientError) as err:
        if strict:
            raise
        return err
    except GatewayError as err:
        if strict:
            log.warning("watch failed for user %s: %s", user.id, err)
        return err
    return replace(channel, token=token)


async def _let_go(gateway: Gateway, user: User, channel: Channel) -> None:
    """Stop a channel that was opened but not stored (best effort: at worst it expires,
    and the push route answers its messages as a channel it does not know)."""
    try:
        await gateway.hooks.stop_watch(gateway, user, channel)
    except GatewayError as err:
        log.warning("stopping an unstored channel of user %s failed: %s", user.id, err)


def new_user_id() -> str:
    """A fresh opaque user id, ordered by creation (:func:`~hybrid_calendar.ids.time_ordered_id`:
    the users of one onboarding sit next to each other in every index of their rows)."""
    return time_ordered_id()


async def give_up_validation(gateway: Gateway, user_id: str, err: Exception) -> None:
    """The activation job's last attempt failed on a transient error: a user still being
    validated moves to error (``validation_unavailable``), never stays ``validating``
    with no reason; ``users validate`` tries again."""
    from hybrid_calendar.admin.reasons import ReasonCode, format_reason

    user = await gateway.store.get_user(user_id)
    if user is None or user.state not in (UserState.PENDING, UserState.VALIDATING):
        return
    reason = format_reason(ReasonCode.VALIDATION_UNAVAILABLE, f"{type(err).__name__}: {err}")
    log.warning("validation of user %s given up: %s", user_id, reason)
    await gateway.store.set_user_state(user_id, UserState.ERROR, reason)
