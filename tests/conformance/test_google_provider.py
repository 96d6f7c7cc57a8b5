"""The Google plugin passes the provider conformance suite, against the emulator."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from hybrid_calendar.builder import build_gateway, close_gateway
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import KeywordRequest, Organisation, User, UserState
from hybrid_calendar.testing import ProviderTests, ProviderWorld
from hybrid_calendar_google_emulator.testing import RunningEmulator, running_emulator

ALICE = "alice@example.com"


@dataclass
class GoogleWorld:
    """:class:`ProviderWorld` over the Google emulator."""

    gateway: Gateway
    user: User
    stranger: User
    emu: RunningEmulator

    def add_event(self, summary: str, start: datetime, *, location: str = "",
                  description: str = "") -> str:
        event = self.emu.state.insert_event(ALICE, {
            "summary": summary, "location": location, "description": description,
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(minutes=30)).isoformat()}})
        return str(event["id"])

    def change_event(self, event_id: str, summary: str) -> None:
        self.emu.state.patch_event(ALICE, event_id, {"summary": summary})

    def remove_event(self, event_id: str) -> None:
        self.emu.state.delete_event(ALICE, event_id)

    def expire_cursors(self) -> None:
        self.emu.state.invalidate_sync_tokens(ALICE)

    def set_out_of_office(self, enabled: bool) -> None:
        self.emu.state.set_vacation(ALICE, {"enableAutoReply": enabled})

    def set_locale(self, locale: str) -> None:
        self.emu.state.set_setting(ALICE, "locale", locale)


class TestGoogleProvider(ProviderTests):
    """Runs every conformance test against the Google plugin."""

    meeting_requests = (KeywordRequest("meet", "google_meet", raw="@meet"),)

    @pytest.fixture
    async def world(self, tmp_path: Path) -> AsyncIterator[ProviderWorld]:
        with running_emulator(domain="example.com", users=[ALICE]) as emu:
            config, pm = load_config(None, overrides={
                "plugins": {"enabled": ["google", "join_info", "kms_local"],
                            "load_entrypoints": False},
                "gateway": {"data_dir": str(tmp_path)},
                "google": {"service_account_json": json.dumps(emu.service_account_info),
                           "calendar_base_url": emu.base_url + "/calendar/v3",
                           "gmail_base_url": emu.base_url}}, environ={})
            gateway = build_gateway(config, pm)
            await gateway.store.open()
            await gateway.store.put_organisation(Organisation("o1", "Example", "example.com"))
            user = User(id="u1", org_id="o1", email=ALICE, state=UserState.ACTIVE)
            stranger = User(id="u2", org_id="o1", email="nobody@example.com")
            try:
                yield GoogleWorld(gateway, user, stranger, emu)
            finally:
                await close_gateway(gateway)
