"""Admin API routes for organisations, users, health and the audit log (``/api/v1``).

Every route is :func:`~hybrid_calendar.admin.guard.guarded`: reads need any role, changes
need ``admin``, each change is audited. The OpenAPI document (``/openapi.json``,
:mod:`.openapi`) describes each route; a test checks the two agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hybrid_calendar import logs
from hybrid_calendar.admin import users as user_admin
from hybrid_calendar.admin.audit import audit_page
from hybrid_calendar.admin.errors import ConflictError
from hybrid_calendar.admin.guard import guarded, principal_of
from hybrid_calendar.admin.health import user_health
from hybrid_calendar.admin.org_setup import (
    create_organisation,
    organisation_from,
    organisation_json,
)
from hybrid_calendar.admin.reasons import split_reason
from hybrid_calendar.errors import ConfigError
from hybrid_calendar.models import Organisation, User

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

MAX_BODY = 1_000_000


def coded_error(status: int, code: str, message: str) -> JSONResponse:
    """The gateway's error body with a stable ``code``."""
    return JSONResponse({"error": {"code": code, "message": message,
                                   "request_id": logs.request_id.get()}}, status_code=status)


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or 400."""
    try:
        data = await request.json()
    except (ValueError, RecursionError):  # nested too deep: whatever its Content-Type says
        raise HTTPException(400, "body must be JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "body must be a JSON object")
    return data


def admin_routes(gateway: Gateway) -> list[BaseRoute]:
    """The organisation, user, health and audit routes."""

    async def org_or_404(request: Request) -> Organisation:
        org = await gateway.store.get_organisation(request.path_params["org_id"])
        if org is None:
            raise HTTPException(404, "no such organisation")
        return org

    async def user_or_404(request: Request) -> User:
        user = await gateway.store.get_user(request.path_params["user_id"])
        if user is None:
            raise HTTPException(404, "no such user")
        return user

    async def list_orgs(request: Request) -> Response:
        orgs = await gateway.store.list_organisations()
        return JSONResponse({"organisations": [organisation_json(o) for o in orgs]})

    async def create_org(request: Request) -> Response:
        data = await json_object(request)
        domains = data.get("domains", [data.get("domain", "")])
        if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
            raise HTTPException(400, "domains must be a list of domain names")
        try:
            org = organisation_from(str(data.get("id", "")), str(data.get("name") or ""),
                                    domains)
            await create_organisation(gateway, org)
        except ConfigError as err:
            raise HTTPException(400, str(err)) from None
        except ConflictError as err:
            raise HTTPException(409, str(err)) from None
        return JSONResponse(organisation_json(org), status_code=201)

    async def get_org(request: Request) -> Response:
        return JSONResponse(organisation_json(await org_or_404(request)))

    async def add_users(request: Request) -> Response:
        org = await org_or_404(request)
        data = await json_object(request)
        emails = data.get("emails", [data.get("email", "")])
        if not isinstance(emails, list) or not emails or len(emails) > 1000 \
                or not all(isinstance(e, str) for e in emails):
            raise HTTPException(400, "email (a string) or emails (1-1000 strings) required")
        outcomes = await user_admin.activate_addresses(
            gateway, org, emails, mark_verified=data.get("mark_verified") is True)
        request.state.audit_details = {"accepted": sum(o.accepted for o in outcomes),
                                       "refused": sum(not o.accepted for o in outcomes)}
        if "email" in data and "emails" not in data:
            only = outcomes[0]
            if not only.accepted:
                return coded_error(422, str(only.code), str(only.reason))
            assert only.user is not None
            return JSONResponse(user_admin.user_json(only.user), status_code=202)
        return JSONResponse({"results": [o.as_json() for o in outcomes]}, status_code=202)

    async def import_users(request: Request) -> Response:
        org = await org_or_404(request)
        body = await request.body()
        if len(body) > MAX_BODY:
            raise HTTPException(413, "CSV too large (1 MB at most)")
        try:
            emails = user_admin.read_addresses_csv(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            raise HTTPException(400, "body must be UTF-8 CSV text") from None
        outcomes = await user_admin.activate_addresses(gateway, org, emails)
        request.state.audit_details = {"accepted": sum(o.accepted for o in outcomes),
                                       "refused": sum(not o.accepted for o in outcomes)}
        return JSONResponse({"results": [o.as_json() for o in outcomes]}, status_code=202)

    async def list_users(request: Request) -> Response:
        org = await org_or_404(request)
        return JSONResponse({"users": await user_admin.user_rows(gateway, org.id)})

    async def activate_user(request: Request) -> Response:
        user = await user_or_404(request)
        user = await user_admin.validate_user_again(gateway, user)
        return JSONResponse(user_admin.user_json(user), status_code=202)

    async def validate_user(request: Request) -> Response:
        return await activate_user(request)

    async def deactivate_user(request: Request) -> Response:
        user = await user_admin.deactivate_user(gateway, await user_or_404(request))
        return JSONResponse(user_admin.user_json(user), status_code=202)

    async def health(request: Request) -> Response:
        user = await user_or_404(request)
        channels = await gateway.store.list_channels(user_id=user.id)
        expiry = max((c.expires_at for c in channels), default=None)
        code, _words = split_reason(user.reason)
        return JSONResponse({"user_id": user.id, "state": str(user.state),
                             "reason_code": code,
                             "channel_expires_at": expiry.isoformat() if expiry else None,
                             **await user_health(gateway, user.id)})

    async def audit_log(request: Request) -> Response:
        try:
            before = int(request.query_params["before"]) \
                if "before" in request.query_params else None
            limit = int(request.query_params.get("limit", "50"))
        except ValueError:
            raise HTTPException(400, "before and limit must be integers") from None
        if limit < 1 or limit > 200:
            raise HTTPException(400, "limit must be between 1 and 200")
        if before is not None and not 0 <= before < 2**63:
            raise HTTPException(400, "before must be an audit entry id")
        return JSONResponse(await audit_page(gateway, before=before, limit=limit))

    async def whoami(request: Request) -> Response:
        principal = principal_of(request)
        return JSONResponse({"name": principal.name, "role": str(principal.role)})

    def route(path: str, endpoint: Any, method: str) -> Route:
        return Route(path, guarded(gateway, endpoint), methods=[method])

    return [
        route("/api/v1/whoami", whoami, "GET"),
        route("/api/v1/organisations", list_orgs, "GET"),
        route("/api/v1/organisations", create_org, "POST"),
        route("/api/v1/organisations/{org_id}", get_org, "GET"),
        route("/api/v1/organisations/{org_id}/users", list_users, "GET"),
        route("/api/v1/organisations/{org_id}/users", add_users, "POST"),
        route("/api/v1/organisations/{org_id}/users/import", import_users, "POST"),
        route("/api/v1/users/{user_id}/activate", activate_user, "POST"),
        route("/api/v1/users/{user_id}/validate", validate_user, "POST"),
        route("/api/v1/users/{user_id}/deactivate", deactivate_user, "POST"),
        route("/api/v1/users/{user_id}/health", health, "GET"),
        route("/api/v1/audit", audit_log, "GET"),
    ]
