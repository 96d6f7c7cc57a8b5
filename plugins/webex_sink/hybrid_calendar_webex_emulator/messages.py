"""Messages (``/v1/messages``).

developer.webex.com/docs/api/v1/messages: exactly one of ``roomId``, ``toPersonId``,
``toPersonEmail`` (the last two post into the 1:1 space, created on first use); ``text``
and ``markdown`` at most 7439 bytes; ``attachments``: one Adaptive Card
(``contentType: application/vnd.microsoft.card.adaptive``, ``content.type:
AdaptiveCard``); one file. A markdown message comes back with ``markdown``, a plain
``text``, a rendered ``html`` and the ``mentionedPeople`` of its ``<@personId:...>`` /
``<@personEmail:...>`` mentions; bots list group-space messages only with
``mentionedPeople=me``. Only the sender (or a moderator) deletes a message. Every message stays
recorded: :meth:`WebexState.received_messages` reads what each person received.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hybrid_calendar_webex_emulator.dispatch import Call, Route, route
from hybrid_calendar_webex_emulator.errors import bad_request, forbidden, not_found
from hybrid_calendar_webex_emulator.markdown import mentions, render_markdown
from hybrid_calendar_webex_emulator.paging import page
from hybrid_calendar_webex_emulator.rooms import add_member, members, new_room, visible_room
from hybrid_calendar_webex_emulator.timeutil import iso
from hybrid_calendar_webex_emulator.webhooks import fire

if TYPE_CHECKING:
    pass

READ = ("spark:messages_read",)
WRITE = ("spark:messages_write",)
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_BYTES = 7439


def public_message(message: dict[str, Any]) -> dict[str, Any]:
    """A message as the API shows it."""
    return {k: v for k, v in message.items() if not k.startswith("_")}


def _check_attachments(attachments: object) -> list[dict[str, Any]]:
    if not isinstance(attachments, list) or len(attachments) != 1:
        raise bad_request("Only one attachment per message is supported.")
    card = attachments[0]
    if not isinstance(card, dict) or card.get("contentType") != CARD_TYPE:
        raise bad_request(f"attachments[0].contentType must be {CARD_TYPE}.")
    content = card.get("content")
    if not isinstance(content, dict) or content.get("type") != "AdaptiveCard":
        raise bad_request("attachments[0].content must be an Adaptive Card.")
    return [card]


def _direct_room(call: Call, recipient: dict[str, Any]) -> dict[str, Any]:
    sender = call.grant.person_id
    for room in call.state.rooms.values():
        if room["type"] == "direct" and members(call.state, room["id"]) == {
                sender, recipient["id"]}:
            return room
    room = new_room(call.state, recipient["displayName"], sender, kind="direct")
    add_member(call.state, room["id"], recipient["id"], sender)
    return room


def create(call: Call) -> dict[str, Any]:
    """``POST /messages``."""
    body = call.json_body()
    targets = [k for k in ("roomId", "toPersonId", "toPersonEmail") if body.get(k)]
    if len(targets) != 1:
        raise bad_request("Exactly one of roomId, toPersonId or toPersonEmail is required.")
    if not any(body.get(k) for k in ("text", "markdown", "files", "attachments")):
        raise bad_request("text, markdown, files or attachments is required.")
    for name in ("text", "markdown"):
        if body.get(name) is not None and (not isinstance(body[name], str)
                                           or len(body[name].encode()) > MAX_BYTES):
            raise bad_request(f"{name} must be a string of at most {MAX_BYTES} bytes.")
    state = call.state
    recipient: dict[str, Any] | None = None
    if targets[0] == "roomId":
        room = visible_room(call, body["roomId"])
    else:
        recipient = (state.people.get(body["toPersonId"]) if targets[0] == "toPersonId"
                     else state.person_by_email(str(body["toPersonEmail"])))
        if recipient is None:
            raise not_found("The person could not be found.")
        room = _direct_room(call, recipient)
    sender = state.people[call.grant.person_id]
    message: dict[str, Any] = {
        "id": state.ids.webex_id("MESSAGE"), "roomId": room["id"], "roomType": room["type"],
        "personId": sender["id"], "personEmail": sender["emails"][0],
        "created": iso(state.clock.now())}
    if recipient is not None:
        message.update({"toPersonId": recipient["id"],
                        "toPersonEmail": recipient["emails"][0]})
    if body.get("markdown"):
        plain, rendered = render_markdown(body["markdown"])
        message.update({"text": body.get("text") or plain, "markdown": body["markdown"],
                        "html": rendered})
    elif body.get("text"):
        message["text"] = body["text"]
    if body.get("files"):
        if not isinstance(body["files"], list) or len(body["files"]) > 1:
            raise bad_request("Only one file is allowed per message.")
        message["files"] = list(body["files"])
    mentioned = mentions(state, str(body.get("markdown") or ""))
    if mentioned:
        message["mentionedPeople"] = mentioned
    if body.get("attachments"):
        message["attachments"] = _check_attachments(body["attachments"])
    if body.get("parentId"):
        message["parentId"] = body["parentId"]
    state.messages[message["id"]] = message
    room["lastActivity"] = message["created"]
    data = {k: message[k] for k in ("id", "roomId", "roomType", "personId", "personEmail",
                                    "created")}
    fire(state, "messages", "created", data, sender["id"], members(state, room["id"]))
    return public_message(message)


def visible_message(call: Call, message_id: str) -> dict[str, Any]:
    message = call.state.messages.get(message_id)
    if message is None:
        raise not_found()
    visible_room(call, message["roomId"])
    return message


def get(call: Call) -> dict[str, Any]:
    """``GET /messages/{messageId}``."""
    return public_message(visible_message(call, call.path_params["messageId"]))


def list_messages(call: Call) -> Any:
    """``GET /messages?roomId=`` newest first (``before``, ``beforeMessage``, ``max``)."""
    room = visible_room(call, call.param("roomId"))
    items = sorted((m for m in call.state.messages.values() if m["roomId"] == room["id"]),
                   key=lambda m: m["created"], reverse=True)
    mentioned = call.param("mentionedPeople")
    caller = call.state.people[call.grant.person_id]
    if mentioned is None and caller["type"] == "bot" and room["type"] == "group":
        raise forbidden("Bots must include mentionedPeople to list messages in group rooms.")
    if mentioned is not None:
        if mentioned not in ("me", caller["id"]):
            raise bad_request("Only me or the person ID of the current user may be given.")
        items = [m for m in items if caller["id"] in m.get("mentionedPeople", [])]
    if call.param("before"):
        items = [m for m in items if m["created"] < str(call.param("before"))]
    before_message = call.param("beforeMessage")
    if before_message:
        anchor = visible_message(call, before_message)
        items = [m for m in items if m["created"] < anchor["created"]]
    return page(call, [public_message(m) for m in items], 50, 100)


def list_direct(call: Call) -> Any:
    """``GET /messages/direct?personId=|personEmail=``: the 1:1 space's messages."""
    other = (call.state.people.get(call.param("personId") or "")
             or call.state.person_by_email(call.param("personEmail") or ""))
    if other is None:
        raise bad_request("personId or personEmail is required.")
    wanted = {call.grant.person_id, other["id"]}
    rooms = {r["id"] for r in call.state.rooms.values()
             if r["type"] == "direct" and members(call.state, r["id"]) == wanted}
    items = sorted((m for m in call.state.messages.values() if m["roomId"] in rooms),
                   key=lambda m: m["created"], reverse=True)
    return page(call, [public_message(m) for m in items], 50, 100)


