"""Out-of-office presence through the Webex Calling personal assistant.

Webex has no public API to set a person's status (``status: OutOfOffice`` on
``/people`` is read-only). For Webex Calling users the sink sets the personal assistant
(``PUT /telephony/config/people/{personId}/features/personalAssistant``, scope
``spark-admin:telephony_config_write``) to ``presence: OUT_OF_OFFICE`` until the
responder's end, and turns it off when the responder ends. People without Calling (404)
are not served by this sink; the gateway's own API carries their presence.

Idempotent: the current setting is read first and only a different one is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from hybrid_calendar_webex.client import WebexClient


def wanted(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The personal-assistant settings for a presence notification."""
    if payload.get("out_of_office"):
        body: dict[str, Any] = {"enabled": True, "presence": "OUT_OF_OFFICE",
                                "transferEnabled": False}
        if payload.get("until"):
            body["untilDateTime"] = str(payload["until"]).replace("+00:00", "Z")
        return body
    return {"enabled": False, "presence": "NONE"}


async def set_personal_assistant(client: WebexClient, person: str,
                                 payload: Mapping[str, Any]) -> bool:
    """Bring the person's assistant to the wanted state; ``True`` when it was written."""
    path = f"/telephony/config/people/{person}/features/personalAssistant"
    body = wanted(payload)
    current = await client.call("GET", path) or {}
    if all(_same(current.get(k), v) for k, v in body.items()):
        return False
    await client.call("PUT", path, json=body)
    return True


def _same(have: object, want: object) -> bool:
    if isinstance(want, str) and isinstance(have, str) and want.endswith("Z"):
        return have.replace("+00:00", "Z")[:19] == want[:19]
    return have == want
