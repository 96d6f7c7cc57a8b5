"""A new user's first data key is stored with the validation's mark (``Store.
start_validation``), not in a write of its own, and an owner still never gets two keys:
a key another process made first wins, and a user who is not marked gets none. Through
the whole gateway against the Google emulator, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hybrid_calendar.crypto import FieldCipher, GatewayKms
from hybrid_calendar.crypto.repository import PURPOSE_DATA
from hybrid_calendar.engine.activation import new_user_id
from hybrid_calendar.models import User, UserState
from hybrid_calendar_google_emulator.testing import RunningEmulator

from .conftest import ALICE, Stack, running_stack
from .test_gateway_with_emulator import at

pytestmark = pytest.mark.anyio
WHERE = {"table": "meetings", "row_id": "r", "column": "title"}


@pytest.fixture
async def stack(store_url: str | None, emulator: RunningEmulator,
                tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(emulator, tmp_path, database=store_url) as running:
        yield running


async def _new_user(stack: Stack, email: str) -> User:
    """A user added as the admin API adds one (noted as owning no key)."""
    [user] = await stack.gateway.store.add_users([User(new_user_id(), "org1", email)])
    stack.gateway.cipher.note_new_users("org1", [user.id])
    return user


async def test_a_new_users_first_key_is_written_with_the_validation_mark(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = stack.gateway.store.key_storage()
    separate: list[Any] = []
    original = type(keys).add_first_generation

    async def counted(self: Any, record: Any) -> bool:
        separate.append(record)
        return await original(self, record)

    monkeypatch.setattr(type(keys), "add_first_generation", counted)
    stack.emu.state.insert_event(ALICE, at(3, summary="Review"))
    user = await stack.activate(ALICE)  # the admin API's job for a new user
    assert user["state"] == "active"
    assert [m["title"] for m in await stack.meetings(ALICE)] == ["Review"]
    assert separate == []  # no write of its own for the user's key
    [record] = await keys.generations("org1", user["id"], PURPOSE_DATA)
    assert (record.generation, record.retired_at) == (1, None)
    restarted = FieldCipher(GatewayKms(stack.gateway), keys, stack.gateway.clock)
    token = (await stack.gateway.cipher.sealer("org1", user["id"])).seal("kept", **WHERE)
    assert (await restarted.sealer("org1", user["id"])).open(token, **WHERE) == "kept"


async def test_a_key_another_process_made_first_is_the_one_kept(stack: Stack) -> None:
    gateway = stack.gateway
    user = await _new_user(stack, ALICE)
    pending = await gateway.cipher.first_key("org1", user.id)
    assert pending is not None
    other = FieldCipher(GatewayKms(gateway), gateway.store.key_storage(), gateway.clock)
    token = (await other.sealer("org1", user.id)).seal("kept", **WHERE)  # first there
    context = await gateway.store.start_validation(user.id, first_key=pending)
    assert context is not None and context.user.email == ALICE
    [record] = await gateway.store.key_storage().generations("org1", user.id, PURPOSE_DATA)
    assert record.key_id != pending.record.key_id
    assert (await gateway.cipher.sealer("org1", user.id)).open(token, **WHERE) == "kept"


async def test_a_user_not_marked_gets_no_key(stack: Stack) -> None:
    gateway = stack.gateway
    user = await _new_user(stack, ALICE)
    await gateway.store.set_user_state(user.id, UserState.INACTIVE, "deactivated")
    pending = await gateway.cipher.first_key("org1", user.id)
    assert pending is not None
    assert await gateway.store.start_validation(user.id, first_key=pending) is None
    assert await gateway.store.key_storage().generations("org1", user.id, PURPOSE_DATA) == []


async def test_a_key_naming_another_organisation_is_not_stored(stack: Stack) -> None:
    gateway = stack.gateway
    user = await _new_user(stack, ALICE)
    pending = await gateway.cipher.first_key("org2", user.id)  # a payload not its own
    assert pending is not None
    context = await gateway.store.start_validation(user.id, first_key=pending)
    assert context is not None and context.user.state == UserState.PENDING
    keys = gateway.store.key_storage()
    assert await keys.generations("org2", user.id, PURPOSE_DATA) == []
    assert await keys.generations("org1", user.id, PURPOSE_DATA) == []


async def test_a_user_who_fails_validation_keeps_the_key_until_offboarded(stack: Stack) -> None:
    stack.emu.control({"errors": [{"status": 403, "reason": "forbidden", "count": 1,
                                   "path": "/vacation$"}]})
    user = await stack.activate(ALICE)
    assert (user["state"], user["reason_code"]) == ("error", "access_denied")
    keys = stack.gateway.store.key_storage()
    assert len(await keys.generations("org1", user["id"], PURPOSE_DATA)) == 1
    await stack.deactivate(ALICE)
    assert await keys.generations("org1", user["id"], PURPOSE_DATA) == []
