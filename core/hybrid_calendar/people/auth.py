"""Who is asking: a request's personal secret turned into the one user it may see.

A secret is read from ``Authorization: Bearer hcp_...``, from the session cookie set by a
sign-in link, or (only on routes that allow it, such as the calendar feed, which calendar
apps fetch without headers) from the ``token`` query parameter. The admin token is never a
personal secret. Anything else is 401 with ``WWW-Authenticate: Bearer``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from hybrid_calendar.models import User, UserState
from hybrid_calendar.people import access as access_module
from hybrid_calendar.people.access import Access

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

SESSION_COOKIE = "hc_session"
PERSONAL_KINDS = ("token", "session")

PersonalEndpoint = Callable[[Request, "Principal"], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Principal:
    """The user (or room) a request speaks for, and the grant that proved it."""

    user: User
    access: Access


def presented_secret(request: Request, *, allow_query: bool = False) -> str | None:
    """The personal secret a request carries, if any."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie
    if allow_query:
        return request.query_params.get("token")
    return None


def unauthorized(message: str = "a valid personal access token is required") -> HTTPException:
    """The 401 every personal route answers without a valid secret."""
    return HTTPException(401, message, headers={"WWW-Authenticate": 'Bearer realm="people"'})


async def principal(gateway: Gateway, request: Request, *, allow_query: bool = False
                    ) -> Principal:
    """Authenticate a request; raise 401 unless it carries a live grant of a current user."""
    secret = presented_secret(request, allow_query=allow_query)
    grant = await access_module.authenticate(gateway, secret, kinds=PERSONAL_KINDS)
    if grant is None:
        raise unauthorized()
    user = await _current_user(gateway, grant.user_id)
    if user is None:
        raise unauthorized("this access belongs to a deactivated user")
    return Principal(user, grant)


async def _current_user(gateway: Gateway, user_id: str) -> User | None:
    """The user a grant belongs to, unless deleted or deactivated."""
    user = await gateway.store.get_user(user_id)
    return None if user is None or user.state == UserState.INACTIVE else user


async def still_allowed(gateway: Gateway, who: Principal) -> bool:
    """True while the grant that authenticated a long-lived response (the stream) is live
    and its user not deactivated: revoking or expiring a grant, or deactivating the user,
    ends what it opened as well as its next request."""
    grant = await access_module.get(gateway, who.access.id)
    if grant is None or not access_module.is_live(grant, gateway.clock.now(), PERSONAL_KINDS):
        return False
    return await _current_user(gateway, who.user.id) is not None


def personal(gateway: Gateway, endpoint: PersonalEndpoint, *, allow_query: bool = False
             ) -> Endpoint:
    """Wrap an endpoint so it runs only for an authenticated person, whom it receives."""

    async def wrapper(request: Request) -> Response:
        who = await principal(gateway, request, allow_query=allow_query)
        response = await endpoint(request, who)
        response.headers.setdefault("Cache-Control", "no-store")
        return response
    return wrapper
