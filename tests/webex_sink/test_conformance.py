"""The Webex sink keeps the sink contract (SinkTests) against the Webex emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hybrid_calendar.builder import build_gateway, close_gateway
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import Organisation, User, UserState
from hybrid_calendar.sink_testing import SinkTests, SinkWorld
from hybrid_calendar_webex_emulator.testing import (
    RunningWebexEmulator,
    running_webex_emulator,
)

ALICE, DAVE = "alice@example.com", "dave@example.com"


@dataclass
class WebexSinkWorld:
    """:class:`SinkWorld` over the Webex emulator."""

    gateway: Gateway
    sink: str
    person: User
    unserved: User
    emu: RunningWebexEmulator

    def received(self, user: User) -> int:
        """Messages in the person's Webex spaces plus personal-assistant changes."""
        person = self.emu.state.person_by_email(user.email)
        if person is None:
            return 0
        assistant = [r for r in self.emu.state.request_log
                     if r[0] == "PUT" and person["id"] in r[1] and r[2] < 300]
        return len(self.emu.state.received_messages(user.email)) + len(assistant)

    def fail_transiently(self, retry_after: float | None) -> None:
        error: dict[str, object] = {"status": 503, "count": 10_000}
        if retry_after is not None:
            error["retryAfter"] = int(retry_after)
        self.emu.control({"errors": [error]})

    def refuse_permanently(self) -> None:
        self.emu.control({"errors": [{"status": 403, "count": 10_000}]})

    def restore(self) -> None:
        self.emu.control({"clear_errors": True})


@pytest.fixture
def webex_emulator() -> Iterator[RunningWebexEmulator]:
    with running_webex_emulator("example.com", [ALICE]) as emu:
        yield emu


class TestWebexSink(SinkTests):
    """Join cards and personal-assistant presence, one attempt per call."""

    @pytest.fixture
    async def sink_world(self, tmp_path: Path, webex_emulator: RunningWebexEmulator
                         ) -> AsyncIterator[SinkWorld]:
        emu = webex_emulator
        app = emu.state.create_service_app("Gateway")
        emu.state.authorize_service_app(app.application_id)
        _, bot_token = emu.state.create_bot("Gateway", "gateway")
        config, pm = load_config(None, overrides={
            "plugins": {"enabled": ["kms_local", "webex"], "load_entrypoints": False},
            "gateway": {"data_dir": str(tmp_path)},
            "webex": {"api_base_url": emu.api_base, "service_app_id": app.application_id,
                      "client_id": app.client_id, "client_secret": app.client_secret,
                      "applications_token": emu.admin_token, "bot_token": bot_token,
                      "target_org_id": emu.state.org_id}}, environ={})
        gateway = build_gateway(config, pm)
        await gateway.store.open()
        await gateway.store.put_organisation(Organisation("o1", "Example", "example.com"))
        person = User(id="u1", org_id="o1", email=ALICE, state=UserState.ACTIVE)
        unserved = User(id="u2", org_id="o1", email=DAVE, state=UserState.ACTIVE)
        for user in (person, unserved):
            await gateway.store.put_user(user)
        try:
            yield WebexSinkWorld(gateway, "webex", person, unserved, emu)
        finally:
            await close_gateway(gateway)
