"""Card submissions: ``/v1/attachment/actions``.

developer.webex.com/docs/api/v1/attachment-actions: a person who sees a message with an
Adaptive Card submits it (``type: submit``, the card's ``inputs``); ``attachmentActions``
``created`` fires with ids only, the inputs are read with ``GET /attachment/actions/{id}``.
"""

from __future__ import annotations

from typing import Any

from hybrid_calendar_webex_emulator.dispatch import Call, Route, route
from hybrid_calendar_webex_emulator.errors import bad_request, not_found
from hybrid_calendar_webex_emulator.messages import READ, WRITE, visible_message
from hybrid_calendar_webex_emulator.rooms import members, visible_room
from hybrid_calendar_webex_emulator.timeutil import iso
from hybrid_calendar_webex_emulator.webhooks import fire


def submit_card(call: Call) -> dict[str, Any]:
    """``POST /attachment/actions``: a card's ``Action.Submit`` (``type: submit``)."""
    body = call.json_body()
    if body.get("type") != "submit":
        raise bad_request("type must be submit.")
    message = visible_message(call, str(body.get("messageId", "")))
    if not message.get("attachments"):
        raise bad_request("The message has no card.")
    inputs = body.get("inputs", {})
    if not isinstance(inputs, dict):
        raise bad_request("inputs must be an object.")
    state = call.state
    action = {"id": state.ids.webex_id("ATTACHMENT_ACTION"), "type": "submit",
              "messageId": message["id"], "inputs": inputs, "personId": call.grant.person_id,
              "roomId": message["roomId"], "created": iso(state.clock.now())}
    state.attachment_actions[action["id"]] = action
    data = {k: v for k, v in action.items() if k != "inputs"}
    fire(state, "attachmentActions", "created", data, call.grant.person_id,
         members(state, message["roomId"]))
    return dict(action)


def get_action(call: Call) -> dict[str, Any]:
    """``GET /attachment/actions/{id}``."""
    action = call.state.attachment_actions.get(call.path_params["actionId"])
    if action is None:
        raise not_found()
    visible_room(call, action["roomId"])
    return dict(action)


ROUTES: list[Route] = [
    route("POST", "/v1/attachment/actions", WRITE, submit_card),
    route("GET", "/v1/attachment/actions/{actionId}", READ, get_action),
]
