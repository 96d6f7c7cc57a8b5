"""Spaces, memberships, meetingInfo, messages with markdown and cards, card submissions."""

from __future__ import annotations

import httpx
import pytest
import webexpythonsdk
from wxc_sdk.rest import RestError
from wxc_sdk.webhook import WebhookEventType, WebhookResource

from hybrid_calendar_webex_emulator.testing import RunningWebexEmulator
from tests.webex_emulator.helpers import ALICE, BOB, CAROL, Receiver, webexsdk, wxc

CARD = {"contentType": "application/vnd.microsoft.card.adaptive",
        "content": {"type": "AdaptiveCard", "version": "1.3",
                    "body": [{"type": "TextBlock", "text": "Design review"}],
                    "actions": [{"type": "Action.OpenUrl", "title": "Join",
                                 "url": "https://example.webex.com/meet/alice"},
                                {"type": "Action.Submit", "title": "Snooze"}]}}


def test_rooms_memberships_meeting_info_with_webexpythonsdk(emu: RunningWebexEmulator,
                                                           http: httpx.Client) -> None:
    sdk = webexsdk(emu, emu.token(ALICE))
    room = sdk.rooms.create("Project")
    assert room.type == "group" and room.creatorId == emu.state.person(ALICE)["id"]
    sdk.memberships.create(room.id, personEmail=BOB)
    members = {m.personEmail for m in sdk.memberships.list(roomId=room.id)}
    assert members == {ALICE, BOB}
    # no client wraps meetingInfo: raw HTTP
    info = http.get(f"/v1/rooms/{room.id}/meetingInfo",
                    headers={"Authorization": f"Bearer {emu.token(BOB)}"}).json()
    assert info["roomId"] == room.id and info["sipAddress"].endswith("@example.webex.com")
    assert info["meetingLink"].startswith("https://") and info["meetingNumber"]
    assert [r.id for r in sdk.rooms.list()] == [room.id]
    with pytest.raises(webexpythonsdk.ApiError) as caught:
        webexsdk(emu, emu.token(CAROL)).rooms.get(room.id)
    assert caught.value.status_code == 404
    sdk.rooms.delete(room.id)
    assert list(sdk.rooms.list()) == []


def test_bot_sends_join_card_to_person_email(emu: RunningWebexEmulator) -> None:
    _bot, token = emu.state.create_bot("Gateway", "gateway")
    sdk = webexsdk(emu, token)
    sent = sdk.messages.create(toPersonEmail=BOB, markdown="**Design review** starts in 5 min",
                               attachments=[CARD])
    assert sent.roomType == "direct" and sent.toPersonEmail == BOB
    assert sent.text == "Design review starts in 5 min"
    assert sent.html == "<p><strong>Design review</strong> starts in 5 min</p>"
    again = sdk.messages.create(toPersonEmail=BOB, text="second")
    assert again.roomId == sent.roomId  # the same 1:1 space
    received = emu.state.received_messages(BOB)
    assert [m["id"] for m in received] == [sent.id, again.id]
    assert received[0]["attachments"][0]["content"]["actions"][0]["title"] == "Join"
    assert received[0]["personEmail"] == "gateway@webex.bot"
    assert emu.state.received_messages(ALICE) == []
    # Bob reads it with his own client
    bob_view = list(webexsdk(emu, emu.token(BOB)).messages.list(roomId=sent.roomId))
    assert [m.id for m in bob_view] == [again.id, sent.id]  # newest first


