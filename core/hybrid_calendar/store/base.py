"""The storage interface: everything the engine persists goes through :class:`Store`.

It is deliberately narrow so a second backend (PostgreSQL for scale-out) can be added
without touching the engine; every backend passes the same conformance suite,
:class:`hybrid_calendar.store.testing.StoreTests`. Implementations encrypt every
sensitive field (titles, bodies, locations, email addresses, join details, secrets) with
the :class:`FieldCipher` they are given, and look users up by a keyed blind index, never
by address.

Rules every backend keeps:

* :meth:`Store.apply_changes` writes meetings and the new sync cursor in ONE transaction:
  the stored cursor never runs ahead of the stored data. :meth:`Store.write_sync` adds
  the sync's Join buttons, announcement and withdrawals (one transaction in the built-in
  stores).
* Only meetings whose stored content changes count as changed (:class:`ApplyResult`):
  a sync that finds every meeting as stored announces nothing (the meetings-changed
  notification reaches people's apps and devices).
* Jobs are coalesced by key: at most one queued job per key, and a lane never has two
  running jobs (per-user serialisation), even across processes sharing a database.
* The cipher's wrapped keys live in the same database (:meth:`Store.key_storage`).
"""

from __future__ import annotations

import abc
import hashlib
import hmac
import logging
import os
import socket
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from hybrid_calendar.models import (
    Channel,
    DeliveryState,
    Job,
    Meeting,
    NotificationKind,
    Organisation,
    ScheduledNotification,
    SinkDelivery,
    SyncState,
    User,
    UserState,
)
from hybrid_calendar.withdrawal_notices import withdrawal_notice

if TYPE_CHECKING:
    from hybrid_calendar.crypto.cipher import FirstKey
    from hybrid_calendar.crypto.repository import KeyStorage
    from hybrid_calendar.store.budget import BudgetUse

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One notification's sink records and overall state, as
    :meth:`Store.record_many_deliveries` saves them."""

    user: User
    key: str
    deliveries: Sequence[SinkDelivery]
    state: DeliveryState
    next_attempt_at: datetime | None
    at: datetime


class Sealer(Protocol):
    """Encrypts and decrypts fields under one owner's data key (synchronous, fast)."""

    def seal(self, plaintext: str, *, table: str, row_id: str, column: str) -> str:
        """Encrypt ``plaintext`` bound to its table, row and column."""
        ...

    def open(self, token: str, *, table: str, row_id: str, column: str) -> str:
        """Decrypt a token made by :meth:`seal` for the same table, row and column."""
        ...

    def is_current(self, token: str) -> bool:
        """True when ``token`` was sealed with the key new seals use."""
        ...

    @property
    def current_prefix(self) -> str:
        """How every token sealed with the key new seals use starts (:meth:`is_current`
        is ``token.startswith(current_prefix)``)."""
        ...

    def digest(self, plaintext: str, *, table: str, row_id: str, column: str) -> str:
        """A keyed, deterministic digest of ``plaintext`` bound to its table, row and
        column (never a plain hash: without the owner's key it reveals nothing), for
        telling whether a sealed value changed without opening it."""
        ...


class FieldCipher(Protocol):
    """Hands out sealers per owner and computes blind indexes (see ``hybrid_calendar.crypto``)."""

    async def sealer(self, org_id: str, user_id: str | None) -> Sealer:
        """Return the sealer of a user's (or, with ``None``, the organisation's) data key."""
        ...

    async def blind_index(self, org_id: str, value: str) -> str:
        """Return a keyed, deterministic index of ``value`` for equality look-ups."""
        ...

    async def settle_first_key(self, key: FirstKey, *, stored: bool) -> None:
        """Tell the cipher whether a new user's first key (``first_key``) was stored."""
        ...


PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}"
"""How a process names itself as the holder of the jobs it claims (``jobs.claimed_by``)."""

SYNC_KIND = "sync"
"""The kind of a user's sync job (payload ``user_id``, key ``sync:<user id>``): a claim
may read its user context with it (``Job.context``)."""
SYNC_KEY_PREFIX = SYNC_KIND + ":"
"""How a sync job's key starts (its user's id follows)."""


def hash_channel_token(token: str) -> str:
    """Digest under which a channel token is stored (the token itself never is)."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def channel_token_matches(channel: Channel, presented: str | None) -> bool:
    """Compare a presented channel token with a stored channel, in constant time."""
    if presented is None:
        return False
    return hmac.compare_digest(channel.token.encode(), hash_channel_token(presented).encode())


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What :meth:`Store.apply_changes` changed in the user's stored meetings."""

    upserted: int
    """Meetings added or changed: listed meetings the store did not hold, or held with
    other content (any clear or sealed field). A listed meeting found exactly as stored
    is not counted, even when its row is written again (sealed anew under a newer data
    key, or given its digest); a meeting listed twice counts once."""
    deleted: int
    """Stored meetings removed (ids not stored do not count)."""
    changed_event_ids: frozenset[str] | None = field(default=None, compare=False)
    """The event ids counted in ``upserted`` (``None``: the backend did not say which).
    Not compared: two results are equal when their counts are."""
    deleted_event_ids: frozenset[str] | None = field(default=None, compare=False)
    """The event ids counted in ``deleted`` (``None``: the backend did not say which).
    :meth:`Store.write_sync`'s default passes both on, so a store that names them here
    gives the mirror every deleted meeting without a ``write_sync`` of its own."""


