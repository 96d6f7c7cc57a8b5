"""The OpenAPI description of the Webex sink's route (hook ``describe_routes``): the
webhook receiver ``POST /webhooks/webex/{org_id}`` (:mod:`.webhooks`)."""

from __future__ import annotations

from typing import Any

from hybrid_calendar.admin.openapi import json_body, no_content, path_param
from hybrid_calendar_webex.webhooks import PATH


def webhook_operation() -> dict[str, Any]:
    """``POST /webhooks/webex/{org_id}``: what Webex sends and every answer."""
    return {
        "summary": "Webex webhook event (Join card actions, meeting and Service App "
                   "changes)",
        "description": "Sent by Webex to the webhooks the gateway registered at start-up; "
                       "X-Spark-Signature is the HMAC-SHA1 of the body under the "
                       "webhook's secret.",
        "security": [],
        "parameters": [path_param("org_id"),
                       {"name": "X-Spark-Signature", "in": "header", "required": False,
                        "schema": {"type": "string"}}],
        "requestBody": json_body({"type": "object"}),
        "responses": {
            **no_content(204, "Accepted; handled in the background"),
            **no_content(400, "The body is not a JSON object"),
            **no_content(401, "Wrong or missing signature"),
            **no_content(404, "No webhook of this organisation registered by this "
                              "gateway"),
        },
    }


def routes() -> list[tuple[str, str, dict[str, Any]]]:
    """``(path, method, operation)`` of every route the plugin registers."""
    return [(PATH, "post", webhook_operation())]
