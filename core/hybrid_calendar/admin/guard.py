"""The admin API's door: who is asking, may they, and the audit entry of every change.

:func:`guarded` wraps an endpoint: the credential is checked (:mod:`.credentials`); a
client address with too many refused sign-ins for one credential name gets ``429`` with
``Retry-After`` until its window passes, counted in the store so that every process of
the database shares the count (:class:`FailedAttempts`); reads (``GET``) need
any role, changes need ``admin`` (``403`` for an auditor); every change and every refused
sign-in is written to the audit log (:mod:`.audit`) with the credential's name and the
client address.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from hybrid_calendar.admin import audit
from hybrid_calendar.admin.credentials import Principal, authenticate, parse_authorization

if TYPE_CHECKING:
    from datetime import datetime

    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.store.base import Store

Endpoint = Callable[[Request], Awaitable[Response]]
STATE_KEY = "admin.failed_attempts"
READS = frozenset({"GET", "HEAD"})


class FailedAttempts:
    """Refused sign-ins per key (client address and credential name) in a sliding window,
    counted in the store, so every gateway process of a database shares one count.

    Each key is a budget of the store (:meth:`~hybrid_calendar.store.base.Store.take_budget`,
    named ``admin-sign-in:<sha256 of the key>``, never the address or name itself): a
    refusal takes one unit, and a key whose budget is spent is answered ``429`` until the
    oldest refusal leaves the window (the store counts sixths of the window, so that is
    up to a sixth later than an exact window would say). Within a process the attempts
    of one key are taken one at a time (:meth:`serialized`), so concurrent guesses
    cannot all pass the check before the first refusal is counted.

    :param store: the store every process shares.
    :param limit: refusals allowed per window; the next attempt is answered ``429``.
    :param window: seconds a refusal counts.
    """

    STRIPES = 64
    """Locks the keys are spread over (bounded memory whatever the number of keys)."""

    def __init__(self, store: Store, limit: int = 5, window: float = 60.0) -> None:
        self.store = store
        self.limit = limit
        self.window = window
        self._locks = [asyncio.Lock() for _ in range(self.STRIPES)]

    @staticmethod
    def budget_name(key: str) -> str:
        """The store budget counting ``key``'s refusals."""
        return "admin-sign-in:" + hashlib.sha256(key.encode()).hexdigest()

    def serialized(self, key: str) -> asyncio.Lock:
        """The lock this process holds while checking one attempt of ``key``."""
        return self._locks[int(self.budget_name(key)[-8:], 16) % self.STRIPES]

    async def retry_after(self, key: str, now: datetime) -> float | None:
        """Seconds ``key`` must wait, or ``None`` if it may try."""
        name = self.budget_name(key)
        use = (await self.store.read_budgets([name], self.window, now))[name]
        if use.used < self.limit:
            return None
        return max(1.0, use.frees_in)

    async def refused(self, key: str, now: datetime) -> None:
        """Count one refused sign-in (a key already at its limit stays there)."""
        await self.store.take_budget(self.budget_name(key), 1, self.limit, self.window, now)


def client_address(request: Request) -> str:
    """The client's address as the server saw it."""
    return request.client.host if request.client else "unknown"


def principal_of(request: Request) -> Principal:
    """The principal :func:`guarded` authenticated for this request."""
    principal: Principal = request.state.principal
    return principal


async def sign_in(gateway: Gateway, request: Request) -> Principal | None:
    """The principal the request's credentials prove, or ``None`` (the refusal counted
    and audited).

    :raises HTTPException: ``429`` with ``Retry-After`` while the client address has too
        many refused sign-ins for the credential name.
    """
    attempts = gateway.state.get_or_create(STATE_KEY, FailedAttempts,
                                           lambda: FailedAttempts(gateway.store))
    source = client_address(request)
    header = request.headers.get("authorization", "")
    # Counted per client address and credential name: guessing one name's secret does
    # not lock out another credential used from the same address.
    key = f"{source} {(parse_authorization(header) or ('', ''))[0]}"
    async with attempts.serialized(key):
        now = gateway.clock.now()
        wait = await attempts.retry_after(key, now)
        if wait is not None:
            raise HTTPException(429, "too many refused sign-ins from this address; try "
                                     "again later",
                                headers={"Retry-After": str(math.ceil(wait))})
        principal = await authenticate(gateway, header)
        if principal is None:
            await attempts.refused(key, now)
    if principal is None:
        await audit.record(gateway, actor="(unknown)", action="sign-in", source=source,
                           outcome="refused", details={"path": request.url.path})
    return principal


def guarded(gateway: Gateway, endpoint: Endpoint, action: str | None = None) -> Endpoint:
    """Wrap ``endpoint`` with authentication, roles, rate limiting and auditing."""
    name = action or endpoint.__name__.replace("_", ".")

    async def wrapper(request: Request) -> Response:
        source = client_address(request)
        principal = await sign_in(gateway, request)
        if principal is None:
            # The admin page asks with fetch(): a Basic challenge would pop the browser's
            # own sign-in dialog over it, so the page's requests get a Bearer one.
            scheme = "Bearer" if request.headers.get("x-requested-with") else "Basic"
            raise HTTPException(401, "missing or wrong admin credentials",
                                headers={"WWW-Authenticate": f'{scheme} realm="hybrid-calendar"'})
        request.state.principal = principal
        if request.method in READS:
            return await endpoint(request)
        target = "/".join(str(v) for v in request.path_params.values()) or None
        if not principal.may_change():
            await audit.record(gateway, actor=principal.name, action=name, target=target,
                               source=source, outcome="forbidden")
            raise HTTPException(403, f"role {principal.role} may only read")
        try:
            response = await endpoint(request)
        except HTTPException as err:
            await audit.record(gateway, actor=principal.name, action=name, target=target,
                               source=source, outcome=f"http {err.status_code}")
            raise
        details = getattr(request.state, "audit_details", None)
        await audit.record(gateway, actor=principal.name, action=name, target=target,
                           source=source, outcome=f"http {response.status_code}",
                           details=details)
        return response

    wrapper.__name__ = endpoint.__name__
    return wrapper