@dataclass(frozen=True, slots=True)
class UserContext:
    """A user with their organisation and sync state, as a job reads them when it starts
    (:meth:`Store.get_user_context`)."""

    user: User
    organisation: Organisation | None
    """``None`` when the user's organisation is gone."""
    sync_state: SyncState


@dataclass(frozen=True, slots=True)
class QueuedJob:
    """One job of :meth:`Store.enqueue_many`: the arguments of :meth:`Store.enqueue`."""

    kind: str
    key: str
    payload: Mapping[str, Any]
    run_at: datetime
    lane: str | None = None


@dataclass(frozen=True, slots=True)
class SyncSuccess:
    """A successful sync's health record (``user_health``, read by the admin API): when
    it ended (epoch seconds), how long it took up to its write, and whether the provider
    replaced an expired cursor with a full sync."""

    at: float
    seconds: float
    token_reset: bool = False


@dataclass(frozen=True, slots=True)
class WithdrawPlan:
    """That a sync's write withdraws the delivered Join buttons its changes undo
    (:attr:`SyncWrite.withdraw`), and when."""

    at: datetime
    """Now: delivered buttons of meetings ended by then are left alone; the withdrawal
    notices are due then."""
    first_attempt: datetime
    """The notices' first attempt: a lease ahead when the caller tries them at once after
    the write (so the outbox loop does not also take them), else ``at``."""
    moved_away: frozenset[str] = frozenset()
    """Of the write's deleted event ids, those of events moved out of the kept window (not
    cancelled): their buttons are withdrawn as ``moved``."""


@dataclass(frozen=True, slots=True)
class SyncWrite:
    """Everything one sync of one user stores (:meth:`Store.write_sync`): the meetings
    (as :meth:`Store.apply_changes`; ``upserts`` are every meeting the sync listed,
    changed or not), their Join buttons (as :meth:`Store.schedule`, for the events of
    ``upserts`` and ``deleted_event_ids``), the meetings-changed notification (as
    :meth:`Store.enqueue_notification` with ``supersede``, only when the sync added,
    changed or deleted a stored meeting: :class:`ApplyResult` counts above zero) and,
    with ``withdraw``, the withdrawal of the delivered Join buttons it undoes."""

    user: User
    upserts: Sequence[Meeting]
    deleted_event_ids: Sequence[str]
    cursor: str | None
    full_sync: bool
    synced_at: datetime
    buttons: Sequence[ScheduledNotification] = ()
    announcement: ScheduledNotification | None = None
    announce_at: datetime | None = None
    """The announcement's first attempt (default: its due time)."""
    health: SyncSuccess | None = None
    """The sync's health record, for a backend that stores it with the write
    (:attr:`SyncWriteResult.health_recorded` says whether it did)."""
    withdraw: WithdrawPlan | None = None
    """Given, the write also withdraws the user's Join buttons it undoes
    (:func:`undone_buttons`: of an event it touches, the meeting ending after
    ``withdraw.at``, the key not among ``buttons``) that a sink may show: those delivered,
    and, in the built-in stores, those due by ``withdraw.at`` and still pending (offered
    to the sinks, some of which may have shown them, or be showing them right now, while
    another failed). Each is deleted with its per-sink records (as
    :meth:`Store.forget_notifications`: its key is free again, so a meeting that holds
    again gets its button anew) and its notice
    (:func:`~hybrid_calendar.withdrawal_notices.withdrawal_notice`) enqueued, first
    attempt ``withdraw.first_attempt``. The built-in stores do it in the write's
    transaction, so a change is never stored without its withdrawal."""

    @property
    def touched_event_ids(self) -> list[str]:
        """The events whose pending Join buttons the write replaces."""
        return [m.event_id for m in self.upserts] + list(self.deleted_event_ids)


@dataclass(frozen=True, slots=True)
class SyncWriteResult:
    """What :meth:`Store.write_sync` did."""

    applied: ApplyResult
    """Meetings added or changed, and deleted (see :class:`ApplyResult`: a meeting found
    as stored counts as neither)."""
    announced: bool
    """The announcement went into the outbox (False: none given, no meeting added,
    changed or deleted, its key was there already, or it could not be queued)."""
    changed_event_ids: frozenset[str] | None = None
    """The event ids of the meetings counted in ``applied.upserted`` (``None``: the
    backend did not say which; any listed meeting may have changed)."""
    health_recorded: bool = False
    """``SyncWrite.health`` was stored with the write (False: the caller records it;
    the default never does, the built-in stores do)."""
    deleted_event_ids: frozenset[str] | None = None
    """The event ids of the meetings counted in ``applied.deleted``: a full sync's
    meetings its listing no longer has, an incremental sync's deleted ids that were
    stored (``None``: the backend did not say which)."""
    withdrawn: tuple[ScheduledNotification, ...] = ()
    """The withdrawal notices of delivered buttons the write enqueued
    (:attr:`SyncWrite.withdraw`), by the withdrawn button's key: the caller may try them
    at once. Those of buttons still pending are not here: an attempt at the button may be
    in flight, so the outbox loop tries them after ``withdraw.first_attempt``."""


