"""Token endpoint: the JWT-bearer grant with domain-wide delegation, and bearer checks."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import httplib2
import httpx
import pytest
from google.auth import crypt, jwt
from google.auth.exceptions import RefreshError
from google_auth_httplib2 import Request
from googleapiclient.errors import HttpError

from hybrid_calendar_google_emulator.testing import RunningEmulator
from tests.google_emulator.helpers import ALICE, CALENDAR

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def assertion(emu: RunningEmulator, **overrides: Any) -> str:
    """A signed grant assertion like google-auth makes, with ``overrides`` applied."""
    info = emu.service_account_info
    now = int(time.time())
    claims = {"iat": now, "exp": now + 3600, "iss": info["client_email"],
              "aud": "https://oauth2.googleapis.com/token", "scope": CALENDAR, "sub": ALICE}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    signer: crypt.Signer = crypt.RSASigner.from_service_account_info(info)  # type: ignore[no-untyped-call]  # google-auth: no hints
    signed: bytes = jwt.encode(signer, claims)  # type: ignore[no-untyped-call]  # google-auth: no hints
    return signed.decode()


def post_token(emu: RunningEmulator, token: str) -> httpx.Response:
    """POST a grant to the token endpoint."""
    return httpx.post(emu.service_account_info["token_uri"],
                      data={"grant_type": GRANT, "assertion": token})


def test_key_file_has_google_fields(emu: RunningEmulator) -> None:
    info = emu.service_account_info
    assert info["type"] == "service_account"
    assert info["token_uri"] == emu.base_url + "/token"
    assert info["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    for key in ("project_id", "private_key_id", "client_email", "client_id", "auth_uri"):
        assert info[key]


def test_google_auth_gets_expiring_token(emu: RunningEmulator, http: httplib2.Http) -> None:
    creds = emu.credentials(ALICE)
    creds.refresh(Request(http))
    assert creds.token.startswith("ya29.")
    left = creds.expiry - dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert 3500 < left.total_seconds() < 3600


@pytest.mark.parametrize("aud", ["https://oauth2.googleapis.com/token", "TOKEN_URI"])
def test_both_audiences_accepted(emu: RunningEmulator, aud: str) -> None:
    aud = emu.service_account_info["token_uri"] if aud == "TOKEN_URI" else aud
    response = post_token(emu, assertion(emu, aud=aud))
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599


@pytest.mark.parametrize(("overrides", "status", "error", "description"), [
    ({"aud": "https://evil.example/token"}, 400, "invalid_grant", "audience"),
    ({"exp": int(time.time()) + 7200}, 400, "invalid_grant", "short-lived"),
    ({"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}, 400, "invalid_grant",
     "short-lived"),
    ({"sub": "mallory@example.com"}, 400, "invalid_grant", "Invalid email or User ID"),
    ({"sub": "alice@other.example"}, 400, "invalid_grant", "Invalid email or User ID"),
    ({"scope": ""}, 400, "invalid_scope", "Invalid OAuth scope"),
    ({"scope": "https://www.googleapis.com/auth/admin.directory.user"}, 401,
     "unauthorized_client", "not authorized for any of the scopes"),
    ({"iss": "other@proj.iam.gserviceaccount.com"}, 401, "invalid_client", "not found"),
])
def test_grant_rejections(emu: RunningEmulator, overrides: dict[str, Any], status: int,
                          error: str, description: str) -> None:
    response = post_token(emu, assertion(emu, **overrides))
    assert response.status_code == status
    assert response.json()["error"] == error
    assert description in response.json()["error_description"]


def test_signature_from_another_key_rejected(emu: RunningEmulator) -> None:
    with running_other() as other:
        forged = assertion(other, iss=emu.service_account_info["client_email"])
    response = post_token(emu, forged)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant",
                               "error_description": "Invalid JWT Signature."}


def running_other() -> Any:
    """A second emulator (a different key)."""
    from hybrid_calendar_google_emulator.testing import running_emulator

    return running_emulator(users=[ALICE])


def test_tampered_payload_rejected(emu: RunningEmulator) -> None:
    header, _payload, sig = assertion(emu).split(".")
    other_payload = assertion(emu, sub="bob@example.com").split(".")[1]
    response = post_token(emu, f"{header}.{other_payload}.{sig}")
    assert response.json()["error_description"] == "Invalid JWT Signature."


def test_revoked_delegation_is_unauthorized_client(emu: RunningEmulator,
                                                  http: httplib2.Http) -> None:
    emu.state.revoke_delegation(ALICE)
    creds = emu.credentials(ALICE)
    with pytest.raises(RefreshError, match="unauthorized_client") as info:
        creds.refresh(Request(http))
    assert info.value.args[1]["error"] == "unauthorized_client"
    emu.state.restore_delegation(ALICE)
    creds.refresh(Request(http))


def test_suspended_user_is_invalid_grant(emu: RunningEmulator) -> None:
    emu.state.suspend_user(ALICE)
    response = post_token(emu, assertion(emu))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_json_body_and_lifetime_tolerance(emu: RunningEmulator) -> None:
    now = int(time.time())
    response = httpx.post(emu.base_url + "/token", json={
        "grant_type": GRANT, "assertion": assertion(emu, iat=now - 10, exp=now + 3650)})
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


def test_wrong_grant_type(emu: RunningEmulator) -> None:
    response = httpx.post(emu.base_url + "/token",
                          data={"grant_type": "client_credentials", "assertion": "x"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_api_without_token_is_401(emu: RunningEmulator) -> None:
    response = httpx.get(emu.base_url + "/calendar/v3/calendars/primary/events")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == 401 and error["status"] == "UNAUTHENTICATED"
    assert error["errors"][0]["reason"] == "authError"
    assert error["errors"][0]["location"] == "Authorization"
    assert "Bearer" in response.headers["www-authenticate"]


def test_expired_token_is_401_then_refreshed(emu: RunningEmulator,
                                            make_service: Callable[..., Any]) -> None:
    cal = make_service()
    cal.events().list(calendarId="primary").execute()
    token = post_token(emu, assertion(emu)).json()["access_token"]
    emu.control({"expire_access_tokens": True})
    response = httpx.get(emu.base_url + "/calendar/v3/calendars/primary/events",
                         headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    # googleapiclient refreshes once on 401 and succeeds with a new token
    cal.events().list(calendarId="primary").execute()
    assert [r.status for r in emu.state.request_log if r.path.endswith("/events")][-2:] \
        == [401, 200]


def test_missing_scope_is_403(make_service: Callable[..., Any]) -> None:
    gmail_only = make_service(
        scopes=("https://www.googleapis.com/auth/gmail.settings.basic",))
    with pytest.raises(HttpError) as info:
        gmail_only.events().list(calendarId="primary").execute()
    assert info.value.status_code == 403
    assert info.value.error_details[0]["reason"] == "insufficientPermissions"


def test_readonly_scope_cannot_insert(make_service: Callable[..., Any]) -> None:
    readonly = make_service(
        scopes=("https://www.googleapis.com/auth/calendar.readonly",))
    readonly.events().list(calendarId="primary").execute()
    with pytest.raises(HttpError) as info:
        readonly.events().insert(calendarId="primary", body={}).execute()
    assert info.value.status_code == 403
