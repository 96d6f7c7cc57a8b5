"""Envelope encryption of sensitive fields: per-user data keys wrapped by the KMS.

Hierarchy: the KMS plugin's key-encryption key (KEK, in a key file or an HSM) wraps one
AES-256 data key per user and generation, plus per organisation one data key (for the
organisation's own secrets) and one HMAC-SHA256 blind-index key. Only wrapped keys are
stored (:mod:`hybrid_calendar.crypto.repository`); unwrapped keys live in memory for at
most ``cache_ttl`` (≤ 15 minutes) in a size-capped cache.

Every seal is counted. A data key is replaced by a new generation when it reaches
``max_uses`` (default 2^30, far below the 2^32 random-nonce limit of NIST SP 800-38D) or
``max_age``; older generations stay readable. Counters are reserved in blocks ahead of use
so a crash can only over-count, never under-count.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

import anyio

from hybrid_calendar.clock import Clock
from hybrid_calendar.crypto.formats import owner_id, wrap_context
from hybrid_calendar.crypto.kms import KmsAccess
from hybrid_calendar.crypto.repository import (
    PURPOSE_DATA,
    PURPOSE_INDEX,
    KeyRaceLostError,
    KeyRecord,
    KeyStorage,
)
from hybrid_calendar.crypto.sealer import KeyMaterial, Sealer, UseCounter, compute_blind_index
from hybrid_calendar.errors import KeyManagementError
from hybrid_calendar.models import KmsStatus

log = logging.getLogger(__name__)

NIST_RANDOM_NONCE_LIMIT = 2**32
"""Invocations of one AES-GCM key with random 96-bit nonces allowed by SP 800-38D §8.3."""
MAX_CACHE_TTL = timedelta(minutes=15)

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class FirstKey:
    """A new owner's first data key, wrapped by the KMS but not stored yet
    (:meth:`FieldCipher.first_key`): the store inserts :attr:`record` with the owner's
    first write, unless the owner has a key by then, and says which happened
    (:meth:`FieldCipher.settle_first_key`)."""

    record: KeyRecord
    plain: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class RotationReport:
    """Outcome of :meth:`FieldCipher.rotate_master_key`."""

    key_ref: str
    """The new key-encryption key version."""
    rewrapped: int
    """Stored keys now wrapped by ``key_ref``."""
    failed: int
    """Stored keys that could not be rewrapped (still readable with their old version)."""
    remaining: int
    """Stored keys still wrapped by an older version after the run."""
    seconds: float


class _TtlCache(Generic[K, V]):
    """LRU cache with a per-entry expiry and a size cap."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, tuple[V, datetime]] = OrderedDict()

    def get(self, key: K, now: datetime) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[1] <= now:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return item[0]

    def put(self, key: K, value: V, expires: datetime) -> None:
        self._items[key] = (value, expires)
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def pop(self, key: K) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


@dataclass(slots=True)
class _Entry:
    sealer: Sealer
    counter: UseCounter
    created_at: datetime


