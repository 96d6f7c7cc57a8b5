"""The OpenAPI description of the Google plugin's routes (hook ``describe_routes``):
the push-notification receiver ``POST /webhooks/google`` (:mod:`.webhook`) and the
admin route storing an organisation's service-account key (:mod:`.key_route`)."""

from __future__ import annotations

from typing import Any

from hybrid_calendar.admin.openapi import no_content, plain_errors
from hybrid_calendar_google import key_route
from hybrid_calendar_google.push_checks import MAX_CHANNEL_ID
from hybrid_calendar_google.webhook import WEBHOOK_PATH


def _header(name: str, description: str, max_length: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if max_length is not None:
        schema["maxLength"] = max_length
    return {"name": name, "in": "header", "required": False, "description": description,
            "schema": schema}


def webhook_operation() -> dict[str, Any]:
    """``POST /webhooks/google``: what Google sends and every answer."""
    return {
        "summary": "Google Calendar push notification (a hint: the user is synced)",
        "description": "Sent by Google to the address given in events.watch; checked "
                       "against the stored channel before anything is written.",
        "security": [],
        "parameters": [
            _header("X-Goog-Channel-ID", "the channel's id", MAX_CHANNEL_ID),
            _header("X-Goog-Channel-Token", "the channel's secret token"),
            _header("X-Goog-Resource-ID", "the watched resource"),
            _header("X-Goog-Resource-State", "sync, exists or not_exists"),
            _header("X-Goog-Message-Number", "increases with each message of a channel"),
        ],
        "responses": {
            **no_content(200, "Accepted (a sync is queued), or nothing to do"),
            **plain_errors({400: "X-Goog-Channel-ID missing",
                            403: "Wrong channel token or resource id",
                            404: "Unknown channel",
                            503: "Not ready, or too many notifications on the channel "
                                 "(see Retry-After)"}),
        },
    }


def routes() -> list[tuple[str, str, dict[str, Any]]]:
    """``(path, method, operation)`` of every route the plugin registers."""
    return [(WEBHOOK_PATH, "post", webhook_operation()),
            (key_route.PATH, "put", key_route.key_operation())]