MAX_EDITS = 10
"""Webex: "Update a message you have posted not more than 10 times"."""


def edit(call: Call) -> dict[str, Any]:
    """``PUT /messages/{messageId}``: the sender changes ``text``/``markdown`` (``roomId``
    required; no files or cards; no ``html`` in the body; at most 10 edits)."""
    message = visible_message(call, call.path_params["messageId"])
    if message["personId"] != call.grant.person_id:
        raise forbidden("Only the sender can edit a message.")
    body = call.json_body()
    if body.get("roomId") != message["roomId"]:
        raise bad_request("roomId is required and must be the message's room.")
    if "html" in body:
        raise bad_request("Remove the html attribute before editing a message.")
    if message.get("files") or message.get("attachments"):
        raise bad_request("Editing messages with files or attachments is currently "
                          "unsupported.")
    if not any(isinstance(body.get(k), str) and body[k] for k in ("text", "markdown")):
        raise bad_request("text or markdown is required.")
    if message.get("_edits", 0) >= MAX_EDITS:
        raise bad_request("The edit limit of this message has been reached.")
    for name in ("text", "markdown"):
        if body.get(name) is not None and len(str(body[name]).encode()) > MAX_BYTES:
            raise bad_request(f"{name} must be a string of at most {MAX_BYTES} bytes.")
    for name in ("text", "markdown", "html", "mentionedPeople"):
        message.pop(name, None)
    if body.get("markdown"):
        plain, rendered = render_markdown(body["markdown"])
        message.update({"text": body.get("text") or plain, "markdown": body["markdown"],
                        "html": rendered})
        mentioned = mentions(call.state, body["markdown"])
        if mentioned:
            message["mentionedPeople"] = mentioned
    else:
        message["text"] = body["text"]
    message["_edits"] = message.get("_edits", 0) + 1
    message["updated"] = iso(call.state.clock.now())
    fire(call.state, "messages", "updated", {"id": message["id"], "roomId": message["roomId"]},
         call.grant.person_id, members(call.state, message["roomId"]))
    return public_message(message)


def delete(call: Call) -> None:
    """``DELETE /messages/{messageId}``: 204; only the sender or a moderator."""
    message = visible_message(call, call.path_params["messageId"])
    moderator = any(m["roomId"] == message["roomId"] and m["personId"] == call.grant.person_id
                    and m["isModerator"] for m in call.state.memberships.values())
    if message["personId"] != call.grant.person_id and not moderator:
        raise forbidden("Only the sender or a moderator can delete a message.")
    del call.state.messages[message["id"]]
    fire(call.state, "messages", "deleted", {"id": message["id"], "roomId": message["roomId"]},
         call.grant.person_id, members(call.state, message["roomId"]))


ROUTES: list[Route] = [
    route("POST", "/v1/messages", WRITE, create),
    route("GET", "/v1/messages", READ, list_messages),
    route("GET", "/v1/messages/direct", READ, list_direct),
    route("GET", "/v1/messages/{messageId}", READ, get),
    route("PUT", "/v1/messages/{messageId}", WRITE, edit),
    route("DELETE", "/v1/messages/{messageId}", WRITE, delete),
]
