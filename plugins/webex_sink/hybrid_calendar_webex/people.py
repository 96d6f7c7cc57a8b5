"""Who has a Webex account: ``GET /people?email=`` (admin people scope), cached.

The cache lives in the gateway's memory for the process (an account found is kept; "no
account" too: a person who gets a Webex account later is found after a restart).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import User
    from hybrid_calendar_webex.client import WebexClient
    from hybrid_calendar_webex.context import WebexContext


async def person_id(gateway: Gateway, ctx: WebexContext, client: WebexClient, user: User
                    ) -> str | None:
    """The Webex person id of ``user``, or ``None`` when Webex knows no such person."""
    key = (user.org_id, user.email.casefold())
    if key in ctx.people:
        return ctx.people[key]
    answer = await client.call("GET", "/people", params={"email": user.email,
                                                         "excludeStatus": "true"})
    items = (answer or {}).get("items") or []
    found = str(items[0]["id"]) if items else None
    ctx.people[key] = found
    return found
