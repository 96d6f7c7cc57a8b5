"""Fixtures: the fake Chat service and a gateway that loads this plugin by its entry point.

The gateway is built the way ``serve`` builds it: the configuration enables the built-in
``kms_local`` plugin and loads installed entry points, so the plugin under test is found
because ``pip install`` registered it, not because a test registered it by hand.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_chat import FakeChat

from hybrid_calendar.builder import build_gateway, close_gateway
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import Organisation, User, UserState
from hybrid_calendar.plugins import NO_ENTRYPOINTS_ENV

SINK = "chat_sink"


@pytest.fixture
def anyio_backend() -> str:
    """The gateway runs on asyncio."""
    return "asyncio"


@pytest.fixture
def chat() -> Iterator[FakeChat]:
    """The fake Google Chat, serving on loopback."""
    service = FakeChat()
    service.start()
    try:
        yield service
    finally:
        service.stop()


@dataclass
class ChatWorld:
    """A gateway with the sink, its people, and the fake Chat (a ``SinkWorld``)."""

    gateway: Gateway
    sink: str
    person: User
    unserved: User
    chat: FakeChat

    def messages(self, user: User) -> list[dict[str, Any]]:
        """What reached ``user``'s space."""
        space = self.chat.spaces.get(user.id)
        return space.messages if space else []

    def received(self, user: User) -> int:
        """How many messages reached ``user``'s space."""
        return len(self.messages(user))

    def fail_transiently(self, retry_after: float | None) -> None:
        """Chat overloaded: 503, with ``Retry-After`` when given."""
        headers = {} if retry_after is None else {"Retry-After": str(int(retry_after))}
        self.chat.fail(503, headers)

    def refuse_permanently(self) -> None:
        """The webhook was revoked: 403."""
        self.chat.fail(403)

    def restore(self) -> None:
        """Chat works again."""
        self.chat.restore()


async def open_world(tmp_path: Path, chat: FakeChat, monkeypatch: pytest.MonkeyPatch,
                     settings: dict[str, Any] | None = None) -> ChatWorld:
    """Build and open the gateway; alice has a webhook to her space, bob has none."""
    monkeypatch.delenv(NO_ENTRYPOINTS_ENV, raising=False)
    person = User(id="alice", org_id="o1", email="Alice@Example.com", state=UserState.ACTIVE)
    unserved = User(id="bob", org_id="o1", email="bob@example.com", state=UserState.ACTIVE)
    webhooks = {"alice@example.com": chat.webhook(person.id)}
    config, pm = load_config(None, overrides={
        "plugins": {"enabled": ["kms_local"], "load_entrypoints": True},
        "gateway": {"data_dir": str(tmp_path)},
        "chat_sink": {"webhooks": json.dumps(webhooks), **(settings or {})}}, environ={})
    assert pm.has_plugin(SINK), "the chat_sink entry point is not installed: pip install ."
    gateway = build_gateway(config, pm)
    await gateway.store.open()
    await gateway.store.put_organisation(Organisation("o1", "Example", "example.com"))
    for user in (person, unserved):
        await gateway.store.put_user(user)
    return ChatWorld(gateway, SINK, person, unserved, chat)


@pytest.fixture
async def chat_world(tmp_path: Path, chat: FakeChat, monkeypatch: pytest.MonkeyPatch
                     ) -> AsyncIterator[ChatWorld]:
    """The sink's world, closed after the test."""
    world = await open_world(tmp_path, chat, monkeypatch)
    try:
        yield world
    finally:
        await close_gateway(world.gateway)
