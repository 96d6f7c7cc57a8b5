"""The administration tables work on the PostgreSQL store as on SQLite: credentials, the
audit log, verified addresses, sync health and the user list's counts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hybrid_calendar.admin import audit
from hybrid_calendar.admin.credentials import Role, add_credential, authenticate
from hybrid_calendar.admin.errors import ConflictError
from hybrid_calendar.admin.health import record_sync_success, sync_success, user_health
from hybrid_calendar.admin.policy import address_accepted, mark_address_verified
from hybrid_calendar.admin.users import user_rows
from hybrid_calendar.builder import build_gateway, close_gateway
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import Organisation, User

pytestmark = pytest.mark.anyio


@pytest.fixture
async def gateway(postgres_url: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    config, pm = load_config(None, overrides={
        "plugins": {"enabled": ["join_info", "kms_local"], "load_entrypoints": False},
        "gateway": {"data_dir": str(tmp_path), "database": postgres_url}}, environ={})
    gw = build_gateway(config, pm)
    await gw.store.open()
    try:
        yield gw
    finally:
        await close_gateway(gw)


async def test_admin_tables_on_postgres(gateway: Gateway) -> None:
    import base64

    secret = await add_credential(gateway, "ann", Role.AUDITOR)
    with pytest.raises(ConflictError):
        await add_credential(gateway, "ann", Role.ADMIN)
    basic = "Basic " + base64.b64encode(f"ann:{secret}".encode()).decode()
    principal = await authenticate(gateway, basic)
    assert principal is not None and principal.role == Role.AUDITOR
    assert await authenticate(gateway, "Bearer ann:wrong") is None

    for index in range(3):
        await audit.record(gateway, actor="ann", action=f"a{index}", source="local")
    first = await audit.audit_page(gateway, limit=2)
    assert [e["action"] for e in first["entries"]] == ["a2", "a1"]
    rest = await audit.audit_page(gateway, before=first["next_before"], limit=2)
    assert [e["action"] for e in rest["entries"]] == ["a0"] and rest["next_before"] is None

    org = Organisation(id="o", name="O", domain="example.com")
    await gateway.store.put_organisation(org)
    assert not await address_accepted(gateway, org, "x@other.net")
    await mark_address_verified(gateway, org, "x@other.net")
    await mark_address_verified(gateway, org, "x@other.net")  # twice is fine
    assert await address_accepted(gateway, org, "X@other.net")

    await gateway.store.put_user(User(id="u1", org_id="o", email="a@example.com"))
    await record_sync_success(gateway, "u1", sync_success(gateway, 0.5, token_reset=True),
                              stored=False)
    await record_sync_success(gateway, "u1", sync_success(gateway, 0.25, token_reset=False),
                              stored=False)
    health = await user_health(gateway, "u1")
    assert health["sync_token_resets"] == 1 and health["last_sync_seconds"] == 0.25
    rows = await user_rows(gateway, "o")
    assert [(r["email"], r["meetings"], r["undelivered_notifications"]) for r in rows] == [
        ("a@example.com", 0, 0)]
