"""The OAuth 2.0 token endpoint (JWT-bearer grant with domain-wide delegation)."""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

from hybrid_calendar_google_emulator.state import EmulatorState
from hybrid_calendar_google_emulator.token_grants import (
    JWT_BEARER_GRANT,
    TokenError,
    check_claims,
    check_scopes,
    decode_assertion,
)
from hybrid_calendar_google_emulator.users import RequestRecord


def grant_token(state: EmulatorState, form: dict[str, str]) -> dict[str, Any]:
    """Exchange a signed assertion for an access token.

    :raises TokenError: with Google's error code, description and HTTP status.
    """
    if form.get("grant_type") != JWT_BEARER_GRANT:
        raise TokenError(400, "unsupported_grant_type", "Invalid grant_type: "
                         + form.get("grant_type", ""))
    assertion = form.get("assertion")
    if not assertion:
        raise TokenError(400, "invalid_request", "Missing required parameter: assertion")
    with state.lock:
        injected = state.faults.check("POST", "/token", None, state.faults.token_errors)
        if injected is not None:
            raise TokenError(injected.code, "internal_failure" if injected.code >= 500
                             else "rate_limit_exceeded", injected.message)
        claims = decode_assertion(assertion, state.key)
        check_claims(claims, state.key, now=time.time(),
                     max_lifetime=state.options.max_assertion_lifetime,
                     skew=state.options.clock_skew)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise TokenError(401, "unauthorized_client",
                             "Unauthorized client or scope in request.")
        user = state.users.get(subject.lower())
        if user is None or user.suspended:
            raise TokenError(400, "invalid_grant", "Invalid email or User ID")
        if not user.delegated:
            raise TokenError(401, "unauthorized_client",
                             "Client is unauthorized to retrieve access tokens using this "
                             "method, or client not authorized for any of the scopes "
                             "requested.")
        scopes = check_scopes(claims, frozenset(state.options.delegated_scopes))
        token, expires_in = state.tokens.issue(user.email, scopes,
                                               state.options.access_token_ttl)
    return {"access_token": token, "expires_in": expires_in, "token_type": "Bearer"}


def handle_token_request(state: EmulatorState, content_type: str, body: bytes
                         ) -> tuple[int, dict[str, Any]]:
    """Serve a POST to the token endpoint (form-encoded, or JSON as some clients send);
    returns status and JSON body."""
    status = 200
    try:
        if content_type.startswith("application/json"):
            try:
                data = json.loads(body or b"{}")
            except ValueError as err:
                raise TokenError(400, "invalid_request", "Invalid JSON body.") from err
            if not isinstance(data, dict):
                raise TokenError(400, "invalid_request", "Invalid JSON body.")
            form = {str(k): str(v) for k, v in data.items()}
        elif content_type.startswith("application/x-www-form-urlencoded"):
            form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
        else:
            raise TokenError(400, "invalid_request", "Invalid content type.")
        result = grant_token(state, form)
    except TokenError as err:
        status, result = err.status, err.body()
    with state.lock:
        state.log_request(RequestRecord("POST", "/token", None, status, "oauth2.token"))
    return status, result
