"""The admin API's door: who is asking, may they, and the audit entry of every change.

:func:`guarded` wraps an endpoint: the credential is checked (:mod:`.credentials`); a
client address with too many refused sign-ins for one credential name gets ``429`` with
``Retry-After`` until its window passes (:class:`FailedAttempts`); reads (``GET``) need
any role, changes need ``admin`` (``403`` for an auditor); every change and every refused
sign-in is written to the audit log (:mod:`.audit`) with the credential's name and the
client address.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from hybrid_calendar.admin import audit
from hybrid_calendar.admin.credentials import Principal, authenticate, parse_authorization

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

Endpoint = Callable[[Request], Awaitable[Response]]
STATE_KEY = "admin.failed_attempts"
READS = frozenset({"GET", "HEAD"})


@dataclass
class FailedAttempts:
    """Refused sign-ins per key (client address and credential name) in a sliding window
    (in this process).

    :ivar limit: refusals allowed per window; the next attempt is answered ``429``.
    :ivar window: seconds a refusal counts.
    """

    limit: int = 5
    window: float = 60.0
    _seen: dict[str, list[float]] = field(default_factory=dict)

    def retry_after(self, source: str, now: float) -> float | None:
        """Seconds this address must wait, or ``None`` if it may try."""
        recent = [t for t in self._seen.get(source, []) if t > now - self.window]
        self._seen[source] = recent
        if len(recent) < self.limit:
            return None
        return max(1.0, recent[0] + self.window - now)

    def refused(self, source: str, now: float) -> None:
        """Count one refused sign-in."""
        self._seen.setdefault(source, []).append(now)
        if len(self._seen) > 10_000:  # bounded memory under a spray of addresses
            self._seen.pop(next(iter(self._seen)))


def client_address(request: Request) -> str:
    """The client's address as the server saw it."""
    return request.client.host if request.client else "unknown"


def principal_of(request: Request) -> Principal:
    """The principal :func:`guarded` authenticated for this request."""
    principal: Principal = request.state.principal
    return principal


def guarded(gateway: Gateway, endpoint: Endpoint, action: str | None = None) -> Endpoint:
    """Wrap ``endpoint`` with authentication, roles, rate limiting and auditing."""
    name = action or endpoint.__name__.replace("_", ".")

    async def wrapper(request: Request) -> Response:
        attempts = gateway.state.get_or_create(STATE_KEY, FailedAttempts, FailedAttempts)
        source = client_address(request)
        header = request.headers.get("authorization", "")
        # Counted per client address and credential name: guessing one name's secret
        # does not lock out another credential used from the same address.
        key = f"{source} {(parse_authorization(header) or ('', ''))[0]}"
        now = gateway.clock.now().timestamp()
        wait = attempts.retry_after(key, now)
        if wait is not None:
            raise HTTPException(429, "too many refused sign-ins from this address; "
                                     "try again later", headers={"Retry-After": str(int(wait))})
        principal = await authenticate(gateway, header)
        if principal is None:
            attempts.refused(key, now)
            await audit.record(gateway, actor="(unknown)", action="sign-in", source=source,
                               outcome="refused", details={"path": request.url.path})
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
