"""A :class:`~hybrid_calendar.crypto.repository.KeyStorage` found at first use.

The gateway makes its cipher before its store (the store encrypts through the cipher),
yet the keys live in the store's database: the cipher gets a :class:`DeferredKeyStorage`
that asks the store for its key storage when a key is first needed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from hybrid_calendar.crypto.repository import PURPOSE_DATA, KeyRecord, KeyStorage
from hybrid_calendar.models import WrappedKey


class DeferredKeyStorage:
    """Forwards every call to ``resolve()``'s key storage, resolved once.

    :param resolve: returns the real key storage (e.g. ``lambda: store.key_storage()``).
    """

    def __init__(self, resolve: Callable[[], KeyStorage]) -> None:
        self._resolve = resolve
        self._target: KeyStorage | None = None

    @property
    def target(self) -> KeyStorage:
        """The real key storage."""
        if self._target is None:
            self._target = self._resolve()
        return self._target

    async def migrate(self) -> None:
        """See :meth:`KeyStorage.migrate`."""
        await self.target.migrate()

    async def generations(self, org_id: str, user_id: str, purpose: str) -> list[KeyRecord]:
        """See :meth:`KeyStorage.generations`."""
        return await self.target.generations(org_id, user_id, purpose)

    async def add_generation(self, record: KeyRecord) -> None:
        """See :meth:`KeyStorage.add_generation`."""
        await self.target.add_generation(record)

    async def add_first_generation(self, record: KeyRecord) -> bool:
        """See :meth:`KeyStorage.add_first_generation`."""
        return await self.target.add_first_generation(record)

    async def current(self, purpose: str = PURPOSE_DATA) -> list[KeyRecord]:
        """See :meth:`KeyStorage.current`."""
        return await self.target.current(purpose)

    async def save_counters(self, counters: Sequence[tuple[str, int, int]], *,
                            exact: bool = False) -> None:
        """See :meth:`KeyStorage.save_counters`."""
        await self.target.save_counters(counters, exact=exact)

    async def stale(self, key_ref: str, after_key_id: str, limit: int) -> list[KeyRecord]:
        """See :meth:`KeyStorage.stale`."""
        return await self.target.stale(key_ref, after_key_id, limit)

    async def replace_wraps(self, updates: Sequence[tuple[KeyRecord, WrappedKey]]) -> int:
        """See :meth:`KeyStorage.replace_wraps`."""
        return await self.target.replace_wraps(updates)

    async def delete_owner(self, org_id: str, user_id: str) -> int:
        """See :meth:`KeyStorage.delete_owner`."""
        return await self.target.delete_owner(org_id, user_id)

    async def delete_retired(self, before: datetime) -> int:
        """See :meth:`KeyStorage.delete_retired`."""
        return await self.target.delete_retired(before)

    async def count_by_key_ref(self) -> dict[str, int]:
        """See :meth:`KeyStorage.count_by_key_ref`."""
        return await self.target.count_by_key_ref()
