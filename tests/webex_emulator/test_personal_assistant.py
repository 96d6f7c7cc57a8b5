"""Webex Calling personal assistant through wxc-sdk (sync and async)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from wxc_sdk.person_settings.personal_assistant import (
    PersonalAssistant,
    PersonalAssistantPresence,
)
from wxc_sdk.rest import RestError

from hybrid_calendar_webex_emulator.testing import RunningWebexEmulator, running_webex_emulator
from tests.webex_emulator.helpers import ALICE, BOB, wxc, wxc_async


def test_get_and_put_out_of_office(emu: RunningWebexEmulator) -> None:
    api = wxc(emu, emu.admin_token)
    alice = emu.state.person(ALICE)["id"]
    assert api.person_settings.personal_assistant.get(alice).enabled is False
    api.person_settings.personal_assistant.update(alice, PersonalAssistant(
        enabled=True, presence=PersonalAssistantPresence("OUT_OF_OFFICE"),
        until_date_time=datetime(2026, 12, 24, 17, tzinfo=UTC), transfer_enabled=False))
    settings = api.person_settings.personal_assistant.get(alice)
    assert settings.presence == PersonalAssistantPresence.out_of_office
    assert settings.enabled is True


def test_async_session_reads_and_writes(emu: RunningWebexEmulator) -> None:
    alice = emu.state.person(ALICE)["id"]

    async def scenario() -> str:
        api = wxc_async(emu, emu.admin_token)
        try:
            await api.person_settings.personal_assistant.update(alice, PersonalAssistant(
                enabled=True, presence=PersonalAssistantPresence("VACATION")))
            settings = await api.person_settings.personal_assistant.get(alice)
            people = [p async for p in api.people.list_gen(email=ALICE)]
            assert [p.emails for p in people] == [[ALICE]]
            return str(getattr(settings.presence, "value", settings.presence))
        finally:
            await api.session.close()

    assert asyncio.run(scenario()) == "VACATION"


def test_only_calling_users_and_scopes() -> None:
    with running_webex_emulator(users=[ALICE, BOB], calling_users=[ALICE]) as emu:
        api = wxc(emu, emu.admin_token)
        with pytest.raises(RestError) as caught:
            api.person_settings.personal_assistant.get(emu.state.person(BOB)["id"])
        assert caught.value.response.status_code == 404
        reader = wxc(emu, emu.token("admin@example.com", ["spark-admin:telephony_config_read"]))
        alice = emu.state.person(ALICE)["id"]
        assert reader.person_settings.personal_assistant.get(alice).presence is not None
        with pytest.raises(RestError) as denied:
            reader.person_settings.personal_assistant.update(alice, PersonalAssistant(
                enabled=True))
        assert denied.value.response.status_code == 403
