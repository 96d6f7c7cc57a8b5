"""``org init`` over the admin API: an organisation's service-account key is stored
encrypted through ``PUT /api/v1/organisations/{id}/google-service-account`` (the Google
plugin's admin route), and the answer holds the client id, scopes and delegation steps."""

from __future__ import annotations

import json

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hybrid_calendar.admin.credentials import Role, add_credential
from tests.engine.conftest import ALICE, Stack

pytestmark = pytest.mark.anyio
PATH = "/api/v1/organisations/org1/google-service-account"


def untrusted_key(trusted: dict[str, str]) -> dict[str, str]:
    """A well-formed key the emulator never issued (its signatures are refused)."""
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    return {**trusted, "private_key": pem, "private_key_id": "unknown"}


async def test_the_stored_key_is_the_one_the_organisation_signs_with(stack: Stack) -> None:
    trusted = stack.emu.service_account_info
    stored = await stack.admin.put(PATH, content=json.dumps(untrusted_key(trusted)))
    assert stored.status_code == 200, stored.text
    answer = stored.json()
    assert answer["client_id"] == trusted.get("client_id", "")
    assert "https://www.googleapis.com/auth/calendar" in answer["scopes"]
    assert "Domain Wide Delegation" in answer["instructions"]
    assert "PRIVATE KEY" not in stored.text
    raw = await stack.gateway.store.call(lambda db: db.execute(
        "SELECT value FROM org_secrets").fetchall())
    assert raw and all("PRIVATE KEY" not in str(row[0]) for row in raw)  # sealed at rest

    user = await stack.activate(ALICE)  # signed with the untrusted key: refused
    assert (user["state"], user["reason_code"]) == ("error", "token_refused")

    assert (await stack.admin.put(PATH, json=trusted)).status_code == 200
    validated = await stack.admin.post(f"/api/v1/users/{stack.user_ids[ALICE]}/validate")
    assert validated.status_code == 202
    await stack.idle()
    assert (await stack.user(ALICE))["state"] == "active"
    entries = (await stack.admin.get("/api/v1/audit?limit=10")).json()["entries"]
    stored_keys = [(e["target"], e["outcome"]) for e in entries
                   if e["action"] == "google.service_account.put"]
    assert stored_keys == [("org1", "http 200")] * 2
    assert "PRIVATE KEY" not in json.dumps(entries)


async def test_a_bad_key_an_unknown_organisation_and_an_auditor_are_refused(
        stack: Stack) -> None:
    for body, why in ((b"not json", "not a JSON service-account key"),
                      (b'{"client_email": "x@y"}', "lacks private_key")):
        refused = await stack.admin.put(PATH, content=body)
        assert refused.status_code == 400 and why in refused.json()["error"]["message"]
    unknown = await stack.admin.put("/api/v1/organisations/nope/google-service-account",
                                    json=stack.emu.service_account_info)
    assert unknown.status_code == 404
    secret = await add_credential(stack.gateway, "ann", Role.AUDITOR)
    async with httpx.AsyncClient(base_url=stack.base_url, auth=("ann", secret)) as ann:
        assert (await ann.put(PATH, json=stack.emu.service_account_info)).status_code == 403
    assert await stack.gateway.store.get_org_secret("org1", "google_service_account") is None
