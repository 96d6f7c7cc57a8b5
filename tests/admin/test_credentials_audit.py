"""Admin credentials with roles, refused sign-ins rate-limited, the audit log."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from hybrid_calendar.admin.credentials import Role, add_credential, digest, matches
from hybrid_calendar.admin.guard import FailedAttempts
from hybrid_calendar.app import create_app
from hybrid_calendar.builder import build_gateway, close_gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.store.base import Store
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.sqlite import SqliteStore
from hybrid_calendar.store.testing import NOW, ReversibleCipher
from tests.engine.conftest import ALICE, Stack

pytestmark = pytest.mark.anyio


def client(stack: Stack, auth: tuple[str, str] | None) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=stack.base_url, auth=auth, timeout=30)


async def test_auditor_reads_but_cannot_change(stack: Stack) -> None:
    secret = await add_credential(stack.gateway, "ann", Role.AUDITOR)
    async with client(stack, ("ann", secret)) as ann:
        assert (await ann.get("/api/v1/whoami")).json() == {"name": "ann", "role": "auditor"}
        assert (await ann.get("/api/v1/organisations/org1/users")).status_code == 200
        refused = await ann.post("/api/v1/organisations/org1/users", json={"email": ALICE})
        assert refused.status_code == 403
    entries = (await stack.admin.get("/api/v1/audit")).json()["entries"]
    assert entries[0]["actor"] == "ann" and entries[0]["outcome"] == "forbidden"
    assert entries[0]["action"] == "add.users" and entries[0]["target"] == "org1"


async def test_full_admin_credential_changes_and_is_audited(stack: Stack) -> None:
    secret = await add_credential(stack.gateway, "root", Role.ADMIN)
    async with client(stack, ("root", secret)) as root:
        response = await root.post("/api/v1/organisations/org1/users", json={"email": ALICE})
        assert response.status_code == 202
    entry = (await stack.admin.get("/api/v1/audit")).json()["entries"][0]
    assert (entry["actor"], entry["action"], entry["target"], entry["outcome"]) == (
        "root", "add.users", "org1", "http 202")
    assert entry["source"] == "127.0.0.1" and entry["at"]
    assert entry["details"] == {"accepted": 1, "refused": 0}
    assert ALICE not in str(entry)  # ids and counts, never addresses


async def test_bearer_name_secret_works_too(stack: Stack) -> None:
    secret = await add_credential(stack.gateway, "bot", Role.AUDITOR)
    response = await stack.admin.get("/api/v1/whoami",
                                     headers={"Authorization": f"Bearer bot:{secret}"})
    assert response.json()["name"] == "bot"


async def test_refused_sign_ins_are_rate_limited_per_address(stack: Stack) -> None:
    await add_credential(stack.gateway, "eve", Role.ADMIN)
    async with client(stack, ("eve", "wrong")) as eve:
        statuses = [(await eve.get("/api/v1/whoami")).status_code for _ in range(6)]
        assert statuses == [401] * 5 + [429]
        limited = await eve.get("/api/v1/whoami")
        wait = int(limited.headers["retry-after"])
        assert 60 <= wait <= 70  # the window counts sixths of a minute
        stack.clock.advance(timedelta(seconds=wait - 1))
        assert (await eve.get("/api/v1/whoami")).status_code == 429
        stack.clock.advance(timedelta(seconds=1))
        assert (await eve.get("/api/v1/whoami")).status_code == 401  # may try again
    refused = [e for e in (await stack.admin.get("/api/v1/audit?limit=200")).json()["entries"]
               if e["action"] == "sign-in"]
    assert len(refused) == 6 and {e["outcome"] for e in refused} == {"refused"}


async def test_refused_sign_ins_are_counted_by_every_process_of_the_database(
        stack: Stack) -> None:
    """A second gateway on the same database (as a second process would be) sees the
    first one's refusals: two processes do not get five guesses each."""
    await add_credential(stack.gateway, "eve", Role.ADMIN)
    config, pm = load_config(None, overrides={
        "plugins": {"enabled": ["kms_local"], "load_entrypoints": False},
        "gateway": {"data_dir": stack.gateway.config.get("gateway", "data_dir")}},
        environ={})
    other = build_gateway(config, pm, clock=stack.clock)
    await other.store.open()
    transport = httpx.ASGITransport(app=create_app(other, start_engine=False),
                                    client=("127.0.0.1", 40000))
    try:
        async with client(stack, ("eve", "wrong")) as first, httpx.AsyncClient(
                transport=transport, base_url="http://second", auth=("eve", "wrong")
                ) as second:
            statuses = [(await (first, second)[n % 2].get("/api/v1/whoami")).status_code
                        for n in range(5)]
            assert statuses == [401] * 5
            assert (await second.get("/api/v1/whoami")).status_code == 429
            assert (await first.get("/api/v1/whoami")).status_code == 429
            assert (await second.get("/readyz")).status_code == 429  # same credential
            other_name = await second.get("/api/v1/whoami", auth=("bob", "wrong"))
            assert other_name.status_code == 401  # another name is not locked out
    finally:
        await close_gateway(other)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_sign_in_limit_is_shared_through_either_store(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    def open_store() -> Store:
        if backend == "postgres":
            return PostgresStore(request.getfixturevalue("postgres_url"),
                                 ReversibleCipher(), pool_size=2)
        return SqliteStore(tmp_path / "gateway.sqlite3", ReversibleCipher())

    stores = [open_store(), open_store()]
    for store in stores:
        await store.open()
    try:
        limits = [FailedAttempts(store, limit=3) for store in stores]
        key = "192.0.2.7 eve"
        for n in range(3):
            assert await limits[n % 2].retry_after(key, NOW) is None
            await limits[n % 2].refused(key, NOW)
        for limit in limits:
            wait = await limit.retry_after(key, NOW)
            assert wait is not None and 60 <= wait <= 70
            assert await limit.retry_after("192.0.2.7 bob", NOW) is None
        later = NOW + timedelta(seconds=70)
        assert await limits[1].retry_after(key, later) is None
    finally:
        for store in stores:
            await store.close()


async def test_audit_log_pages_newest_first_without_gaps(stack: Stack) -> None:
    for index in range(5):
        await stack.admin.post("/api/v1/organisations", json={
            "id": f"o{index}", "domains": [f"d{index}.example"]})
    seen: list[int] = []
    before = None
    while True:
        query = "limit=2" + (f"&before={before}" if before else "")
        page = (await stack.admin.get(f"/api/v1/audit?{query}")).json()
        seen += [e["id"] for e in page["entries"]]
        before = page["next_before"]
        if before is None:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) >= 6
    assert (await stack.admin.get("/api/v1/audit?limit=0")).status_code == 400


def test_secrets_are_stored_as_salted_digests() -> None:
    stored = digest("s3cret", "salt")
    assert "s3cret" not in stored and stored.startswith("sha256$salt$")
    assert matches(stored, "s3cret") and not matches(stored, "s3cre")
    assert digest("s3cret", "other") != stored
