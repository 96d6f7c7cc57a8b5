"""SinkTests run against the reference sink, with its messaging service faked as a remote
(``httpx.MockTransport``), through the real plugin manager, outbox and store."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from hybrid_calendar.builder import build_gateway, close_gateway
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import Organisation, User, UserState
from hybrid_calendar.sink_testing import SinkTests, SinkWorld
from tests.conformance.reference_sink import MessagingSink

BASE_URL = "https://messages.example.test/v1"


@dataclass
class MessagingService:
    """The remote: people with inboxes, idempotency by key, switchable failures."""

    people: set[str]
    inboxes: dict[str, list[str]] = field(default_factory=dict)
    seen_keys: set[str] = field(default_factory=set)
    failure: tuple[int, dict[str, str]] | None = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.failure is not None:
            status, headers = self.failure
            return httpx.Response(status, headers=headers, json={"error": "unavailable"})
        if request.method != "POST" or request.url.path != "/v1/messages":
            return httpx.Response(405)
        body = json.loads(request.content)
        if body["to"] not in self.people:
            return httpx.Response(404, json={"error": "no such person"})
        key = request.headers["Idempotency-Key"]
        if key in self.seen_keys:
            return httpx.Response(200, json={"id": key, "duplicate": True})
        self.seen_keys.add(key)
        self.inboxes.setdefault(body["to"], []).append(body["kind"])
        return httpx.Response(201, json={"id": key})


@dataclass
class MessagingWorld:
    """:class:`SinkWorld` over the faked messaging service."""

    gateway: Gateway
    sink: str
    person: User
    unserved: User
    service: MessagingService

    def received(self, user: User) -> int:
        return len(self.service.inboxes.get(user.email, []))

    def fail_transiently(self, retry_after: float | None) -> None:
        headers = {} if retry_after is None else {"Retry-After": str(int(retry_after))}
        self.service.failure = (503, headers)

    def refuse_permanently(self) -> None:
        self.service.failure = (403, {})

    def restore(self) -> None:
        self.service.failure = None


class TestReferenceSink(SinkTests):
    """The reference sink keeps the sink contract."""

    @pytest.fixture
    async def sink_world(self, tmp_path: Path) -> AsyncIterator[SinkWorld]:
        config, pm = load_config(None, overrides={
            "plugins": {"enabled": ["kms_local"], "load_entrypoints": False},
            "gateway": {"data_dir": str(tmp_path)}}, environ={})
        pm.register(MessagingSink(BASE_URL), name="messaging")
        service = MessagingService(people={"alice@example.com"})
        gateway = build_gateway(config, pm)
        gateway.http = httpx.AsyncClient(transport=httpx.MockTransport(service.handle))
        await gateway.store.open()
        await gateway.store.put_organisation(Organisation("o1", "Example", "example.com"))
        person = User(id="u1", org_id="o1", email="alice@example.com", state=UserState.ACTIVE)
        unserved = User(id="u2", org_id="o1", email="bob@example.com", state=UserState.ACTIVE)
        for user in (person, unserved):
            await gateway.store.put_user(user)
        try:
            yield MessagingWorld(gateway, "messaging", person, unserved, service)
        finally:
            await close_gateway(gateway)
