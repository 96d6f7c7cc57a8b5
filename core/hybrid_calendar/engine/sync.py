"""One user's sync: fetch changes, work out join information, store atomically, notify.

The steps follow Google's sync guide (https://developers.google.com/workspace/calendar/api/guides/sync):
incremental with the stored cursor, a full sync when there is none or it expired (HTTP
410), the new cursor stored in the same transaction as the rows it covers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from hybrid_calendar.engine import invites, notify
from hybrid_calendar.engine.withdrawals import try_withdrawals, withdraw_plan
from hybrid_calendar.errors import (
    AccessDeniedError,
    AuthError,
    KeyManagementError,
    RateLimitError,
    SyncTokenExpiredError,
    TransientError,
)
from hybrid_calendar.join_info import best_join_info
from hybrid_calendar.join_info import plugin as join_plugin
from hybrid_calendar.models import (
    Attendee,
    CalendarEvent,
    ChangeBatch,
    Job,
    JoinInfo,
    Meeting,
    NotificationKind,
    ScheduledNotification,
    User,
    UserState,
)
from hybrid_calendar.store.base import SyncWrite, UserContext

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)


RETRY_LATER = (RateLimitError, TransientError, KeyManagementError)
"""Failures that pass: the whole sync is retried later rather than skipping the event."""


def retention_window(gateway: Gateway, now: datetime | None = None
                     ) -> tuple[datetime, datetime]:
    """The span of meetings the gateway keeps: ``sync.retention_*_days`` around now."""
    now = now or gateway.clock.now()
    config = gateway.config
    return (now - timedelta(days=int(config.get("sync", "retention_past_days"))),
            now + timedelta(days=int(config.get("sync", "retention_future_days"))))


YIELD_EVERY = 50
"""Events handled between two returns to the event loop: keyword checks and join
detection cost ≈ 50-100 µs per event, so a 2,500-event page would otherwise hold the loop
(and every push acknowledgement waiting on it) for a quarter of a second."""


async def run_sync_job(gateway: Gateway, job: Job) -> None:
    """Job handler for ``sync``: sync one user if (and only if) the user is active (their
    context as the claim read it, when the store read it with the claim)."""
    user_id = str(job.payload["user_id"])
    context = job.context
    if context is None or context.user.id != user_id:
        context = await gateway.store.get_user_context(user_id)
    if context is None or context.user.state != UserState.ACTIVE:
        log.info("sync skipped: user %s is not active", job.payload.get("user_id"))
        return
    await sync_user(gateway, context)


async def sync_user(gateway: Gateway, context: UserContext) -> int:
    """Bring one active user's stored meetings up to date; returns meetings changed
    (added, changed or deleted: a meeting found as stored is not counted).

    Only a sync that changed something calls ``mirror_meetings`` (with the meetings that
    changed, and the deleted ones' ids: those the calendar listed as cancelled and those a
    full sync no longer found) and announces the meetings-changed notification: a full
    sync that finds the calendar as stored (the safety-net re-sync, a sync after a token
    reset) tells no one. The write also withdraws the delivered Join buttons the sync's
    changes undid (:mod:`.withdrawals`), tried here right after it.

    :param context: the user with their organisation (its keyword table) and sync state
        (the cursor), as the job read them together (:meth:`Store.get_user_context`).
    """
    from hybrid_calendar.admin.health import record_sync_success, sync_success
    from hybrid_calendar.admin.reasons import ReasonCode, format_reason

    store = gateway.store
    started = time.perf_counter()
    user, state = context.user, context.sync_state
    try:
        batch, token_reset = await _fetch(gateway, user, state.cursor)
    except (AccessDeniedError, AuthError) as err:
        reason = format_reason(ReasonCode.SYNC_ACCESS_LOST, str(err) or type(err).__name__)
        log.warning("user %s moved to error state: %s", user.id, reason)
        await store.set_user_state(user.id, UserState.ERROR, reason)
        return 0
    start, end = retention_window(gateway)
    upserts: list[Meeting] = []
    deleted: list[str] = []
    moved_away: list[str] = []  # of deleted: out of the window, not cancelled
    series_done: set[str] = set()
    keywords = invites.keywords_for(gateway, context.organisation)
    inline_text = 0  # characters of join text parsed on the loop since its last turn
    for index, event in enumerate(batch.events, 1):
        # a long page never holds the loop (push answers), nor do many long invitations
        if index % YIELD_EVERY == 0 or inline_text > OFF_LOOP_CHARACTERS:
            await asyncio.sleep(0)
            inline_text = 0
        await _follow(gateway, user, event)
        if event.cancelled or not _in_window(event, start, end):
            deleted.append(event.id)
            if not event.cancelled:
                moved_away.append(event.id)
            continue
        try:
            event = await invites.schedule_keyword_meeting(gateway, user, event, keywords,
                                                           series_done)
        except RETRY_LATER:
            raise  # the job retries with backoff; the cursor stays before this event
        except Exception as err:  # a bad event or plugin: store the meeting anyway
            log.warning("keyword scheduling for event %s of user %s failed: %s: %s",
                        event.id, user.id, type(err).__name__, err)
        size = join_text_size(event)
        if size <= OFF_LOOP_CHARACTERS:
            inline_text += size
        try:
            join = await detect_join(gateway, event, size)
        except Exception as err:
            log.warning("join detection for event %s of user %s failed: %s: %s", event.id,
                        user.id, type(err).__name__, err)
            join = None
        upserts.append(meeting_from_event(user, event, join))
    announcement, announce_at, sinks = notify.immediate(
        gateway, user, NotificationKind.MEETINGS_CHANGED, {"full_sync": batch.full_sync},
        f"meetings:{user.id}:{batch.next_cursor or gateway.clock.now().isoformat()}")
    health = sync_success(gateway, time.perf_counter() - started,
                          token_reset=token_reset)
    buttons = notify.join_button_items(gateway, user, upserts)
    written = await store.write_sync(SyncWrite(
        user, upserts, deleted, batch.next_cursor, full_sync=batch.full_sync,
        synced_at=gateway.clock.now(), buttons=buttons,
        announcement=announcement, announce_at=announce_at, health=health,
        withdraw=withdraw_plan(gateway, first_sync=state.last_sync_at is None,
                               moved_away=moved_away)))
    await record_sync_success(gateway, user.id, health, stored=written.health_recorded,
                              seconds=time.perf_counter() - started)
    if written.withdrawn:  # also after a sync that found every meeting as stored
        await try_withdrawals(gateway, user, written.withdrawn)
    changed = written.applied.upserted + written.applied.deleted
    if not changed:  # everything as stored (e.g. a safety-net full sync): nothing to tell
        return 0
    changed_meetings = _changed_meetings(upserts, written.changed_event_ids)
    deleted_ids = _deleted_ids(deleted, written.deleted_event_ids)
    await gateway.hooks.mirror_meetings(gateway, user, changed_meetings, deleted_ids)
    await _announce(gateway, user, announcement, sinks, written.announced)
    return changed


def _changed_meetings(upserts: Sequence[Meeting], changed_ids: frozenset[str] | None
                      ) -> Sequence[Meeting]:
    """The meetings of ``upserts`` the store counted as added or changed (all of them
    when the store did not say which)."""
    if changed_ids is None:
        return upserts
    return [meeting for meeting in upserts if meeting.event_id in changed_ids]


def _deleted_ids(seen: Sequence[str], stored: frozenset[str] | None) -> list[str]:
    """The ids of the events the sync saw deleted or cancelled, then those of the
    meetings the store deleted besides (a full sync's meetings its listing no longer
    has: the calendar gives no tombstone for them)."""
    return [*seen, *sorted(stored - set(seen))] if stored else list(seen)


async def _follow(gateway: Gateway, user: User, event: CalendarEvent) -> None:
    """Offer a changed or cancelled keyword meeting to ``follow_meeting``."""
    if not event.cancelled and not (invites.is_processed(event)
                                    and invites.is_organiser(user, event)):
        return
    previous = await gateway.store.get_meeting(user, event.id)
    if event.cancelled:
        if previous is None or not previous.marker or previous.status == "cancelled":
            return
    elif previous is None:
        return  # first seen already processed: nothing to compare with
    elif (previous.start, previous.end, previous.title,
                                   previous.attendees) == (
            event.start, event.end, event.summary, tuple(a.email for a in event.attendees)):
        return  # nothing a meeting service keeps has changed (e.g. our own write)
    try:
        await gateway.hooks.follow_meeting(gateway, user, event, previous)
    except RETRY_LATER:
        raise  # the job retries; the cursor stays before this event
    except Exception as err:
        log.warning("following the meeting of event %s of user %s failed: %s: %s",
                    event.id, user.id, type(err).__name__, err)


async def _fetch(gateway: Gateway, user: User, cursor: str | None
                 ) -> tuple[ChangeBatch, bool]:
    """The changes since ``cursor``, and whether the cursor was refused (a token reset;
    a provider may also answer a cursor with a full sync of its own accord, e.g. to list
    a retention window that moved on, which is no reset)."""
    try:
        return await gateway.hooks.fetch_changes(gateway, user, cursor), False
    except SyncTokenExpiredError:
        log.info("sync cursor of user %s expired: full sync", user.id)
        await gateway.store.reset_cursor(user.id)
        return await gateway.hooks.fetch_changes(gateway, user, None), cursor is not None


def _in_window(event: CalendarEvent, start: datetime, end: datetime) -> bool:
    if event.start is None or event.end is None:
        return False
    return event.end > start and event.start < end


OFF_LOOP_CHARACTERS = 16_384
"""Events with more text than this are parsed in a worker thread, so that a hostile
100 kB description never holds the event loop (``/healthz``, push notifications) for
long. Detection holds the interpreter lock, so a worker thread gives the loop its turn
only every ``sys.getswitchinterval()`` (5 ms); below that it protects little, and the
hand-off itself cost ≈ 270 µs of CPU per event (a 6 kB invitation: 449 µs inline, 721 µs
through ``asyncio.to_thread``). 16 kB of invitation text takes ≈ 1 ms to parse, about
what one stretch of a sync's page already holds the loop (:data:`YIELD_EVERY` events);
4 kB, the former limit, sent most HTML invitations of Teams and Zoom through the hand-off
(docs/performance.md). A sync also gives the loop its turn once it has parsed this much
text on the loop since the last turn, so a page of long invitations holds it no longer."""


def join_text_size(event: CalendarEvent) -> int:
    """Characters join detection reads: description, Location and conference URIs."""
    return len(event.description) + len(event.location) + sum(
        len(entry.uri) for entry in (event.conference.entry_points if event.conference else ()))


async def detect_join(gateway: Gateway, event: CalendarEvent,
                      size: int | None = None) -> JoinInfo | None:
    """:func:`best_join`, run in a worker thread when the event carries much text.

    :param size: :func:`join_text_size` of the event, when the caller has it already.
    """
    if size is None:
        size = join_text_size(event)
    if size <= OFF_LOOP_CHARACTERS:
        return best_join(gateway, event)
    return await asyncio.to_thread(best_join, gateway, event)


def best_join(gateway: Gateway, event: CalendarEvent) -> JoinInfo | None:
    """The best join candidate plugins found (conference, then location, then body).

    When the built-in ``join_info`` plugin is the hook's only implementation, its
    :func:`~hybrid_calendar.join_info.detect` gives that result directly (the same
    candidate, as ``tests/join_info/test_differential.py`` checks), without the hook call
    or the candidates of sources that cannot win."""
    if join_plugin.sole_implementation(gateway.pm.hook.parse_join_info):
        return join_plugin.detect_join_info(event)
    return best_join_info(gateway.hooks.parse_join_info(event))


def meeting_from_event(user: User, event: CalendarEvent, join: JoinInfo | None) -> Meeting:
    """The stored form of an event for one user's meetings list.

    Runs for every event of every sync: the fields are passed positionally;
    ``tests/engine/test_sync_conversion.py`` pins their order and holds the result equal
    to the keyword-argument version."""
    assert event.start is not None and event.end is not None
    attendees = event.attendees
    return Meeting(
        user.id, event.id, event.calendar_id, event.status, event.start, event.end,
        event.summary, event.description, event.location, event.organizer,
        tuple([attendee.email for attendee in attendees]), join, event.all_day,
        event.recurring_event_id, event.etag,
        event.private_properties.get(invites.MARKER_KEY), event.html_link, event.private,
        _declined(user, attendees) if attendees else ())


def _declined(user: User, attendees: Sequence[Attendee]) -> tuple[str, ...]:
    """:attr:`Meeting.declined`: the attendees who declined, and the user's own address
    when the user declined as another address (an alias: the entry the calendar marks as
    its owner's)."""
    declined = [attendee.email for attendee in attendees
                if attendee.response_status == "declined"]
    if declined:
        own = user.email.casefold()
        if any(attendee.calendar_owner and attendee.email.casefold() != own
               for attendee in attendees if attendee.response_status == "declined"):
            declined.append(user.email)
    return tuple(declined)



async def _announce(gateway: Gateway, user: User, item: ScheduledNotification,
                    sinks: Sequence[str], queued: bool) -> None:
    """Try the meetings-changed notification :meth:`Store.write_sync` queued."""
    try:
        await notify.try_enqueued(gateway, user, item, sinks, queued)
    except Exception as err:  # the list is served from the store; the change is a hint
        log.warning("meetings-changed notification for user %s not tried: %s: %s",
                    user.id, type(err).__name__, err)
