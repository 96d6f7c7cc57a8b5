"""Which organisation the current job works for (a context variable), so outbound calls
can be counted against the organisation's quota (:mod:`.metrics`)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

current_org: ContextVar[str | None] = ContextVar("hybrid_calendar_current_org", default=None)
STATE_KEY = "admin.user_orgs"


class UserOrgs(dict[str, str]):
    """User id to organisation id, remembered in this process (a user never moves)."""


async def org_of_user(gateway: Gateway, user_id: str) -> str | None:
    """The organisation of a user (cached), or ``None`` for an unknown user."""
    cache = gateway.state.get_or_create(STATE_KEY, UserOrgs, UserOrgs)
    if user_id not in cache:
        user = await gateway.store.get_user(user_id)
        if user is None:
            return None
        cache[user_id] = user.org_id
    return cache[user_id]
