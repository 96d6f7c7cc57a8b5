"""The start-up check of the Webex identity: can it make meetings for the organisation?

For each organisation the token is obtained (fetched, refreshed or read from the store)
and the scopes Webex granted are compared with :data:`~.settings.REQUIRED_SCOPES`. The
outcome per organisation is kept in the context's ``health`` (``None``: healthy, else the
reason) and logged; missing optional scopes (room bookings, personal assistant) are
logged as warnings. A failure never stops the gateway: keyword meetings then get a
refusal note, and the reason is reported.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from hybrid_calendar.errors import GatewayError
from hybrid_calendar_webex import webhooks
from hybrid_calendar_webex.context import context
from hybrid_calendar_webex.errors import WebexScopeError
from hybrid_calendar_webex.settings import OPTIONAL_SCOPES, REQUIRED_SCOPES

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)


async def check_organisation(gateway: Gateway, org_id: str) -> str | None:
    """``None`` when the organisation's Webex identity has what it needs, else why not."""
    ctx = context(gateway)
    if not ctx.configured:
        return "no Webex credentials configured (webex.service_app_id or webex.access_token)"
    client = ctx.client(gateway, org_id)
    try:
        scopes = await client.tokens.scopes()
        # ask who the token is: a static token says nothing else, and a stored pair's
        # scopes do not prove Webex still accepts it (revoked while the gateway was
        # down). A 403 here is a token Webex accepted.
        with contextlib.suppress(WebexScopeError):
            await client.call("GET", "/people/me")
        if scopes is None:
            return None
    except GatewayError as err:
        return f"Webex token not usable: {err}"
    missing = [s for s in REQUIRED_SCOPES if s not in scopes]
    optional = [s for s in OPTIONAL_SCOPES if s not in scopes]
    if optional:
        log.warning("Webex identity of organisation %s lacks optional scopes %s (room "
                    "bookings or personal assistant will be refused)", org_id,
                    ", ".join(optional))
    if missing:
        return "Webex identity lacks required scopes: " + ", ".join(missing)
    return None


def health(gateway: Gateway) -> dict[str, str | None]:
    """Per organisation checked: ``None`` when healthy, else the reason."""
    ctx = context(gateway)
    if not ctx.configured:
        return {"*": "no Webex credentials configured (webex.service_app_id or "
                     "webex.access_token)"}
    return dict(ctx.health)


async def check_at_startup(gateway: Gateway) -> None:
    """Check every organisation; keep and log the outcome."""
    ctx = context(gateway)
    if not ctx.configured:
        log.warning("webex: no Webex credentials configured; @webex keywords get a note "
                    "and no Join cards or presence are delivered")
        return
    for org in await gateway.store.list_organisations():
        reason = await check_organisation(gateway, org.id)
        ctx.health[org.id] = reason
        if reason:
            log.warning("webex: organisation %s: %s", org.id, reason)
            continue
        if ctx.settings["webhooks"]:
            try:
                await webhooks.register(gateway, org.id)
            except GatewayError as err:
                log.warning("webex: organisation %s: webhooks not registered: %s", org.id,
                            err)
