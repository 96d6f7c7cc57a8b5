"""Webex webhooks: registered at start-up, received at ``POST /webhooks/webex/{org}``.

At start-up (when the gateway has a public URL and Webex credentials), each
organisation's identity replaces the gateway's webhooks (same name and target) with two
fresh ones carrying the organisation's random secret (made once, kept in the store as
:data:`SECRET_NAME`, so every process behind one public URL verifies with it):

* ``serviceApp`` (``all``): ``deauthorized`` puts the organisation in an error state with
  the reason (``/readyz`` ``services``, keyword notes) and forgets its stored token pair;
  ``authorized`` clears it;
* ``meetings`` (``all``, ``ownedBy: org``): ``updated`` and ``deleted`` are reconciled with
  the calendar (:mod:`.reconcile`).

The receiver checks, before any write or outbound call: a known organisation (else 404),
``X-Spark-Signature`` = hex HMAC-SHA1 of the raw body keyed with that organisation's
secret, compared in constant time (else 401), a JSON object (else 400). It answers 204
and does the work after answering, so Webex never waits on the gateway.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hybrid_calendar.errors import GatewayError
from hybrid_calendar_webex import reconcile
from hybrid_calendar_webex.context import context
from hybrid_calendar_webex.tokens import ORG_SECRET_NAME

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)

NAME = "hybrid-calendar gateway"
PATH = "/webhooks/webex/{org_id}"
SECRET_NAME = "webex_webhook_secret"
"""Organisation secret (encrypted at rest) holding the webhooks' signing secret."""
DEAUTHORIZED = ("the Webex Service App was de-authorised in Control Hub: a full "
                "administrator must authorise it again")


def target_url(gateway: Gateway, org_id: str) -> str:
    """Where Webex posts this organisation's events."""
    base = str(gateway.config.get("gateway", "public_url")).rstrip("/")
    return base + PATH.format(org_id=org_id)


async def register(gateway: Gateway, org_id: str) -> int:
    """Replace this organisation's gateway webhooks with fresh ones; returns how many."""
    ctx = context(gateway)
    client = ctx.client(gateway, org_id)
    target = target_url(gateway, org_id)
    existing = await client.call("GET", "/webhooks", params={"max": 100}) or {}
    for hook in existing.get("items") or []:
        if hook.get("name") == NAME and hook.get("targetUrl") == target:
            await client.call("DELETE", f"/webhooks/{hook['id']}")
    secret = await _shared_secret(gateway, org_id)
    ctx.webhook_secrets[org_id] = secret
    made = 0
    for resource, extra in (("serviceApp", {}), ("meetings", {"ownedBy": "org"})):
        await client.call("POST", "/webhooks", json={
            "name": NAME, "targetUrl": target, "resource": resource, "event": "all",
            "secret": secret, **extra})
        made += 1
    return made


async def _shared_secret(gateway: Gateway, org_id: str) -> str:
    """The organisation's webhook secret, the same for every gateway process on the
    store: each start-up replaces the webhooks (same name and target), so a secret of
    this process's own would leave the other processes behind the same public URL
    refusing every delivery (401) until Webex deactivates the webhooks."""
    secret = await gateway.store.get_org_secret(org_id, SECRET_NAME)
    if not secret:  # made once, atomically: processes starting together keep one
        fresh = secrets.token_hex(32)
        secret = await gateway.store.update_org_secret(
            org_id, SECRET_NAME, lambda current: None if current else fresh)
    assert secret
    return secret


def route(gateway: Gateway) -> Route:
    """The Starlette route receiving Webex webhooks."""

    async def receive(request: Request) -> Response:
        org_id = request.path_params["org_id"]
        secret = context(gateway).webhook_secrets.get(org_id)
        if secret is None:
            return Response(status_code=404)
        body = await request.body()
        expected = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Spark-Signature", "")):
            return Response(status_code=401)
        try:
            event = json.loads(body)
        except ValueError:
            return Response(status_code=400)
        if not isinstance(event, dict):
            return Response(status_code=400)
        task = asyncio.get_running_loop().create_task(handle(gateway, org_id, event))
        context(gateway).tasks.add(task)
        task.add_done_callback(context(gateway).tasks.discard)
        return Response(status_code=204)

    return Route(PATH, receive, methods=["POST"])


async def handle(gateway: Gateway, org_id: str, event: dict[str, Any]) -> None:
    """Act on one verified webhook event (never raises)."""
    ctx = context(gateway)
    resource, name = event.get("resource"), event.get("event")
    raw = event.get("data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    try:
        if resource == "serviceApp" and name == "deauthorized":
            ctx.health[org_id] = DEAUTHORIZED
            log.warning("webex: organisation %s: %s", org_id, DEAUTHORIZED)
            await gateway.store.put_org_secret(org_id, ORG_SECRET_NAME, "")
            ctx.clients.pop(org_id, None)  # its cached token is revoked
        elif resource == "serviceApp" and name == "authorized":
            ctx.health[org_id] = None
            log.info("webex: organisation %s: Service App authorised again", org_id)
        elif resource == "meetings" and name in ("updated", "deleted"):
            await reconcile.reconcile(gateway, org_id, str(name), data)
    except GatewayError as err:
        log.warning("webex %s %s webhook of organisation %s not handled: %s", resource,
                    name, org_id, err)
    except Exception:
        log.exception("webex %s %s webhook of organisation %s failed", resource, name,
                      org_id)
