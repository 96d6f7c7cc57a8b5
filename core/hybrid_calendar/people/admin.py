"""The administrator's API for personal access (admin credentials and audit, as every
admin route: ``hybrid_calendar.admin.guard``).

* ``POST /api/v1/users/{id}/access`` ``{"kind": "token"|"link", "audience":
  "person"|"room", "days": N, "label": "..."}`` — issue a token or a sign-in link; the
  secret (and the link's URL) is in the answer, once, and never stored.
* ``GET /api/v1/users/{id}/access`` — the user's grants (no secrets).
* ``DELETE /api/v1/users/{id}/access`` — revoke every grant of the user.
* ``DELETE /api/v1/access/{access_id}`` — revoke one grant (and sessions made from it).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hybrid_calendar.admin.guard import guarded
from hybrid_calendar.models import User
from hybrid_calendar.people import access
from hybrid_calendar.people.db import json_object

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway


def sign_in_url(gateway: Gateway, secret: str) -> str:
    """The address a sign-in link's secret is opened at."""
    base = str(gateway.config.get("gateway", "public_url")).rstrip("/")
    return f"{base}/me/sign-in?code={secret}"


def default_ttl(gateway: Gateway, kind: str) -> timedelta:
    """``people.token_days`` for tokens, ``people.link_minutes`` for sign-in links."""
    if kind == "link":
        return timedelta(minutes=float(gateway.config.get("people", "link_minutes")))
    return timedelta(days=float(gateway.config.get("people", "token_days")))


async def issue_for(gateway: Gateway, user: User, kind: str, audience: str,
                    days: float | None, label: str) -> dict[str, Any]:
    """Issue a grant and describe it with its secret (shared by the API and the CLI)."""
    ttl = default_ttl(gateway, kind) if days is None else timedelta(days=days)
    issued = await access.issue(gateway, user.id, kind=kind, audience=audience, ttl=ttl,
                                label=label)
    answer = issued.access.as_json()
    answer["secret"] = issued.secret
    if kind == "link":
        answer["url"] = sign_in_url(gateway, issued.secret)
    return answer


def access_admin_routes(gateway: Gateway) -> list[BaseRoute]:
    """Admin routes for issuing, listing and revoking personal access."""

    async def user_or_404(request: Request) -> User:
        user = await gateway.store.get_user(request.path_params["user_id"])
        if user is None:
            raise HTTPException(404, "no such user")
        return user

    async def issue(request: Request) -> Response:
        user = await user_or_404(request)
        try:
            data = json_object(await request.json()) if await request.body() else {}
        except (ValueError, RecursionError):  # RecursionError: nested too deep
            raise HTTPException(400, "body must be JSON") from None
        kind, audience = str(data.get("kind", "token")), str(data.get("audience", "person"))
        if kind not in ("token", "link") or audience not in access.AUDIENCES:
            raise HTTPException(400, "kind must be token or link; audience person or room")
        days = data.get("days")
        if days is not None and (not isinstance(days, int | float) or isinstance(days, bool)
                                 or not 0 < days <= 366):
            raise HTTPException(400, "days must be a number between 0 and 366")
        answer = await issue_for(gateway, user, kind, audience,
                                 None if days is None else float(days),
                                 str(data.get("label", "")))
        return JSONResponse(answer, status_code=201, headers={"Cache-Control": "no-store"})

    async def listing(request: Request) -> Response:
        user = await user_or_404(request)
        grants = await access.list_for_user(gateway, user.id)
        return JSONResponse({"access": [g.as_json() for g in grants]})

    async def revoke_all(request: Request) -> Response:
        user = await user_or_404(request)
        return JSONResponse({"revoked": await access.revoke_user(gateway, user.id)})

    async def revoke_one(request: Request) -> Response:
        if not await access.revoke(gateway, request.path_params["access_id"]):
            raise HTTPException(404, "no such access")
        return JSONResponse({"revoked": request.path_params["access_id"]})

    return [
        Route("/api/v1/users/{user_id}/access", guarded(gateway, issue, "access.issue"),
              methods=["POST"]),
        Route("/api/v1/users/{user_id}/access", guarded(gateway, listing, "access.list"),
              methods=["GET"]),
        Route("/api/v1/users/{user_id}/access",
              guarded(gateway, revoke_all, "access.revoke_all"), methods=["DELETE"]),
        Route("/api/v1/access/{access_id}", guarded(gateway, revoke_one, "access.revoke"),
              methods=["DELETE"]),
    ]
