"""The webhook sink keeps the core's sink contract (``SinkTests``), against a real
receiver on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hybrid_calendar.clock import ManualClock
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.models import Organisation, User
from hybrid_calendar.sink_testing import SinkTests

from .conftest import running_stack
from .receiver import Receiver, running_receiver


@dataclass
class WebhookWorld:
    """The sink ``people.webhook_sink``, an endpoint for org1 and none for org2."""

    gateway: Gateway
    receiver: Receiver
    person: User
    unserved: User
    sink: str = "people.webhook_sink"

    def received(self, user: User) -> int:
        return sum(1 for r in self.receiver.requests if 200 <= r.status < 300
                   and json.loads(r.body)["data"]["user_id"] == user.id)

    def fail_transiently(self, retry_after: float | None) -> None:
        self.receiver.default = 503
        self.receiver.retry_after = None if retry_after is None else str(int(retry_after))

    def refuse_permanently(self) -> None:
        self.receiver.default = 410

    def restore(self) -> None:
        self.receiver.default, self.receiver.retry_after = 204, None


class TestWebhookSink(SinkTests):
    @pytest.fixture
    async def sink_world(self, tmp_path: Path, store_url: str | None
                         ) -> AsyncIterator[WebhookWorld]:
        clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
        async with running_receiver() as receiver, \
                running_stack(tmp_path, clock, store_url=store_url) as stack:
            person = await stack.add_user("pat")
            await stack.gateway.store.put_organisation(
                Organisation(id="org2", name="Other", domain="other.example"))
            unserved = User(id="u-olga", org_id="org2", email="olga@other.example")
            await stack.gateway.store.put_user(unserved)
            response = await stack.admin.post("/api/v1/organisations/org1/webhooks", json={
                "url": receiver.url, "allow_host": "127.0.0.1"})
            assert response.status_code == 201
            yield WebhookWorld(stack.gateway, receiver, person, unserved)