class FieldCipher:
    """Hands out :class:`Sealer` objects per owner; computes blind indexes; rotates keys.

    One per gateway. ``user_id=None`` means the organisation's own data key.

    :param hooks_call: the KMS (:class:`~hybrid_calendar.crypto.kms.GatewayKms` in the app).
    :param keys: where wrapped keys and counters are stored.
    :param clock: time source for key age and cache expiry.
    :param max_uses: seals after which a data key is replaced by a new generation.
    :param max_age: age after which a data key is replaced.
    :param cache_ttl: how long an unwrapped key stays in memory (at most 15 minutes).
    :param cache_size: most owners (and keys) kept unwrapped at once.
    :param reserve_block: counter uses reserved in the database ahead of sealing.
    :param health_interval: how long a healthy KMS status is trusted before re-asking.
    :param rotation_batch: stored keys rewrapped per database transaction on rotation.
    """

    def __init__(self, hooks_call: KmsAccess, keys: KeyStorage, clock: Clock, *,
                 max_uses: int = 2**30, max_age: timedelta = timedelta(days=30),
                 cache_ttl: timedelta = timedelta(minutes=10), cache_size: int = 16_384,
                 reserve_block: int = 2**16, health_interval: timedelta = timedelta(seconds=5),
                 rotation_batch: int = 100) -> None:
        if not 0 < max_uses <= NIST_RANDOM_NONCE_LIMIT // 2:
            raise ValueError("max_uses must be between 1 and 2**31")
        if not timedelta(0) < cache_ttl <= MAX_CACHE_TTL:
            raise ValueError("cache_ttl must be positive and at most 15 minutes")
        self._kms = hooks_call
        self._keys = keys
        self._clock = clock
        self.max_uses = max_uses
        self.max_age = max_age
        self.hard_limit = 2 * max_uses
        """Seals one key never exceeds, even by a sealer obtained before rotation."""
        self._ttl = cache_ttl
        self._block = reserve_block
        self._health_interval = health_interval
        self._batch = rotation_batch
        self._sealers: _TtlCache[tuple[str, str], _Entry] = _TtlCache(cache_size)
        self._materials: _TtlCache[str, KeyMaterial] = _TtlCache(cache_size * 2)
        self._index_keys: _TtlCache[str, bytes] = _TtlCache(cache_size)
        self._counters: dict[str, UseCounter] = {}
        self._saved: dict[str, tuple[int, int]] = {}
        self._locks: dict[tuple[str, str, str], anyio.Lock] = {}
        self._new_owners: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._new_owners_size = cache_size
        self._migrated = False
        self._closed = False
        self._status: KmsStatus | None = None
        self._status_at: datetime | None = None

    # ------------------------------------------------------------------ public API
    async def sealer(self, org_id: str, user_id: str | None) -> Sealer:
        """The sealer of a user's (or with ``None`` the organisation's) current data key.

        Creates and wraps a data key on first use, and a new generation when the current
        one reached ``max_uses`` or ``max_age``.

        :raises KeyManagementError: the KMS is not ready or a key cannot be unwrapped.
        """
        owner = (org_id, owner_id(user_id))
        await self._ready()
        now = self._clock.now()
        entry = self._fresh_entry(owner, now)
        if entry is None:
            async with self._lock(org_id, owner[1], PURPOSE_DATA):
                entry = self._fresh_entry(owner, now)
                if entry is None:
                    entry = await self._load(org_id, owner[1], now)
                    self._sealers.put(owner, entry, now + self._ttl)
        await self._top_up(entry.counter)
        return entry.sealer

    def note_new_users(self, org_id: str, user_ids: Iterable[str]) -> None:
        """Remember that these users were just created (fresh ids): they own no data key
        yet, so the first :meth:`sealer` of each creates one without reading the stored
        keys first (one statement fewer per new user). The creation is one atomic
        statement that inserts nothing when the owner has a key after all (another
        process made one meanwhile); the sealer then reads and uses that key, as it does
        without the note, so an owner never gets two current keys."""
        for user_id in user_ids:
            self._new_owners[(org_id, owner_id(user_id))] = None
        while len(self._new_owners) > self._new_owners_size:
            self._new_owners.popitem(last=False)

    async def first_key(self, org_id: str, user_id: str) -> FirstKey | None:
        """A first data key for a user the admin API just created, for the store to insert
        with the user's first write (:meth:`~hybrid_calendar.store.base.Store.
        start_validation`) rather than in a write of its own; ``None`` when this process
        holds a current key of the user already. The store's insert does nothing when the
        owner has a key by then (another process made one), so an owner never gets two.

        :raises KeyManagementError: the KMS is not ready or cannot wrap the key.
        """
        owner = (org_id, owner_id(user_id))
        await self._ready()
        now = self._clock.now()
        if self._fresh_entry(owner, now) is not None:
            return None
        record, plain = await self._wrapped_key(org_id, owner[1], PURPOSE_DATA, 1, now)
        return FirstKey(record, plain)

    async def settle_first_key(self, key: FirstKey, *, stored: bool) -> None:
        """What the store did with a :meth:`first_key`: stored, it is the owner's current
        key from now on, held here (the owner's first seal reads and writes nothing
        more); not stored (the owner had a key, or was not there to validate), it is
        forgotten, and the owner's stored key is read at first use."""
        record = key.record
        owner = (record.org_id, record.user_id)
        self._new_owners.pop(owner, None)
        if not stored:
            return
        async with self._lock(record.org_id, record.user_id, PURPOSE_DATA):
            now = self._clock.now()
            if self._fresh_entry(owner, now) is not None:
                return  # a seal meanwhile read this very key back (it was stored first)
            self._adopt(record, key.plain, now)
            entry = await self._entry(record.org_id, record.user_id, record, [record], now)
            self._sealers.put(owner, entry, now + self._ttl)

    async def blind_index(self, org_id: str, value: str) -> str:
        """``b64url(HMAC-SHA256(org index key, normalised value))``: equality look-ups only."""
        await self._ready()
        return compute_blind_index(await self._index_key(org_id, self._clock.now()), value)

    async def stored_key_count(self) -> int:
        """How many wrapped keys the store holds (under any key-encryption key): a KMS
        must never create a new master key while this is not zero. Asks the store only
        (not the KMS, which may not be usable yet)."""
        return sum((await self._keys.count_by_key_ref()).values())

    async def status(self) -> KmsStatus:
        """Ask the KMS now; an unhealthy answer drops every unwrapped key from memory."""
        status = await self._kms.status()
        self._status, self._status_at = status, self._clock.now()
        if not status.healthy:
            self._drop_caches()
        return status

    async def rotate_master_key(self) -> RotationReport:
        """Rotate the KEK, then rewrap every stored key under the new version.

        Sealers keep working meanwhile (they use unwrapped keys); old KEK versions stay
        usable until their keys are rewrapped. Safe to run again after a partial run.
        """
        started = time.monotonic()
        await self._migrate()
        key_ref = await self._kms.rotate()
        self._status = None
        rewrapped, failed = 0, set[str]()
        for _pass in range(5):  # later passes catch keys created with the old KEK meanwhile
            done_this_pass, after = 0, ""
            while batch := await self._keys.stale(key_ref, after, self._batch):
                after = batch[-1].key_id
                updates = []
                for record in batch:
                    context = _context(record)
                    try:
                        plain = await self._kms.unwrap(record.wrapped, context)
                        updates.append((record, await self._kms.wrap(plain, context)))
                    except KeyManagementError as err:
                        failed.add(record.key_id)
                        log.warning("could not rewrap key %s: %s", record.key_id, err)
                done_this_pass += await self._keys.replace_wraps(updates)
            rewrapped += done_this_pass
            if done_this_pass == 0:
                break
        counts = await self._keys.count_by_key_ref()
        remaining = sum(n for ref, n in counts.items() if ref != key_ref)
        log.info("KEK rotated to %s: %d keys rewrapped, %d failed, %d remaining",
                 key_ref, rewrapped, len(failed), remaining)
        return RotationReport(key_ref, rewrapped, len(failed), remaining,
                              time.monotonic() - started)

    async def rekey_due(self) -> int:
        """Start a new generation for every data key at ``max_uses`` or ``max_age``.

        :returns: how many data keys were replaced.
        """
        await self._ready()
        await self.flush()
        now, rotated = self._clock.now(), 0
        for record in await self._keys.current(PURPOSE_DATA):
            counter = self._counters.get(record.key_id)
            used = counter.used if counter is not None else record.uses_reserved
            if not self._due(used, record.created_at, now):
                continue
            async with self._lock(record.org_id, record.user_id, PURPOSE_DATA):
                records = await self._keys.generations(record.org_id, record.user_id,
                                                       PURPOSE_DATA)
                if not records or records[-1].key_id != record.key_id:
                    continue  # replaced meanwhile
                try:
                    await self._new_key(record.org_id, record.user_id, PURPOSE_DATA,
                                        records, now)
                except KeyRaceLostError:
                    pass  # another process rotated it at the same moment: use its key
                else:
                    rotated += 1
                self._sealers.pop((record.org_id, record.user_id))
        return rotated

    async def forget_user(self, org_id: str, user_id: str) -> None:
        """Crypto-shred: delete every data key of a user; their ciphertexts become noise."""
        owner = owner_id(user_id)
        await self._migrate()
        async with self._lock(org_id, owner, PURPOSE_DATA):
            for record in await self._keys.generations(org_id, owner, PURPOSE_DATA):
                self._materials.pop(record.key_id)
                self._counters.pop(record.key_id, None)
                self._saved.pop(record.key_id, None)
            await self._keys.delete_owner(org_id, owner)
            self._sealers.pop((org_id, owner))

    async def purge_retired(self, before: datetime) -> int:
        """Delete data key generations retired before ``before``.

        Call only with a cut-off older than any stored ciphertext (retention window plus a
        margin): ciphertexts of a deleted generation can no longer be opened.
        """
        await self._migrate()
        return await self._keys.delete_retired(before)

    async def flush(self) -> None:
        """Persist use counters that changed since the last flush (call periodically)."""
        changed = []
        for key_id, counter in list(self._counters.items()):
            with counter.lock:
                values = (counter.used, counter.reserved)
                counter.overdrawn = False
            if self._saved.get(key_id) != values:
                changed.append((key_id, *values))
        await self._keys.save_counters(changed)
        for key_id, used, reserved in changed:
            self._saved[key_id] = (used, reserved)

    async def aclose(self) -> None:
        """Write exact counters (returning unused reservations) and forget every key."""
        if self._closed:
            return
        self._closed = True
        exact = []
        for key_id, counter in self._counters.items():
            with counter.lock:
                counter.reserved = counter.used
                counter.hard_limit = counter.used  # a leftover sealer can no longer seal
                exact.append((key_id, counter.used, counter.used))
        if exact:
            await self._keys.save_counters(exact, exact=True)
        self._drop_caches()

    # ------------------------------------------------------------------ internals
    async def _migrate(self) -> None:
        if self._closed:
            raise KeyManagementError("the field cipher is closed")
        if not self._migrated:
            await self._keys.migrate()
            self._migrated = True

    async def _ready(self) -> None:
        await self._migrate()
        now = self._clock.now()
        status = self._status
        if (status is None or not status.healthy or self._status_at is None
                or now - self._status_at >= self._health_interval):
            status = await self.status()
        if not status.healthy:
            raise KeyManagementError(f"KMS {status.kms!r} is not ready ({status.reason}); "
                                     "refusing to encrypt or decrypt until it recovers")

    def _fresh_entry(self, owner: tuple[str, str], now: datetime) -> _Entry | None:
        entry = self._sealers.get(owner, now)
        if entry is not None and self._due(entry.counter.used, entry.created_at, now):
            self._sealers.pop(owner)
            return None
        return entry

    def _due(self, used: int, created_at: datetime, now: datetime) -> bool:
        return used >= self.max_uses or now - created_at >= self.max_age

    def _lock(self, org_id: str, user_id: str, purpose: str) -> anyio.Lock:
        return self._locks.setdefault((org_id, user_id, purpose), anyio.Lock())

    async def _load(self, org_id: str, user_id: str, now: datetime) -> _Entry:
        if (org_id, user_id) in self._new_owners:
            del self._new_owners[(org_id, user_id)]
            first = await self._first_key(org_id, user_id, now)
            if first is not None:
                return await self._entry(org_id, user_id, first, [first], now)
        records = await self._keys.generations(org_id, user_id, PURPOSE_DATA)
        current = _current(records)
        if current is None or self._due(self._counter(current).used, current.created_at, now):
            try:
                current = await self._new_key(org_id, user_id, PURPOSE_DATA, records, now)
                records.append(current)
            except KeyRaceLostError:
                # another process made this generation at the same moment: use its key
                records = await self._keys.generations(org_id, user_id, PURPOSE_DATA)
                current = _current(records)
                if current is None:
                    raise
        return await self._entry(org_id, user_id, current, records, now)

    async def _entry(self, org_id: str, user_id: str, current: KeyRecord,
                     records: list[KeyRecord], now: datetime) -> _Entry:
        materials = {r.key_id: await self._material(r, now) for r in records}
        index_key = await self._index_key(org_id, now)
        sealer = Sealer(org_id, user_id, materials[current.key_id], materials, index_key,
                        reserve_block=self._block)
        return _Entry(sealer, self._counter(current), current.created_at)

    def _counter(self, record: KeyRecord) -> UseCounter:
        counter = self._counters.get(record.key_id)
        if counter is None:
            # Unknown to this process: assume every reserved use happened (crash-safe).
            counter = UseCounter(record.key_id, record.uses_reserved, record.uses_reserved,
                                 self.hard_limit)
            self._counters[record.key_id] = counter
        return counter

    async def _top_up(self, counter: UseCounter) -> None:
        with counter.lock:
            if counter.reserved - counter.used >= self._block // 2 and not counter.overdrawn:
                return
            counter.reserved = max(counter.reserved,
                                   min(self.hard_limit, counter.used + self._block))
            counter.overdrawn = False
            values = (counter.used, counter.reserved)
        await self._keys.save_counters([(counter.key_id, *values)])
        self._saved[counter.key_id] = values

    async def _new_key(self, org_id: str, user_id: str, purpose: str,
                       records: list[KeyRecord], now: datetime) -> KeyRecord:
        """Make, wrap and store the next generation after ``records``.

        :raises KeyRaceLostError: another process stored that generation first."""
        generation = max((r.generation for r in records), default=0) + 1
        record, plain = await self._wrapped_key(org_id, user_id, purpose, generation, now)
        await self._keys.add_generation(record)  # KeyManagementError on a lost race
        self._adopt(record, plain, now)
        return record

    async def _first_key(self, org_id: str, user_id: str, now: datetime) -> KeyRecord | None:
        """A new owner's first data key (:meth:`note_new_users`), stored unless the owner
        has a key already; ``None`` then."""
        record, plain = await self._wrapped_key(org_id, user_id, PURPOSE_DATA, 1, now)
        if not await self._keys.add_first_generation(record):
            return None
        self._adopt(record, plain, now)
        return record

    async def _wrapped_key(self, org_id: str, user_id: str, purpose: str, generation: int,
                           now: datetime) -> tuple[KeyRecord, bytes]:
        key_id = secrets.token_urlsafe(12)
        plain = os.urandom(32)
        wrapped = await self._kms.wrap(plain, wrap_context(org_id, user_id, purpose, key_id,
                                                           generation))
        # a data key's first block of uses is reserved with the key itself (one write)
        reserved = min(self._block, self.hard_limit) if purpose == PURPOSE_DATA else 0
        return KeyRecord(key_id, org_id, user_id, purpose, generation, wrapped, now,
                         uses_reserved=reserved), plain

    def _adopt(self, record: KeyRecord, plain: bytes, now: datetime) -> None:
        """Keep a key this process just stored (unwrapped, with its counter)."""
        key_id, org_id, purpose = record.key_id, record.org_id, record.purpose
        if purpose == PURPOSE_DATA:
            self._counters[key_id] = UseCounter(key_id, 0, record.uses_reserved,
                                                self.hard_limit)
            self._saved[key_id] = (0, record.uses_reserved)
            self._materials.put(key_id, KeyMaterial(org_id, record.user_id, key_id,
                                                    record.generation, plain,
                                                    self._counters[key_id]), now + self._ttl)
        else:
            self._index_keys.put(org_id, plain, now + self._ttl)
        # a user's first data key is routine (one per onboarded user): DEBUG; a rotated
        # generation and an organisation's index key are worth a line at INFO
        level = logging.DEBUG if purpose == PURPOSE_DATA and record.generation == 1 \
            else logging.INFO
        log.log(level, "created %s key generation %d (%s) for an owner of org %s", purpose,
                record.generation, key_id, org_id)

    async def _material(self, record: KeyRecord, now: datetime) -> KeyMaterial:
        material = self._materials.get(record.key_id, now)
        if material is None:
            plain = await self._kms.unwrap(record.wrapped, _context(record))
            material = KeyMaterial(record.org_id, record.user_id, record.key_id,
                                   record.generation, plain, self._counter(record))
            self._materials.put(record.key_id, material, now + self._ttl)
        return material

    async def _index_key(self, org_id: str, now: datetime) -> bytes:
        key = self._index_keys.get(org_id, now)
        if key is not None:
            return key
        async with self._lock(org_id, "", PURPOSE_INDEX):
            key = self._index_keys.get(org_id, now)
            if key is not None:
                return key
            records = await self._keys.generations(org_id, "", PURPOSE_INDEX)
            if not records:
                try:
                    await self._new_key(org_id, "", PURPOSE_INDEX, records, now)
                except KeyRaceLostError:  # another process made it at the same moment
                    records = await self._keys.generations(org_id, "", PURPOSE_INDEX)
                    if not records:
                        raise
                else:
                    key = self._index_keys.get(org_id, now)
                    assert key is not None
                    return key
            key = await self._kms.unwrap(records[-1].wrapped, _context(records[-1]))
            self._index_keys.put(org_id, key, now + self._ttl)
            return key

    def _drop_caches(self) -> None:
        self._sealers.clear()
        self._materials.clear()
        self._index_keys.clear()


def _context(record: KeyRecord) -> bytes:
    return wrap_context(record.org_id, record.user_id, record.purpose, record.key_id,
                        record.generation)


def _current(records: list[KeyRecord]) -> KeyRecord | None:
    """The current (newest, not retired) generation of ``records``, if any."""
    return records[-1] if records and records[-1].retired_at is None else None
