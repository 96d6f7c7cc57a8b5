"""What this sink does beyond the shared contract: the card, the request id, the settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ChatWorld, open_world
from fake_chat import FakeChat

from hybrid_calendar.builder import close_gateway
from hybrid_calendar.cli import main
from hybrid_calendar.models import DeliveryReceipt, DeliveryStatus, NotificationKind
from hybrid_calendar.plugins import NO_ENTRYPOINTS_ENV
from hybrid_calendar.sink_testing import sample_notification

pytestmark = pytest.mark.anyio


async def test_a_join_button_is_a_card_with_a_join_button(chat_world: ChatWorld) -> None:
    notification = sample_notification(NotificationKind.JOIN_BUTTON, chat_world.person,
                                       "alice|event-1|2026-11-27T09:00")
    receipt = await chat_world.gateway.hooks.deliver_notification(
        chat_world.gateway, notification, "chat_sink")
    assert receipt == DeliveryReceipt.delivered()
    [message] = chat_world.messages(chat_world.person)
    assert message["text"] == ("Conformance standup is starting: "
                               "https://example.webex.com/meet/conformance")
    card = message["cardsV2"][0]["card"]
    assert card["header"] == {"title": "Conformance standup", "subtitle": "Webex"}
    widgets = card["sections"][0]["widgets"]
    assert widgets[0]["decoratedText"]["text"] == "2026-11-27 09:00 UTC"
    assert widgets[1]["decoratedText"]["text"] == "conformance@example.webex.com"
    [button] = widgets[2]["buttonList"]["buttons"]
    assert button == {"text": "Join", "onClick": {"openLink": {
        "url": "https://example.webex.com/meet/conformance"}}}
    [request_id] = chat_world.chat.spaces["alice"].by_request
    assert request_id.startswith("hc-") and "alice" not in request_id  # the key is hashed


async def test_button_text_is_a_setting(tmp_path: Path, chat: FakeChat,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    world = await open_world(tmp_path, chat, monkeypatch, {"button_text": "Beitreten"})
    try:
        notification = sample_notification(NotificationKind.JOIN_BUTTON, world.person, "k")
        await world.gateway.hooks.deliver_notification(world.gateway, notification,
                                                       "chat_sink")
        [message] = world.messages(world.person)
        buttons = message["cardsV2"][0]["card"]["sections"][0]["widgets"][2]
        assert buttons["buttonList"]["buttons"][0]["text"] == "Beitreten"
    finally:
        await close_gateway(world.gateway)


async def test_a_deleted_space_is_a_dead_letter_naming_the_fix(chat_world: ChatWorld
                                                               ) -> None:
    del chat_world.chat.spaces["alice"]
    notification = sample_notification(NotificationKind.JOIN_BUTTON, chat_world.person, "k")
    receipt = await chat_world.gateway.hooks.deliver_notification(
        chat_world.gateway, notification, "chat_sink")
    assert receipt is not None and receipt.status is DeliveryStatus.FAILED
    assert receipt.reason and "update chat_sink.webhooks" in receipt.reason
    assert "token=" not in receipt.reason and "@" not in receipt.reason


def test_hybrid_calendar_plugins_lists_the_sink(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(NO_ENTRYPOINTS_ENV, raising=False)
    assert main(["plugins"]) == 0
    listing = json.loads(capsys.readouterr().out)
    plugin = next(p for p in listing["plugins"] if p["name"] == "chat_sink")
    assert plugin["hooks"] == ["check_config", "deliver_notification",
                               "register_delivery_kinds", "register_settings"]
    assert "chat_sink" in listing["delivery"]["sinks"]["join_button"]


@pytest.mark.parametrize(("webhooks", "problem"), [
    ("{not json", "chat_sink.webhooks: is not JSON"),
    ('["https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t"]',
     "chat_sink.webhooks: must be a JSON object"),
    ('{"alice@example.com": "http://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t"}',
     "chat_sink.webhooks: entry 1: the webhook URL must use https"),
    ('{"alice@example.com": "https://chat.googleapis.com/v1/spaces/A/messages?key=k"}',
     "chat_sink.webhooks: entry 1: the webhook URL lacks its key or token parameter"),
    ('{"alice": "https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t"}',
     "chat_sink.webhooks: entry 1: the key must be an address"),
])
def test_config_check_names_a_broken_webhook_map(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        webhooks: str, problem: str) -> None:
    monkeypatch.delenv(NO_ENTRYPOINTS_ENV, raising=False)
    secret_file = tmp_path / "chat-webhooks.json"
    secret_file.write_text(webhooks)
    config = tmp_path / "gateway.toml"
    config.write_text(f'[plugins]\nenabled = ["kms_local"]\n[gateway]\ndata_dir = "{tmp_path}"\n'
                      f'[chat_sink]\nwebhooks = "$file:{secret_file}"\n')
    assert main(["config", "check", str(config)]) == 2
    err = capsys.readouterr().err
    assert problem in err
    assert "token=t" not in err and "alice@" not in err


def test_config_check_passes_a_good_webhook_map(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(NO_ENTRYPOINTS_ENV, raising=False)
    secret_file = tmp_path / "chat-webhooks.json"
    secret_file.write_text(json.dumps({
        "alice@example.com": "https://chat.googleapis.com/v1/spaces/AAA/messages?key=k&token=t"}))
    config = tmp_path / "gateway.toml"
    config.write_text(f'[plugins]\nenabled = ["kms_local"]\n[gateway]\ndata_dir = "{tmp_path}"\n'
                      f'[chat_sink]\nwebhooks = "$file:{secret_file}"\n')
    assert main(["config", "check", str(config)]) == 0
    assert capsys.readouterr().out.strip() == f"{config}: OK"
