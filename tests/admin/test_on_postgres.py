"""The admin tables (credentials, audit, verified addresses, health) on the PostgreSQL
store: their SQL goes through ``Store.call``'s portable handle."""

from __future__ import annotations

import base64

import pytest

from hybrid_calendar.admin import audit, health, policy
from hybrid_calendar.admin.credentials import (
    Role,
    add_credential,
    authenticate,
    list_credentials,
    remove_credential,
)
from hybrid_calendar.admin.users import user_rows
from hybrid_calendar.errors import StoreError, TransientError
from hybrid_calendar.store.postgres.portable import to_postgres
from hybrid_calendar.store.postgres.store import PostgresStore
from tests.engine.conftest import ALICE, Stack
from tests.engine.test_gateway_on_postgres import pg_stack

__all__ = ["pg_stack"]

pytestmark = pytest.mark.anyio


def test_portable_sql_becomes_postgresql() -> None:
    assert to_postgres("SELECT 1 FROM t WHERE a = ? AND b = '?' AND c LIKE 'x%'") == (
        "SELECT 1 FROM t WHERE a = %s AND b = '?' AND c LIKE 'x%%'")
    assert to_postgres("INSERT OR IGNORE INTO t (a) VALUES (?)") == (
        "INSERT INTO t (a) VALUES (%s) ON CONFLICT DO NOTHING")
    with pytest.raises(ValueError, match="SQLite-only"):
        to_postgres("INSERT OR REPLACE INTO t (a) VALUES (?)")


async def test_sql_in_psycopg_style_runs_as_it_is(pg_stack: Stack) -> None:
    rows = await pg_stack.gateway.store.call(
        lambda db: db.execute("SELECT %s::int + 1", [41]).fetchall())
    assert rows == [(42,)]


async def test_sqlite_connection_code_fails_with_the_reason(pg_stack: Stack) -> None:
    with pytest.raises(StoreError, match="SQLite-only"):
        await pg_stack.gateway.store.call(lambda db: db.conn.execute("SELECT 1"))


async def test_admin_tables_work_on_postgresql(pg_stack: Stack) -> None:
    gateway = pg_stack.gateway
    assert isinstance(gateway.store, PostgresStore)
    secret = await add_credential(gateway, "ann", Role.AUDITOR)
    assert await list_credentials(gateway) == [{"name": "ann", "role": "auditor"}]
    header = "Basic " + base64.b64encode(f"ann:{secret}".encode()).decode()
    principal = await authenticate(gateway, header)
    assert principal is not None and principal.name == "ann"
    assert await remove_credential(gateway, "ann") is True
    assert await remove_credential(gateway, "ann") is False

    await audit.record(gateway, actor="root", action="add.users", target="org1")
    await audit.record(gateway, actor="root", action="remove.users", target="org1")
    page = await audit.audit_page(gateway, limit=1)
    assert [e["action"] for e in page["entries"]] == ["remove.users"]
    older = await audit.audit_page(gateway, before=page["next_before"])
    assert "add.users" in [e["action"] for e in older["entries"]]

    org = await gateway.store.get_organisation("org1")
    assert org is not None
    outsider = "guest@elsewhere.example"
    assert await policy.address_accepted(gateway, org, outsider) is False
    await policy.mark_address_verified(gateway, org, outsider)
    await policy.mark_address_verified(gateway, org, outsider)  # INSERT OR IGNORE: once
    assert await policy.address_accepted(gateway, org, outsider) is True

    user = await pg_stack.activate(ALICE)
    await health.record_sync_failure(gateway, user["id"], TransientError("busy"), None)
    await health.record_sync_failure(gateway, user["id"], TransientError("busy"), None)
    state = await health.user_health(gateway, user["id"])
    assert state["consecutive_failures"] == 2
    await health.record_sync_success(
        gateway, user["id"], health.sync_success(gateway, 0.5, token_reset=True), stored=False)
    state = await health.user_health(gateway, user["id"])
    assert state["consecutive_failures"] == 0
    [row] = await user_rows(gateway, "org1")
    assert row["email"] == ALICE and row["meetings"] == 0
