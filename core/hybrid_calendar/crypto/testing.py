"""Test support for the envelope layer and KMS plugins.

:class:`KeyStoreTests` is the conformance suite every KMS plugin passes: subclass it and
provide one fixture, ``kms_gateway``, returning a :class:`~hybrid_calendar.gateway.Gateway`
whose plugin manager has only that KMS plugin enabled and configured (like keyring's
backend tests). :class:`SqliteRunner` and :func:`build_gateway` help write such fixtures.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import pytest
from sqlite_utils import Database

from hybrid_calendar.clock import Clock, SystemClock
from hybrid_calendar.crypto.cipher import FieldCipher
from hybrid_calendar.crypto.kms import GatewayKms
from hybrid_calendar.crypto.repository import KeyRepository
from hybrid_calendar.errors import DecryptionError, KeyManagementError
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import WrappedKey
from hybrid_calendar.store.sqlite import SqliteStore

T = TypeVar("T")


class SqliteRunner:
    """A ``run(fn)`` for :class:`KeyRepository`: ``fn(db)`` in a worker thread, one at a time.

    :param path: the SQLite file (WAL mode, like the store).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=10000")
        self.db = Database(conn)
        self._limiter = anyio.CapacityLimiter(1)

    async def __call__(self, fn: Callable[[Database], T]) -> T:
        """Run ``fn(db)`` serialized with every other call."""
        return await anyio.to_thread.run_sync(lambda: fn(self.db), limiter=self._limiter)

    def close(self) -> None:
        """Close the connection."""
        self.db.conn.close()


def build_gateway(plugins: list[str], settings: Mapping[str, Mapping[str, Any]],
                  clock: Clock | None = None) -> Gateway:
    """A gateway with only ``plugins`` registered (no entry points) and ``settings`` applied.

    Its store is an in-memory database that is never opened: the KMS hooks do not use it.
    """
    overrides: dict[str, dict[str, Any]] = {k: dict(v) for k, v in settings.items()}
    overrides["plugins"] = {"enabled": list(plugins), "load_entrypoints": False}
    config, pm = load_config(None, overrides=overrides, environ={})
    return Gateway(config, pm, store=lambda cipher: SqliteStore(":memory:", cipher),
                   clock=clock or SystemClock())


CONTEXT = b"org-1/user-1/data/kid/1"


