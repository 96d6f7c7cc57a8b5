"""``PUT /api/v1/organisations/{org_id}/google-service-account``: ``org init``'s key step
over the admin API.

The body is the service-account key JSON as downloaded from Google Cloud. It is checked
(a JSON object with a readable private key), stored as the organisation's encrypted
``google_service_account`` secret (replacing the previous key), and the organisation's
cached client is dropped so the next call signs with the new key. The answer holds what
``org init`` prints: the client id, the exact scopes and the Admin console steps for
domain-wide delegation. Like every admin change it needs the ``admin`` role and is
audited (never with the key).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hybrid_calendar.admin.guard import guarded
from hybrid_calendar.admin.openapi import json_body, ok, operation, path_param
from hybrid_calendar.errors import ConfigError
from hybrid_calendar_google.auth import ServiceAccount
from hybrid_calendar_google.context import ORG_SECRET_NAME, context
from hybrid_calendar_google.org_init import instructions

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

PATH = "/api/v1/organisations/{org_id}/google-service-account"
MAX_KEY_BYTES = 20_000
"""A service-account key is about 2.3 kB."""


def key_route(gateway: Gateway) -> Route:
    """The route storing an organisation's service-account key."""

    async def put_key(request: Request) -> Response:
        org = await gateway.store.get_organisation(request.path_params["org_id"])
        if org is None:
            raise HTTPException(404, "no such organisation")
        body = await request.body()
        if len(body) > MAX_KEY_BYTES:
            raise HTTPException(400, "a service-account key is a few kB of JSON")
        try:
            info = json.loads(body)
            account = ServiceAccount.from_info(info)
            text = body.decode()  # stored as text: UTF-8 only (json.loads takes UTF-16 too)
        except (ValueError, RecursionError):  # RecursionError: nested too deep
            raise HTTPException(400, "the body is not a JSON service-account key") from None
        except ConfigError as err:  # names what is missing, never the key
            raise HTTPException(400, str(err).removeprefix(f"{err.key}: ")) from None
        await gateway.store.put_org_secret(org.id, ORG_SECRET_NAME, text)
        ctx = context(gateway)
        async with ctx.lock:
            ctx.clients.pop(org.id, None)  # the next call signs with the new key
        scopes = tuple(str(s) for s in ctx.settings["scopes"])
        public_url = str(gateway.config.get("gateway", "public_url"))
        return JSONResponse({"org_id": org.id, "client_id": account.client_id,
                             "scopes": list(scopes),
                             "instructions": instructions(account.client_id, scopes,
                                                          public_url)})

    return Route(PATH, guarded(gateway, put_key, "google.service_account.put"),
                 methods=["PUT"])


def key_operation() -> dict[str, Any]:
    """The route's OpenAPI description."""
    return operation(
        "Store the organisation's Google service-account key (encrypted); answers the "
        "client id, scopes and delegation steps", ok(200, "Stored"), write=True,
        params=[path_param("org_id")], body=json_body({"type": "object", "required": [
            "client_email", "private_key"], "properties": {
                "client_email": {"type": "string"}, "client_id": {"type": "string"},
                "private_key": {"type": "string"}, "token_uri": {"type": "string"}}}))