def undone_buttons(write: SyncWrite, offered: Iterable[ScheduledNotification]
                   ) -> list[ScheduledNotification]:
    """Of the user's ``offered`` Join buttons (delivered, or due and pending) whose
    meeting has not ended, those ``write`` undoes: the key is not among its buttons, and
    the event is one it touches (``upserts`` and ``deleted_event_ids``, which hold every
    meeting it deletes; a full sync touches every event: one it did not list is gone).
    By key."""
    keys = {button.key for button in write.buttons}
    touched = None if write.full_sync else set(write.touched_event_ids)
    return sorted((button for button in offered if button.key not in keys
                   and (touched is None or button.event_id in touched)),
                  key=lambda button: button.key)


def withdrawal_notices(write: SyncWrite, undone: Iterable[ScheduledNotification]
                       ) -> list[ScheduledNotification]:
    """The notices withdrawing the ``undone`` buttons (:func:`undone_buttons`), due at
    ``write.withdraw.at``."""
    plan = write.withdraw
    assert plan is not None
    meetings = {meeting.event_id: meeting for meeting in write.upserts}
    return [withdrawal_notice(write.user, button, meetings.get(button.event_id or ""),
                              plan.at, moved_away=button.event_id in plan.moved_away)
            for button in undone]


@dataclass(frozen=True, slots=True)
class ActivationWrite:
    """What a successful activation stores at once (:meth:`Store.write_activation`): the
    user, validated and active (as :meth:`Store.put_user`); when the user's presence
    changed, its notification (as :meth:`Store.enqueue_notification` with ``supersede``)
    and the new out-of-office state (as :meth:`Store.set_out_of_office`); the cursor
    forgotten when ``reset_cursor`` (as :meth:`Store.reset_cursor`); the push channel the
    activation opened (as :meth:`Store.put_channel`); and the user's first full sync
    queued (as :meth:`Store.enqueue`)."""

    user: User
    sync_job: QueuedJob
    presence: ScheduledNotification | None = None
    presence_at: datetime | None = None
    """The presence notification's first attempt (default: its due time)."""
    out_of_office: bool = False
    """The state stored with ``presence`` (nothing is stored without it)."""
    reset_cursor: bool = False
    channel: Channel | None = None
    """The user's new push channel, its token in clear (stored as its digest)."""


@dataclass(frozen=True, slots=True)
class ActivationWriteResult:
    """What :meth:`Store.write_activation` did."""

    presence_added: bool
    """The presence notification went into the outbox (False: none given, or its key
    was there already)."""
    sync_queued: bool
    """The sync job was added (False: a job of its key was queued already)."""


USER_TABLES = ("meetings", "channels", "scheduled_notifications", "sync_state", "user_health",
               "people_access", "people_outbox")
"""Tables whose rows belong to one user (a ``user_id`` column): deactivation deletes them
(:meth:`Store.forget_user_data`); deleted scheduled notifications take their delivery
records with them (``ON DELETE CASCADE``)."""


def announcement_failed(write: SyncWrite, err: BaseException) -> None:
    """Log that a sync's announcement could not be queued (the sync itself stands)."""
    assert write.announcement is not None
    log.warning("%s notification for user %s not queued: %s: %s", write.announcement.kind,
                write.user.id, type(err).__name__, err)


