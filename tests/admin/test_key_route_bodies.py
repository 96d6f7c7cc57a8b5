"""A body ``json.loads`` reads but the key route cannot store (UTF-16, nested too deep) is
a 400, not a 500 with a traceback in the log."""

from __future__ import annotations

import json

import pytest

from tests.engine.conftest import Stack

pytestmark = pytest.mark.anyio
PATH = "/api/v1/organisations/org1/google-service-account"


@pytest.mark.parametrize("kind", ["deep", "utf-16"])
async def test_a_key_nested_too_deep_or_not_in_utf8_is_a_400(stack: Stack, kind: str) -> None:
    trusted = stack.emu.service_account_info
    body = (b"[" * 15_000 if kind == "deep"  # under the route's 20 kB: RecursionError
            else json.dumps(trusted).encode("utf-16"))  # json.loads reads it, .decode() not
    refused = await stack.admin.put(PATH, content=body, headers={"Content-Type": "text/plain"})
    assert refused.status_code == 400, refused.text
    assert "PRIVATE KEY" not in refused.text
    assert (await stack.admin.put(PATH, json=trusted)).status_code == 200
