"""What the :class:`~hybrid_calendar.store.testing.StoreTests` suite is built on.

* :class:`StoreBackend`, the one thing a backend provides: new stores on one database, and
  that database's raw bytes for the encryption-at-rest check.
* :class:`ReversibleCipher`, a :class:`~hybrid_calendar.store.base.FieldCipher` that really
  transforms and authenticates (bound to table, row and column), without a KMS.
* :func:`covers`, which names the ``Store`` methods a test exercises. The suite checks
  both ways: a declared method the test never called fails the test, and a public
  ``Store`` method no test declares fails ``test_every_public_store_method_has_a_test``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import anyio
import pytest

from hybrid_calendar.errors import DecryptionError
from hybrid_calendar.store.base import FieldCipher, Store

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
"""The suite's fixed "now" (stores take time as arguments, never from a clock)."""

F = TypeVar("F", bound=Callable[..., Any])


class StoreBackend(Protocol):
    """A database a :class:`Store` backend keeps its data in, as the suite sees it."""

    def create(self, cipher: FieldCipher) -> Store:
        """A new, unopened store on this database (the same database on every call)."""
        ...

    async def raw_bytes(self) -> bytes:
        """Everything the database holds, as stored (files, a dump): scanned for clear text."""
        ...


def covers(*methods: str) -> Callable[[F], F]:
    """Declare the ``Store`` methods a suite test exercises (each must really be called)."""
    def mark(test: F) -> F:
        test.__store_methods__ = frozenset(methods)  # type: ignore[attr-defined]
        return test
    return mark


def declared_methods(test: Any) -> frozenset[str]:
    """The methods a test declared with :func:`covers` (none when undecorated)."""
    return frozenset(getattr(test, "__store_methods__", frozenset()))


def public_store_methods() -> frozenset[str]:
    """Every public method of the :class:`Store` interface."""
    return frozenset(name for name, value in vars(Store).items()
                     if not name.startswith("_") and callable(value))


def record_calls(store: Store, called: set[str]) -> Store:
    """Note in ``called`` each public ``Store`` method invoked on this instance."""
    for name in public_store_methods():
        method = getattr(store, name)

        def wrapper(*args: Any, _name: str = name, _method: Any = method, **kwargs: Any
                    ) -> Awaitable[Any]:
            called.add(_name)
            result: Awaitable[Any] = _method(*args, **kwargs)
            return result

        setattr(store, name, functools.wraps(method)(wrapper))
    return store


class ReversibleSealer:
    """Encrypts with a keystream from SHA-256 and authenticates table, row and column."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def _stream(self, aad: str, size: int) -> bytes:
        out = b""
        counter = 0
        while len(out) < size:
            out += hashlib.sha256(self.key + aad.encode() + counter.to_bytes(4, "big")).digest()
            counter += 1
        return out[:size]

    def seal(self, plaintext: str, *, table: str, row_id: str, column: str) -> str:
        """Encrypt ``plaintext`` bound to its table, row and column."""
        aad = f"{table}|{row_id}|{column}"
        data = plaintext.encode()
        body = bytes(a ^ b for a, b in zip(data, self._stream(aad, len(data)), strict=True))
        tag = hmac.new(self.key, aad.encode() + body, "sha256").digest()[:8]
        return "t1." + base64.urlsafe_b64encode(tag + body).decode()

    def is_current(self, token: str) -> bool:
        """True for every token of this format (one key per owner, never rotated)."""
        return token.startswith(self.current_prefix)

    @property
    def current_prefix(self) -> str:
        """The start of every token :meth:`seal` makes."""
        return "t1."

    def digest(self, plaintext: str, *, table: str, row_id: str, column: str) -> str:
        """HMAC of the value bound to its table, row and column, under a key of its own."""
        return hmac.new(b"digest|" + self.key, f"{table}|{row_id}|{column}|".encode()
                        + plaintext.encode(), "sha256").hexdigest()

    def open(self, token: str, *, table: str, row_id: str, column: str) -> str:
        """Decrypt a token of :meth:`seal` made for the same table, row and column."""
        aad = f"{table}|{row_id}|{column}"
        raw = base64.urlsafe_b64decode(token[3:])
        tag, body = raw[:8], raw[8:]
        expected = hmac.new(self.key, aad.encode() + body, "sha256").digest()[:8]
        if not hmac.compare_digest(tag, expected):
            raise DecryptionError("ciphertext does not authenticate")
        return bytes(a ^ b for a, b in zip(body, self._stream(aad, len(body)),
                                           strict=True)).decode()


class ReversibleCipher:
    """A :class:`FieldCipher` with one key per owner and a keyed, case-blind index."""

    async def sealer(self, org_id: str, user_id: str | None) -> ReversibleSealer:
        """The sealer of a user's (or the organisation's) key."""
        return ReversibleSealer(f"{org_id}/{user_id}".encode())

    async def blind_index(self, org_id: str, value: str) -> str:
        """HMAC of the case-folded value under the organisation's key."""
        return hmac.new(org_id.encode(), value.casefold().encode(), "sha256").hexdigest()

    async def settle_first_key(self, key: Any, *, stored: bool) -> None:
        """Nothing to hold: this cipher's keys are derived, never stored."""


class Wakes:
    """A ``Store.listen_for_jobs`` callback that counts its calls (its first call says
    the listener started); :meth:`reach` waits until it was called ``n`` times."""

    def __init__(self) -> None:
        self.count = 0
        self._called = anyio.Event()

    def __call__(self) -> None:
        self.count += 1
        self._called.set()
        self._called = anyio.Event()

    async def reach(self, n: int) -> None:
        """Return once called ``n`` times; fail the test after 10 seconds."""
        with anyio.fail_after(10):
            while self.count < n:
                await self._called.wait()


class StoreFixtures:
    """The fixtures of the suite; a backend overrides ``store_backend`` only."""

    @pytest.fixture
    def store_backend(self) -> StoreBackend:
        """The backend under test; subclasses override this fixture."""
        raise NotImplementedError("subclass StoreTests and provide the store_backend fixture")

    @pytest.fixture
    def cipher(self) -> ReversibleCipher:
        """The field cipher every store of a test shares."""
        return ReversibleCipher()

    @pytest.fixture
    def called(self) -> set[str]:
        """``Store`` methods the test body called."""
        return set()

    @pytest.fixture
    async def store(self, store_backend: StoreBackend, cipher: ReversibleCipher,
                    called: set[str], request: pytest.FixtureRequest) -> AsyncIterator[Store]:
        """An open store on a fresh database; checks the test called what it declared."""
        store = store_backend.create(cipher)
        await store.open()
        record_calls(store, called)
        declared = declared_methods(request.function)
        yield store
        missing = sorted(declared - called)
        await type(store).close(store)
        if missing:
            pytest.fail(f"{request.function.__name__} declares but never calls: "
                        f"{', '.join(missing)}")

    @staticmethod
    async def reopen(store_backend: StoreBackend, cipher: ReversibleCipher,
                     called: set[str]) -> Store:
        """Another open store on the same database (a restart); the caller closes it."""
        store = store_backend.create(cipher)
        record_calls(store, called)
        await store.open()
        return store