def test_message_rules(emu: RunningWebexEmulator, http: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {emu.token(ALICE)}"}

    def post(body: dict[str, object]) -> httpx.Response:
        return http.post("/v1/messages", json=body, headers=headers)

    assert post({"toPersonEmail": BOB, "roomId": "x", "text": "t"}).status_code == 400
    assert post({"toPersonEmail": BOB}).status_code == 400
    assert post({"toPersonEmail": BOB, "text": "x" * 7440}).status_code == 400
    wrong = dict(CARD, contentType="text/plain")
    assert post({"toPersonEmail": BOB, "text": "t", "attachments": [wrong]}).status_code == 400
    assert post({"toPersonEmail": BOB, "text": "t",
                 "attachments": [CARD, CARD]}).status_code == 400
    assert post({"toPersonEmail": "nobody@example.com", "text": "t"}).status_code == 404
    sent = post({"toPersonEmail": BOB, "text": "t"}).json()
    bob = {"Authorization": f"Bearer {emu.token(BOB)}"}
    assert http.delete(f"/v1/messages/{sent['id']}", headers=bob).status_code == 403
    assert http.delete(f"/v1/messages/{sent['id']}", headers=headers).status_code == 204
    assert emu.state.received_messages(BOB) == []


def test_card_submission_fires_attachment_actions_webhook(
        emu: RunningWebexEmulator, receiver: Receiver) -> None:
    _bot, token = emu.state.create_bot("Gateway", "gateway")
    bot_api = wxc(emu, token)
    bot_api.webhook.create(name="cards", target_url=receiver.url,
                           resource=WebhookResource("attachmentActions"),
                           event=WebhookEventType("created"), secret="k")
    message = bot_api.messages.create(to_person_email=BOB, text="Join?", attachments=[CARD])
    bob_api = wxc(emu, emu.token(BOB))
    action = bob_api.attachment_actions.details(
        webexsdk(emu, emu.token(BOB)).attachment_actions.create(
            type="submit", messageId=message.id, inputs={"choice": "snooze"}).id)
    assert action.inputs == {"choice": "snooze"} and action.id is not None
    hook = receiver.wait_for(1)[0]["body"]
    assert hook["resource"] == "attachmentActions" and hook["data"]["id"] == action.id
    assert "inputs" not in hook["data"]
    with pytest.raises(RestError):
        wxc(emu, emu.token(CAROL)).attachment_actions.details(action.id)


def test_messages_webhook_with_room_filter(emu: RunningWebexEmulator, receiver: Receiver) -> None:
    alice = wxc(emu, emu.token(ALICE))
    room = alice.rooms.create(title="A")
    other = alice.rooms.create(title="B")
    assert room.id is not None and other.id is not None
    alice.webhook.create(name="m", target_url=receiver.url,
                         resource=WebhookResource("messages"),
                         event=WebhookEventType("created"), filter=f"roomId={room.id}")
    alice.messages.create(room_id=other.id, text="not this one")
    alice.messages.create(room_id=room.id, text="this one")
    emu.wait_for_webhooks()
    bodies = [r["body"] for r in receiver.received]
    assert len(bodies) == 1 and bodies[0]["data"]["roomId"] == room.id
    assert bodies[0]["actorId"] == emu.state.person(ALICE)["id"]


def test_mentions_and_bots_listing_group_spaces(emu: RunningWebexEmulator,
                                               http: httpx.Client) -> None:
    bot, bot_token = emu.state.create_bot("Gateway", "gateway")
    alice = wxc(emu, emu.token(ALICE))
    room = alice.rooms.create(title="Team")
    assert room.id is not None
    alice.membership.create(room_id=room.id, person_email="gateway@webex.bot")
    alice.messages.create(room_id=room.id, markdown=f"<@personId:{bot['id']}|Gateway> hi")
    alice.messages.create(room_id=room.id, markdown="no mention")
    headers = {"Authorization": f"Bearer {bot_token}"}
    denied = http.get("/v1/messages", params={"roomId": room.id}, headers=headers)
    assert denied.status_code == 403
    mine = http.get("/v1/messages", params={"roomId": room.id, "mentionedPeople": "me"},
                    headers=headers).json()["items"]
    assert [m["text"] for m in mine] == ["Gateway hi"]
    assert mine[0]["html"] == ('<p><spark-mention data-object-type="person" '
                               f'data-object-id="{bot["id"]}">Gateway</spark-mention> hi</p>')
    assert mine[0]["mentionedPeople"] == [bot["id"]]
    two_files = http.post("/v1/messages", json={"roomId": room.id,
                                                "files": ["https://a/1", "https://a/2"]},
                          headers={"Authorization": f"Bearer {emu.token(ALICE)}"})
    assert two_files.status_code == 400


def test_bot_through_control_route(emu: RunningWebexEmulator, http: httpx.Client) -> None:
    bot = http.post("/_emulator/bots", json={"name": "Gateway", "username": "gw"}).json()
    assert bot["email"] == "gw@webex.bot"
    sent = webexsdk(emu, bot["access_token"]).messages.create(toPersonEmail=BOB, text="hi")
    assert sent.personId == bot["personId"]
    again = http.post("/_emulator/bots", json={"name": "Gateway", "username": "gw"}).json()
    assert again["personId"] == bot["personId"] and again["access_token"] != bot["access_token"]


def test_edit_message_rules(emu: RunningWebexEmulator, http: httpx.Client,
                            receiver: Receiver) -> None:
    alice = {"Authorization": f"Bearer {emu.token(ALICE)}"}
    wxc(emu, emu.token(BOB)).webhook.create(name="m", target_url=receiver.url,
                                            resource=WebhookResource("messages"),
                                            event=WebhookEventType("updated"))
    sent = http.post("/v1/messages", headers=alice,
                     json={"toPersonEmail": BOB, "markdown": "see <https://example.com/a>"}
                     ).json()
    assert sent["html"] == ('<p>see <a href="https://example.com/a" rel="nofollow">'
                            'https://example.com/a</a></p>')
    assert sent["text"] == "see https://example.com/a"
    url = f"/v1/messages/{sent['id']}"
    # the documented pattern: GET, change markdown, drop html, PUT
    body = http.get(url, headers=alice).json()
    assert http.put(url, headers=alice, json={**body, "markdown": "x"}).status_code == 400
    body.pop("html")
    kept = http.put(url, headers=alice, json={**body, "markdown": "**edited**"}).json()
    assert kept["text"] == "see https://example.com/a"  # a given text is the alternate text
    body.pop("text")
    edited = http.put(url, headers=alice, json={**body, "markdown": "**edited**"}).json()
    assert edited["text"] == "edited" and "updated" in edited
    bob = {"Authorization": f"Bearer {emu.token(BOB)}"}
    assert http.put(url, headers=bob, json={"roomId": sent["roomId"],
                                            "text": "mine"}).status_code == 403
    for index in range(8):
        assert http.put(url, headers=alice, json={"roomId": sent["roomId"],
                                                  "text": f"e{index}"}).status_code == 200
    limit = http.put(url, headers=alice, json={"roomId": sent["roomId"], "text": "11th"})
    assert limit.status_code == 400 and "limit" in limit.json()["message"]
    card = http.post("/v1/messages", headers=alice, json={
        "toPersonEmail": BOB, "text": "card", "attachments": [CARD]}).json()
    assert http.put(f"/v1/messages/{card['id']}", headers=alice, json={
        "roomId": card["roomId"], "text": "no"}).status_code == 400
    events = receiver.wait_for(10)
    assert {r["body"]["event"] for r in events} == {"updated"}