class KeyStoreTests:
    """Conformance tests of a KMS plugin, through the real hooks.

    Subclasses provide the ``kms_gateway`` fixture (function-scoped: each test may rotate).
    """

    @pytest.fixture
    def kms_gateway(self) -> Gateway:
        """The gateway with the KMS plugin under test; subclasses override."""
        raise NotImplementedError("subclass KeyStoreTests and provide kms_gateway")

    @pytest.fixture
    async def kms(self, kms_gateway: Gateway) -> GatewayKms:
        """The plugin reached as the core reaches it, after the start-up hooks ran."""
        await kms_gateway.hooks.startup(kms_gateway)
        return GatewayKms(kms_gateway)

    @pytest.mark.anyio
    async def test_wrap_unwrap_roundtrip(self, kms: GatewayKms) -> None:
        key = os.urandom(32)
        wrapped = await kms.wrap(key, CONTEXT)
        assert isinstance(wrapped, WrappedKey)
        assert wrapped.kms and wrapped.key_ref
        assert await kms.unwrap(wrapped, CONTEXT) == key

    @pytest.mark.anyio
    async def test_blob_hides_key_and_is_randomised(self, kms: GatewayKms) -> None:
        key = os.urandom(32)
        first, second = await kms.wrap(key, CONTEXT), await kms.wrap(key, CONTEXT)
        assert key not in first.blob and key[:16] not in first.blob
        assert first.blob != second.blob

    @pytest.mark.anyio
    async def test_other_context_fails(self, kms: GatewayKms) -> None:
        wrapped = await kms.wrap(os.urandom(32), CONTEXT)
        with pytest.raises(DecryptionError):
            await kms.unwrap(wrapped, CONTEXT + b"-other-user")

    @pytest.mark.anyio
    async def test_tampered_blob_fails(self, kms: GatewayKms) -> None:
        wrapped = await kms.wrap(os.urandom(32), CONTEXT)
        flipped = bytes([wrapped.blob[-1] ^ 1])
        tampered = WrappedKey(wrapped.kms, wrapped.key_ref, wrapped.blob[:-1] + flipped)
        with pytest.raises(DecryptionError):
            await kms.unwrap(tampered, CONTEXT)

    @pytest.mark.anyio
    @pytest.mark.parametrize("keep", [0, 5, 12, 27])
    async def test_truncated_blob_fails(self, kms: GatewayKms, keep: int) -> None:
        wrapped = await kms.wrap(os.urandom(32), CONTEXT)
        truncated = WrappedKey(wrapped.kms, wrapped.key_ref, wrapped.blob[:keep])
        with pytest.raises(DecryptionError):
            await kms.unwrap(truncated, CONTEXT)

    @pytest.mark.anyio
    async def test_foreign_key_is_not_answered(self, kms: GatewayKms) -> None:
        wrapped = await kms.wrap(os.urandom(32), CONTEXT)
        foreign = WrappedKey("some-other-kms", wrapped.key_ref, wrapped.blob)
        with pytest.raises(KeyManagementError, match="no KMS plugin answered"):
            await kms.unwrap(foreign, CONTEXT)

    @pytest.mark.anyio
    async def test_status_healthy_names_current_key(self, kms: GatewayKms) -> None:
        wrapped = await kms.wrap(os.urandom(32), CONTEXT)
        status = await kms.status()
        assert status.healthy, status.reason
        assert status.kms == wrapped.kms
        assert status.current_key_ref == wrapped.key_ref

    @pytest.mark.anyio
    async def test_rotate_new_version_old_still_unwraps(self, kms: GatewayKms) -> None:
        key = os.urandom(32)
        old = await kms.wrap(key, CONTEXT)
        new_ref = await kms.rotate()
        assert new_ref != old.key_ref
        assert (await kms.status()).current_key_ref == new_ref
        new = await kms.wrap(key, CONTEXT)
        assert new.key_ref == new_ref
        assert await kms.unwrap(old, CONTEXT) == key
        assert await kms.unwrap(new, CONTEXT) == key
        with pytest.raises(DecryptionError):  # a blob cannot be relabelled as another version
            await kms.unwrap(WrappedKey(old.kms, new_ref, old.blob), CONTEXT)

    @pytest.mark.anyio
    async def test_keys_and_current_version_survive_a_restart(
            self, kms: GatewayKms, kms_gateway: Gateway) -> None:
        """A gateway stopped and started again (same configuration, a new
        :class:`~hybrid_calendar.gateway.Gateway`) unwraps what was wrapped before and
        after a rotation, and wraps under the rotated version: a KMS that keeps its
        key-encryption keys or its current version only in memory loses every key."""
        key = os.urandom(32)
        old = await kms.wrap(key, CONTEXT)
        new_ref = await kms.rotate()
        new = await kms.wrap(key, CONTEXT)
        await kms_gateway.hooks.shutdown(kms_gateway)
        restarted = Gateway(kms_gateway.config, kms_gateway.pm,
                            store=lambda cipher: SqliteStore(":memory:", cipher),
                            clock=kms_gateway.clock)
        await restarted.hooks.startup(restarted)
        try:
            again = GatewayKms(restarted)
            assert (await again.status()).current_key_ref == new_ref
            assert await again.unwrap(old, CONTEXT) == key
            assert await again.unwrap(new, CONTEXT) == key
            assert (await again.wrap(key, CONTEXT)).key_ref == new_ref
        finally:
            try:
                await restarted.hooks.shutdown(restarted)
            finally:
                await restarted.aclose()  # its HTTP client, if a plugin opened it

    @pytest.mark.anyio
    async def test_field_cipher_end_to_end(self, kms: GatewayKms, kms_gateway: Gateway,
                                           tmp_path: Path) -> None:
        runner = SqliteRunner(tmp_path / "keys.db")
        try:
            cipher = FieldCipher(kms, KeyRepository(runner), kms_gateway.clock)
            sealer = await cipher.sealer("org", "user")
            token = sealer.seal("Board meeting", table="meetings", row_id="r1", column="title")
            report = await cipher.rotate_master_key()
            assert report.rewrapped == 2 and report.failed == 0 and report.remaining == 0
            await cipher.aclose()
            reopened = FieldCipher(kms, KeyRepository(runner), kms_gateway.clock)
            sealer = await reopened.sealer("org", "user")
            assert sealer.open(token, table="meetings", row_id="r1",
                               column="title") == "Board meeting"
            await reopened.aclose()
        finally:
            runner.close()
