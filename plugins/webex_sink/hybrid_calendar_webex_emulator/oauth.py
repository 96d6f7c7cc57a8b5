"""OAuth: ``/v1/authorize``, ``/v1/access_token`` and Service App tokens.

- ``GET /v1/authorize?client_id&response_type=code&redirect_uri&scope&state`` answers 302
  to ``redirect_uri?code=...&state=...`` (developer.webex.com/docs/integrations). There is
  no login page: the consenting person is the emulator-only ``email`` parameter (default:
  the administrator). Admin scopes are granted only to administrators.
- ``POST /v1/access_token`` (form): ``grant_type=authorization_code`` (``client_id``,
  ``client_secret``, ``code``, ``redirect_uri``) or ``refresh_token`` (``client_id``,
  ``client_secret``, ``refresh_token``) for integrations and Service Apps alike; answers
  ``{access_token, expires_in, refresh_token, refresh_token_expires_in, token_type, scope}``.
  The refresh token is kept, its ``refresh_token_expires_in`` counts down.
- ``POST /v1/applications/{applicationId}/token`` (JSON ``clientId``, ``clientSecret``,
  ``targetOrgId``) with a token carrying ``spark:applications_token``
  (developer.webex.com/admin/docs/api/v1/service-apps): 403 until a full administrator
  authorised the app in the organisation, 404 for an unknown app.
"""

from __future__ import annotations

import secrets
import urllib.parse
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from hybrid_calendar_webex_emulator.auth import AuthCode, RefreshGrant
from hybrid_calendar_webex_emulator.dispatch import ApiResponse, Call, Route, route
from hybrid_calendar_webex_emulator.errors import ApiError, bad_request, forbidden, not_found

if TYPE_CHECKING:
    from hybrid_calendar_webex_emulator.state import WebexState

ADMIN_ONLY_PREFIXES = ("spark-admin:", "meeting:admin_", "spark:applications_token")


def _error(status: int, message: str) -> ApiError:
    return ApiError(status, message)


def authorize(state: WebexState, params: dict[str, str]) -> ApiResponse:
    """``GET /v1/authorize``: consent at once and redirect with a code."""
    with state.lock:
        integration = state.tokens.integrations.get(params.get("client_id", ""))
        if integration is None:
            raise bad_request("Invalid client_id.")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in integration.redirect_uris:
            raise bad_request("redirect_uri does not match the integration's redirect URIs.")
        if params.get("response_type") != "code":
            return _redirect(redirect_uri, {"error": "unsupported_response_type",
                                            "state": params.get("state")})
        wanted = params.get("scope", "").split()
        if not wanted or not set(wanted) <= set(integration.scopes):
            return _redirect(redirect_uri, {"error": "invalid_scope",
                                            "state": params.get("state")})
        person = state.person_by_email(params.get("email") or state.settings.admin)
        if person is None or person["type"] != "person":
            return _redirect(redirect_uri, {"error": "access_denied",
                                            "state": params.get("state")})
        scopes = frozenset(s for s in wanted
                           if "full_admin" in person["roles"]
                           or not s.startswith(ADMIN_ONLY_PREFIXES))
        code = AuthCode(secrets.token_urlsafe(32), integration.client_id, redirect_uri,
                        person["id"], scopes, state.clock.now() + timedelta(minutes=10))
        state.tokens.codes[code.code] = code
        return _redirect(redirect_uri, {"code": code.code, "state": params.get("state")})


def _redirect(uri: str, query: dict[str, str | None]) -> ApiResponse:
    pairs = urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
    return ApiResponse(302, b"", {"Location": uri + ("&" if "?" in uri else "?") + pairs})


def _client_secret(state: WebexState, client_id: str) -> tuple[str | None, str]:
    """``(secret, kind)`` of an integration or Service App client."""
    integration = state.tokens.integrations.get(client_id)
    if integration is not None:
        return integration.client_secret, "user"
    app = state.tokens.service_app_by_client(client_id)
    return (app.client_secret, "serviceApp") if app is not None else (None, "user")


def access_token(state: WebexState, form: dict[str, str]) -> ApiResponse:
    """``POST /v1/access_token``."""
    with state.lock:
        client_id = form.get("client_id", "")
        secret, kind = _client_secret(state, client_id)
        if secret is None or not secrets.compare_digest(secret, form.get("client_secret", "")):
            raise _error(401, "Invalid client_id or client_secret.")
        now = state.clock.now()
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            code = state.tokens.codes.pop(form.get("code", ""), None)
            if (code is None or code.client_id != client_id or code.expires_at <= now
                    or code.redirect_uri != form.get("redirect_uri")):
                raise bad_request("The authorization code is invalid, expired or was "
                                  "issued to another client or redirect_uri.")
            access, refresh = state.tokens.issue_pair(
                code.person_id, code.scopes, now, state.settings.access_token_ttl,
                state.settings.refresh_token_ttl, client_id)
            return token_response(access.token, state.settings.access_token_ttl, refresh,
                                  now)
        if grant_type == "refresh_token":
            refresh_grant = state.tokens.refresh.get(form.get("refresh_token", ""))
            if (refresh_grant is None or refresh_grant.revoked
                    or refresh_grant.client_id != client_id
                    or refresh_grant.expires_at <= now):
                raise bad_request("The refresh token provided is expired, revoked, "
                                  "malformed, or invalid.")
            if kind == "serviceApp":
                app = state.tokens.service_app_by_client(client_id)
                if app is None or not app.authorized:
                    raise _error(401, "The Service App is not authorized.")
            ttl = (state.settings.service_app_token_ttl if kind == "serviceApp"
                   else state.settings.access_token_ttl)
            access = state.tokens.issue(refresh_grant.person_id, refresh_grant.scopes,
                                        now + timedelta(seconds=ttl), kind=refresh_grant.kind,
                                        client_id=client_id)
            return token_response(access.token, ttl, refresh_grant, now)
        raise bad_request("grant_type must be authorization_code or refresh_token.")


def token_response(access: str, ttl: int, refresh: RefreshGrant, now: Any) -> ApiResponse:
    """Webex's token answer."""
    return ApiResponse.json(200, {
        "access_token": access, "expires_in": ttl, "refresh_token": refresh.token,
        "refresh_token_expires_in": int((refresh.expires_at - now).total_seconds()),
        "token_type": "Bearer", "scope": " ".join(sorted(refresh.scopes))})


def application_token(call: Call) -> ApiResponse:
    """``POST /v1/applications/{applicationId}/token``."""
    state = call.state
    app = state.tokens.service_apps.get(call.path_params["applicationId"])
    if app is None:
        raise not_found()
    body = call.json_body()
    if body.get("clientId") != app.client_id or not secrets.compare_digest(
            app.client_secret, str(body.get("clientSecret", ""))):
        raise bad_request("Invalid clientId or clientSecret.")
    if body.get("targetOrgId") != state.org_id:
        raise forbidden("The Service App is not authorized in the target organization.")
    if not app.authorized:
        raise forbidden("The Service App is not authorized in the target organization.")
    now = state.clock.now()
    access, refresh = state.tokens.issue_pair(
        app.person_id, frozenset(app.scopes), now, state.settings.service_app_token_ttl,
        state.settings.refresh_token_ttl, app.client_id, kind="serviceApp")
    return token_response(access.token, state.settings.service_app_token_ttl, refresh, now)


ROUTES: list[Route] = [
    route("POST", "/v1/applications/{applicationId}/token", ("spark:applications_token",),
          application_token),
]