class Store(abc.ABC):
    """Persistence for organisations, users, sync state, meetings, channels, jobs, schedules."""

    shares_database: ClassVar[bool] = False
    """True when other gateway processes may use the same database at the same time
    (PostgreSQL): a starting process then re-queues only jobs whose lease expired."""

    # lifecycle -------------------------------------------------------------
    @abc.abstractmethod
    async def open(self) -> None:
        """Open the database and apply pending migrations."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Flush and close (closing a closed store does nothing; ``open`` may follow)."""

    @abc.abstractmethod
    async def ping(self) -> bool:
        """Return True when the database answers (for ``/readyz``)."""

    @abc.abstractmethod
    async def call(self, fn: Callable[[Any], Any]) -> Any:
        """Run ``fn(connection)`` serialized with every other store operation.

        For components that keep their own tables in the same database (admin
        credentials, audit, health). SQLite passes its ``sqlite_utils.Database``;
        PostgreSQL a handle with the portable subset of it (``handle.execute(sql,
        params)`` with ``?`` placeholders, ``with handle.conn:`` for a transaction; see
        :mod:`hybrid_calendar.store.postgres.portable`): code that keeps to that subset
        runs on both.
        """

    async def call_grouped(self, fn: Callable[[Any], Any]) -> Any:
        """:meth:`call` for a function that runs ONE write statement (or only reads) and
        never begins, commits or rolls back: the backend may run it inside a transaction
        shared with other operations (SQLite's group commit), so it costs no commit of
        its own. The default is :meth:`call`."""
        return await self.call(fn)

    @abc.abstractmethod
    def key_storage(self) -> KeyStorage:
        """Where the field cipher keeps its wrapped keys and counters, in this store's
        database (usable once the store is open)."""

    # organisations -----------------------------------------------------------
    @abc.abstractmethod
    async def put_organisation(self, org: Organisation) -> None:
        """Insert or update an organisation."""

    async def add_organisation(self, org: Organisation) -> bool:
        """Insert an organisation unless one with its id exists; True if inserted.

        The built-in stores make it one statement, atomic also across processes sharing
        the database (two administrators creating the same id at once: one gets it, the
        other is told it exists, and neither's name and domains overwrite the other's).
        The default reads with :meth:`get_organisation`, then writes with
        :meth:`put_organisation`: not atomic on a third-party backend that keeps it."""
        if await self.get_organisation(org.id) is not None:
            return False
        await self.put_organisation(org)
        return True

    @abc.abstractmethod
    async def get_organisation(self, org_id: str) -> Organisation | None:
        """Return one organisation."""

    @abc.abstractmethod
    async def list_organisations(self) -> list[Organisation]:
        """Return every organisation."""

    @abc.abstractmethod
    async def put_org_secret(self, org_id: str, name: str, value: str) -> None:
        """Store a secret of an organisation (e.g. its service-account key), encrypted."""

    @abc.abstractmethod
    async def get_org_secret(self, org_id: str, name: str) -> str | None:
        """Return a decrypted organisation secret."""

    async def update_org_secret(self, org_id: str, name: str,
                                change: Callable[[str | None], str | None]) -> str | None:
        """Read-modify-write one organisation secret; return the value stored afterwards.

        ``change`` gets the secret's current clear value (``None`` when there is none) and
        returns the new value, sealed as :meth:`put_org_secret` seals it, or ``None`` to
        leave the secret as it is (nothing is written; the result is then the current
        value). ``change`` must be quick and pure: it runs inside the store's operation
        (it cannot await anything) and may run more than once (a backend may run the
        operation again after a conflict). The built-in stores make it atomic, also
        across processes sharing the database, so concurrent updates never lose one
        another's change (SQLite: one ``BEGIN IMMEDIATE`` transaction; PostgreSQL: one
        transaction under an advisory lock on the secret). The default reads with
        :meth:`get_org_secret` and writes with :meth:`put_org_secret`: not atomic, so on
        a third-party backend that keeps it two updates at once can lose one change.
        """
        current = await self.get_org_secret(org_id, name)
        new = change(current)
        if new is None:
            return current
        await self.put_org_secret(org_id, name, new)
        return new

    # users -------------------------------------------------------------------
    @abc.abstractmethod
    async def put_user(self, user: User) -> None:
        """Insert or update a user (email encrypted, blind-indexed)."""

    @abc.abstractmethod
    async def get_user(self, user_id: str) -> User | None:
        """Return one user."""

    async def get_user_context(self, user_id: str) -> UserContext | None:
        """The user, their organisation and their sync state (``None`` when no user has
        this id). The default reads them one after another; a backend may read them in
        one statement (a job starts with this read, so it is worth a round trip each)."""
        user = await self.get_user(user_id)
        if user is None:
            return None
        return UserContext(user, await self.get_organisation(user.org_id),
                           await self.get_sync_state(user_id))

    async def start_validation(self, user_id: str, first_key: FirstKey | None = None
                               ) -> UserContext | None:
        """Mark the user ``validating`` (reason cleared) unless they are inactive, and
        return their context as it was before (:meth:`get_user_context`: an activation
        reads the prior state); ``None`` when nothing was marked (no user has this id, or
        the user is inactive). The default reads, then calls :meth:`set_user_state`; the
        built-in stores do both at once (SQLite: one transaction; PostgreSQL: one
        statement), so a user made inactive in between is never marked.

        :param first_key: a new user's first data key (:meth:`FieldCipher.first_key
            <hybrid_calendar.crypto.FieldCipher.first_key>`). The built-in stores insert
            it with the mark, unless the user was not marked or owns a key already, and
            tell the cipher which happened (``settle_first_key``): the key costs no write
            of its own. The default ignores it (the cipher then makes the key at the
            user's first seal, as without it)."""
        context = await self.get_user_context(user_id)
        if context is None or context.user.state == UserState.INACTIVE:
            return None
        await self.set_user_state(user_id, UserState.VALIDATING, None)
        return context

    @abc.abstractmethod
    async def find_user(self, org_id: str, email: str) -> User | None:
        """Find a user of an organisation by email, through the blind index."""

    async def add_users(self, users: Sequence[User]) -> list[User]:
        """Add users by address (the admin API's add; each given user has a fresh id).

        A user whose organisation has no user with that address (blind index) is
        inserted as given; where one exists, that user takes the given user's state and
        reason (its id, address and settings stay). Returns the stored users in the given
        order. An address given more than once is added once (its first user decides) and
        stands for the same stored user each time. The default runs :meth:`find_user`,
        then :meth:`put_user` or :meth:`set_user_state`, for each; a backend may do all
        of it in one statement.
        """
        handled: dict[str, User] = {}  # by id: the users this call added or changed
        stored: list[User] = []
        for user in users:
            found = await self.find_user(user.org_id, user.email)
            if found is None:
                await self.put_user(user)
                found = handled[user.id] = user
            elif found.id in handled:
                found = handled[found.id]
            else:
                found = handled[found.id] = await self.set_user_state(found.id, user.state,
                                                                      user.reason)
            stored.append(found)
        return stored

    @abc.abstractmethod
    async def list_users(self, *, state: UserState | None = None, org_id: str | None = None
                         ) -> list[User]:
        """Return users, optionally filtered by state and organisation."""

    async def list_user_ids(self, *, state: UserState | None = None) -> list[str]:
        """The ids of the users (optionally of one state), in id order, without opening
        their sealed fields: for duties that need to know only who is active (the sweep's
        safety re-sync and channel renewal, the start-up catch-up), where listing the
        users would decrypt every address. The default lists the users; the built-in
        stores read the ids alone."""
        return [user.id for user in await self.list_users(state=state)]

    @abc.abstractmethod
    async def set_user_state(self, user_id: str, state: UserState, reason: str | None = None
                             ) -> User:
        """Change a user's activation state (and reason); return the changed user.

        :raises NotFoundError: no user has this id.
        """

    async def set_user_settings(self, user_id: str, locale: str | None,
                                timezone: str | None) -> bool:
        """Store a user's calendar language and time zone as read again from the
        provider, changing nothing else of the user (not its state: an administrator may
        deactivate the user meanwhile); True when the stored values changed.

        The built-in stores make it one ``UPDATE`` of those two columns. The default reads
        with :meth:`get_user` and writes with :meth:`put_user`: not atomic, so on a
        third-party backend that keeps it a state change made in between is undone."""
        user = await self.get_user(user_id)
        if user is None or (user.locale, user.timezone) == (locale, timezone):
            return False
        await self.put_user(replace(user, locale=locale, timezone=timezone))
        return True

    @abc.abstractmethod
    async def forget_user_data(self, user_id: str) -> None:
        """Delete every row of :data:`USER_TABLES` that belongs to the user (deactivation):
        meetings, cursor, channels, schedules, health, personal access and stream outbox."""

    # sync ---------------------------------------------------------------------
    @abc.abstractmethod
    async def get_sync_state(self, user_id: str) -> SyncState:
        """Return the user's cursor and sync timestamps."""

    @abc.abstractmethod
    async def apply_changes(self, user: User, upserts: Sequence[Meeting],
                            deleted_event_ids: Sequence[str], cursor: str | None, *,
                            full_sync: bool, synced_at: datetime) -> ApplyResult:
        """Store changed meetings, drop deleted ones and save the cursor, atomically.

        With ``full_sync`` every stored meeting of the user not in ``upserts`` is deleted.
        A meeting of ``upserts`` already stored exactly so is left as it is (or only
        sealed again under the current key) and not counted: the result counts the
        meetings added or changed and the stored meetings deleted, and names their event
        ids (``ApplyResult.changed_event_ids`` and ``deleted_event_ids``).
        """

    async def write_sync(self, write: SyncWrite) -> SyncWriteResult:
        """Store a sync's meetings, cursor, Join buttons, announcement and withdrawals (see
        :class:`SyncWrite`); the default calls :meth:`apply_changes`, :meth:`schedule`,
        :meth:`enqueue_notification`, then :meth:`delivered_join_buttons`, and
        :meth:`enqueue_notification` and :meth:`forget_notifications` for the withdrawals,
        in turn; a backend may (the built-in ones do) do it in one transaction. The
        announcement is queued only when a meeting was added, changed or deleted
        (:class:`ApplyResult`): a sync that found everything as stored announces nothing.
        A failure to queue the announcement is logged, never raised (it is a hint)."""
        user = write.user
        applied = await self.apply_changes(user, write.upserts, write.deleted_event_ids,
                                           write.cursor, full_sync=write.full_sync,
                                           synced_at=write.synced_at)
        touched = write.touched_event_ids
        if write.buttons or touched:
            await self.schedule(user, write.buttons, replace_for_events=touched)
        announced = False
        if write.announcement is not None and applied.upserted + applied.deleted:
            try:
                announced = await self.enqueue_notification(
                    user, write.announcement, supersede=True, next_attempt_at=write.announce_at)
            except Exception as err:  # the list is served from the store; this is a hint
                announcement_failed(write, err)
        withdrawn: list[ScheduledNotification] = []
        if write.withdraw is not None:  # after the write: a crash between loses them
            events = None if write.full_sync else write.touched_event_ids
            undone = undone_buttons(write, await self.delivered_join_buttons(
                user, events, ending_after=write.withdraw.at))
            for notice in withdrawal_notices(write, undone):  # queued, then forgotten
                if await self.enqueue_notification(
                        user, notice, next_attempt_at=write.withdraw.first_attempt):
                    withdrawn.append(notice)
            await self.forget_notifications(user, [button.key for button in undone])
        return SyncWriteResult(applied, announced, applied.changed_event_ids,
                               deleted_event_ids=applied.deleted_event_ids,
                               withdrawn=tuple(withdrawn))

    async def write_activation(self, write: ActivationWrite, *, notify: bool = True
                               ) -> ActivationWriteResult:
        """Store what a successful activation stores (see :class:`ActivationWrite`).

        The built-in stores write it atomically (SQLite: one transaction; PostgreSQL: one
        statement), so an active user always has its first sync queued and its presence
        announced. This default, for a store that has no such write, calls
        :meth:`put_channel`, :meth:`put_user`, :meth:`enqueue_notification` and
        :meth:`set_out_of_office`, :meth:`reset_cursor` and :meth:`enqueue` (with
        ``notify``) in turn, each atomic on its own: should one fail, the activation job
        runs again, and the periodic sweep syncs an active user whose job was lost."""
        if write.channel is not None:
            await self.put_channel(write.channel)
        await self.put_user(write.user)
        added = False
        if write.presence is not None:
            added = await self.enqueue_notification(write.user, write.presence, supersede=True,
                                                    next_attempt_at=write.presence_at)
            await self.set_out_of_office(write.user.id, write.out_of_office)
        if write.reset_cursor:
            await self.reset_cursor(write.user.id)
        job = write.sync_job
        queued = await self.enqueue(job.kind, job.key, job.payload, job.run_at, lane=job.lane,
                                    notify=notify)
        return ActivationWriteResult(added, queued)

    @abc.abstractmethod
    async def list_sync_states(self) -> list[SyncState]:
        """Every user's sync state, in one read (for the periodic sweep)."""

    @abc.abstractmethod
    async def reset_cursor(self, user_id: str) -> None:
        """Forget the cursor so the next sync is a full one."""

    @abc.abstractmethod
    async def set_out_of_office(self, user_id: str, enabled: bool) -> bool | None:
        """Store the user's out-of-office state; return the previous one."""

    # meetings ----------------------------------------------------------------
    @abc.abstractmethod
    async def list_meetings(self, user: User, start: datetime, end: datetime) -> list[Meeting]:
        """Return the user's meetings overlapping ``[start, end)``, by start time."""

    @abc.abstractmethod
    async def get_meeting(self, user: User, event_id: str) -> Meeting | None:
        """Return one stored meeting."""

    @abc.abstractmethod
    async def purge_outside(self, keep_from: datetime, keep_until: datetime) -> int:
        """Delete meetings ending before ``keep_from`` or starting after ``keep_until``."""

    # channels ------------------------------------------------------------------
    @abc.abstractmethod
    async def put_channel(self, channel: Channel) -> None:
        """Store a push channel; its token is stored as :func:`hash_channel_token` only."""

    @abc.abstractmethod
    async def get_channel(self, channel_id: str) -> Channel | None:
        """Return a channel (``token`` holds the stored digest)."""

    @abc.abstractmethod
    async def list_channels(self, *, user_id: str | None = None,
                            expiring_before: datetime | None = None) -> list[Channel]:
        """Return channels of a user and/or expiring before a time."""

    @abc.abstractmethod
    async def delete_channel(self, channel_id: str) -> None:
        """Forget a channel."""

    # jobs ----------------------------------------------------------------------
    @abc.abstractmethod
    async def enqueue(self, kind: str, key: str, payload: Mapping[str, Any], run_at: datetime,
                      *, lane: str | None = None, notify: bool = True) -> bool:
        """Queue a job unless one with the same key is already queued; True if added.

        Jobs of one ``lane`` (default: the key) never run at the same time: all jobs of a
        user share the user's lane, so sync, activation and deactivation are serialized.

        :param notify: wake the listeners of other stores and processes
            (:meth:`listen_for_jobs`). False when the caller wakes a worker of its own
            for the job; other processes then find it by their idle poll only.
        """

    async def enqueue_many(self, jobs: Sequence[QueuedJob], *, notify: bool = True
                           ) -> list[bool]:
        """:meth:`enqueue` each job, in order; for each, True if it was added (a key given
        twice is added at most once). ``notify`` as for :meth:`enqueue`, for every job.
        The default enqueues them one by one; a backend may queue them in one
        statement."""
        return [await self.enqueue(job.kind, job.key, job.payload, job.run_at, lane=job.lane,
                                   notify=notify)
                for job in jobs]

    @abc.abstractmethod
    async def claim(self, now: datetime, lease_seconds: float) -> Job | None:
        """Take the next due job whose lane has no running job; None if there is none.
        The job records its holder (this process, :data:`PROCESS_ID`; a store that
        processes share names itself apart, and its :meth:`finish`, :meth:`retry` and
        :meth:`extend_leases` then act only on the jobs it holds, so a holder that stalled
        past its lease changes nothing of the job another process took over). A backend may
        read a ``sync`` job's user context with the claim (``Job.context``, as
        :meth:`get_user_context` would return it; ``None`` for any other kind), so the
        sync needs no read of its own (as may :meth:`finish_and_claim`)."""

    @abc.abstractmethod
    async def finish(self, job_id: int) -> None:
        """Delete a job that completed."""

    async def finish_and_claim(self, job_id: int, now: datetime, lease_seconds: float
                               ) -> Job | None:
        """:meth:`finish` ``job_id``, then :meth:`claim` as of ``now`` (a worker that
        finished a job looks for the next; the finished job's lane is free for the
        claim). The default runs the two in turn; a backend may run them as one statement,
        which either does both or neither. A backend that several processes share may
        also prefer a due job of the finished job's lane while another process runs a
        job, as the PostgreSQL store does: the same user's next job (the sync an
        activation queued) then runs in the process that holds that user's token and
        data key, instead of in another that would mint and read them again. (A process
        alone gains nothing from it, and running each user's jobs back to back measured
        5-10 % slower than the queue's order: SQLite keeps that order.)"""
        await self.finish(job_id)
        return await self.claim(now, lease_seconds)

    @abc.abstractmethod
    async def retry(self, job_id: int, error: str, run_at: datetime | None) -> None:
        """Put a failed job back in the queue at ``run_at``; ``None`` parks it for
        inspection, replacing the parked job of its key if there is one (the newest
        failure is kept: a user whose syncs keep failing for good holds one parked sync,
        not one per attempt).

        When a job of its key was queued while it ran (a push notification during the
        attempt), that job takes the failed run's place: it keeps its attempts and runs
        no earlier than ``run_at`` (the later of the two), so neither the backoff (and a
        provider's ``Retry-After``) nor ``sync.job_max_attempts`` is lost to a request
        that arrived meanwhile."""

    @abc.abstractmethod
    async def extend_leases(self, job_ids: Sequence[int], until: datetime) -> int:
        """Move the lease of these running jobs to ``until`` (a live worker's heartbeat);
        returns how many were still running."""

    @abc.abstractmethod
    async def requeue_running(self, now: datetime | None = None) -> int:
        """Re-queue running jobs whose lease expired (all of them when ``now`` is None)."""

    @abc.abstractmethod
    async def job_counts(self) -> dict[str, int]:
        """Return the number of jobs by state."""

    @abc.abstractmethod
    async def listen_for_jobs(self, wake: Callable[[], None]) -> None:
        """Call ``wake()`` once listening, then whenever another store or process sharing
        the database queues a job (or re-queues one: a retry, a lapsed lease); runs until
        cancelled. This store's own writes wake nobody here (its caller wakes its own
        workers), and ``enqueue(notify=False)`` wakes nobody anywhere. Idle workers wait
        for it instead of polling."""

    async def hold_lease(self, name: str, holder: str, now: datetime, seconds: float
                         ) -> bool:
        """Take or keep the lease ``name`` for ``holder`` until ``now + seconds``: True when
        ``holder`` holds it now (it was free, had lapsed, or was already ``holder``'s),
        False while another holder's lease runs.

        Several processes sharing one database (:attr:`shares_database`) use it so that a
        duty meant to run once (the engine's sweep: channel renewals, presence polls) runs
        in one of them, and in another once that one stops renewing its lease. A store
        whose database one process alone uses needs no lease: this default answers True
        without I/O. A store that sets :attr:`shares_database` should override it
        (``StoreTests`` fails until it does); until then this default also answers True,
        so every process sweeps, as before leases existed, and says so once."""
        if self.shares_database and not getattr(self, "_lease_warned", False):
            self._lease_warned = True
            log.warning("%s shares its database but does not implement hold_lease: every "
                        "gateway process runs the sweep (channel renewals, presence polls)",
                        type(self).__name__)
        return True

    async def release_lease(self, name: str, holder: str) -> None:
        """Give up the lease ``name`` if ``holder`` holds it, so that another holder can
        take it at once instead of when it lapses (a process stopping cleanly calls it:
        a rolling restart then moves the sweep without a gap). Another holder's lease is
        left alone.

        This default does nothing: a store whose database one process alone uses holds
        no lease, and a lease of a store without this override lapses on its own."""
        return None

    # shared budgets -------------------------------------------------------------
    @abc.abstractmethod
    async def take_budget(self, name: str, units: int, limit: int, window_seconds: float,
                          now: datetime, *, pool: str | None = None) -> float:
        """Take ``units`` from budget ``name`` (at most ``limit`` units in any
        ``window_seconds``, counted across every process sharing the database).

        :param pool: the pool ``name`` belongs to (``name`` is ``<pool>:<member>``): the
            units held in it for every member count too (:meth:`take_budget_pool`).
        :returns: 0 when taken; otherwise the seconds to wait before asking again (nothing
            was taken). See :mod:`hybrid_calendar.store.budget`.
        """

    @abc.abstractmethod
    async def take_budget_pool(self, pool: str, units: int, limit: int,
                               window_seconds: float, now: datetime) -> float:
        """Take ``units`` from every member budget of ``pool`` at once (those named
        ``<pool>:<member>``, all of ``limit`` units per ``window_seconds``, including
        members never taken from yet): granted when the busiest member's count (what a
        :meth:`take_budget` with ``pool=`` would count) plus ``units`` fits ``limit``.

        :returns: 0 when taken; otherwise the seconds until the oldest counted units stop
            counting (nothing was taken). See :mod:`hybrid_calendar.store.budget_pool`.
        """

    @abc.abstractmethod
    async def read_budgets(self, names: Sequence[str], window_seconds: float, now: datetime,
                           *, pool: str | None = None) -> dict[str, BudgetUse]:
        """Read budgets without taking from them: for each name, the units a
        :meth:`take_budget` at ``now`` would count (a budget never taken from reads 0).

        :param pool: a pool whose held units count in each of its members given.
        :returns: a :class:`~hybrid_calendar.store.budget.BudgetUse` per name given.
        """

    # notification outbox ---------------------------------------------------------
    @abc.abstractmethod
    async def schedule(self, user: User, items: Sequence[ScheduledNotification],
                       *, replace_for_events: Sequence[str] = ()) -> None:
        """Upsert timed notifications (Join buttons) by key; pending Join buttons of
        ``replace_for_events`` not in ``items`` are removed (a meeting moved or lost its
        join link), and so is a pending withdrawal of one of ``items`` (its meeting holds
        again before the withdrawal reached every sink: what they show stays). Delivered
        ones are never changed, nor are other notifications about the same events (a
        withdrawal of a button that no longer holds stays)."""

    @abc.abstractmethod
    async def enqueue_notification(self, user: User, item: ScheduledNotification, *,
                                   supersede: bool = False,
                                   next_attempt_at: datetime | None = None) -> bool:
        """Add one notification to the outbox unless its key is there; True if added.

        With ``supersede``, the user's pending notifications of the same kind are removed
        first (a newer presence or list change replaces an undelivered older one). The
        first attempt is due at ``next_attempt_at`` (default ``item.due_at``): a caller
        that delivers at once passes a lease so the outbox loop does not also take it.
        """

    @abc.abstractmethod
    async def due_notifications(self, now: datetime, kinds: Collection[NotificationKind],
                                *, limit: int = 100, lease_seconds: float = 120.0
                                ) -> list[tuple[User, ScheduledNotification]]:
        """Claim pending notifications of ``kinds`` whose next attempt is due at ``now``
        and whose meeting (if any) has not ended, with their per-sink deliveries; each
        claimed one's next attempt moves ``lease_seconds`` ahead."""

    @abc.abstractmethod
    async def ended_notifications(self, now: datetime, kinds: Collection[NotificationKind],
                                  *, limit: int = 100
                                  ) -> list[tuple[User, ScheduledNotification]]:
        """Pending notifications of ``kinds`` whose meeting ended by ``now`` (Join buttons
        no sink delivered in time), with their per-sink deliveries."""

    @abc.abstractmethod
    async def record_deliveries(self, user: User, key: str,
                                deliveries: Sequence[SinkDelivery], state: DeliveryState,
                                next_attempt_at: datetime | None, at: datetime) -> None:
        """Save sinks' delivery records and the notification's overall state, atomically
        (``sent_at`` is set when the state becomes delivered). A notification removed
        meanwhile (superseded, user forgotten) is left alone."""

    @abc.abstractmethod
    async def record_many_deliveries(self, records: Sequence[DeliveryRecord]) -> None:
        """:meth:`record_deliveries` for many notifications in ONE transaction (the
        outbox's group commit: a minute of Join buttons is a few dozen commits, not
        thousands). All are saved or none."""

    @abc.abstractmethod
    async def list_notifications(self, user: User, *, state: DeliveryState | None = None,
                                 kind: NotificationKind | None = None
                                 ) -> list[ScheduledNotification]:
        """A user's notifications in the outbox (e.g. dead letters), by due time."""

    @abc.abstractmethod
    async def delivered_join_buttons(self, user: User, event_ids: Collection[str] | None,
                                     *, ending_after: datetime
                                     ) -> list[ScheduledNotification]:
        """The user's delivered Join buttons of ``event_ids`` (``None``: of any event)
        whose meeting ends after ``ending_after`` (those a change can still withdraw), by
        key; their ``payload`` is not read (empty) and ``deliveries`` are left out."""

    @abc.abstractmethod
    async def forget_notifications(self, user: User, keys: Collection[str]) -> int:
        """Delete the user's notifications with these keys and their per-sink records,
        whatever their state (a withdrawn Join button: its key is free again, so the
        button is scheduled and delivered anew if the meeting holds again); returns how
        many were deleted."""
