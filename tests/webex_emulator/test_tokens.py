"""OAuth code flow, refresh, Service App tokens, expiry (401) and de-authorisation."""

from __future__ import annotations

import hashlib
import hmac
import urllib.parse
from datetime import timedelta

import httpx
import pytest
import requests
from wxc_sdk.integration import Integration
from wxc_sdk.rest import RestError
from wxc_sdk.tokens import Tokens

from hybrid_calendar.clock import ManualClock
from hybrid_calendar_webex_emulator.testing import RunningWebexEmulator, running_webex_emulator
from tests.webex_emulator.helpers import ALICE, Receiver, first_email, wxc

REDIRECT = "http://127.0.0.1:6001/redirect"


def _authorize(http: httpx.Client, client_id: str, scope: str, email: str) -> dict[str, str]:
    answer = http.get("/v1/authorize", params={
        "client_id": client_id, "response_type": "code", "redirect_uri": REDIRECT,
        "scope": scope, "state": "s1", "email": email})
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(location).query))


def _refresher(emu: RunningWebexEmulator, client_id: str, client_secret: str) -> Integration:
    """wxc-sdk's Integration used only to refresh tokens (a refresh sends no redirect URI)."""
    return Integration(client_id=client_id, client_secret=client_secret, scopes=[],
                       redirect_url="", token_service=emu.api_base + "/access_token")


def test_code_flow_and_refresh_with_wxc_integration(emu: RunningWebexEmulator,
                                                    http: httpx.Client) -> None:
    app = http.post("/_emulator/integrations", json={"redirectUri": REDIRECT}).json()
    query = _authorize(http, app["clientId"], "spark:people_read meeting:schedules_read", ALICE)
    assert query["state"] == "s1"
    integration = Integration(client_id=app["clientId"], client_secret=app["clientSecret"],
                              scopes="spark:people_read meeting:schedules_read",
                              redirect_url=REDIRECT, token_service=emu.api_base + "/access_token")
    tokens = integration.tokens_from_code(query["code"])
    assert tokens.expires_in == 1_209_600 and tokens.refresh_token_expires_in == 7_776_000
    assert tokens.access_token is not None
    assert wxc(emu, tokens.access_token).people.me().emails == [ALICE]
    old = tokens.access_token
    integration.refresh(tokens)
    assert tokens.access_token is not None and tokens.access_token != old
    assert wxc(emu, tokens.access_token).people.me().emails == [ALICE]
    # a code is good once
    with pytest.raises(requests.HTTPError):
        integration.tokens_from_code(query["code"])


def test_authorize_rejects_unknown_scope_and_keeps_admin_scopes_for_admins(
        emu: RunningWebexEmulator, http: httpx.Client) -> None:
    app = http.post("/_emulator/integrations",
                    json={"redirectUri": REDIRECT, "scopes": ["spark:people_read"]}).json()
    assert _authorize(http, app["clientId"], "spark:rooms_read", ALICE)["error"] == \
        "invalid_scope"
    full = http.post("/_emulator/integrations", json={"redirectUri": REDIRECT}).json()
    code = _authorize(http, full["clientId"], "spark-admin:people_read", ALICE)["code"]
    token = http.post("/v1/access_token", data={
        "grant_type": "authorization_code", "client_id": full["clientId"],
        "client_secret": full["clientSecret"], "code": code, "redirect_uri": REDIRECT}).json()
    assert token["scope"] == ""  # Alice is no administrator
    bad = http.post("/v1/access_token", data={
        "grant_type": "refresh_token", "client_id": full["clientId"],
        "client_secret": "wrong", "refresh_token": token["refresh_token"]})
    assert bad.status_code == 401 and bad.json()["trackingId"]


def test_expired_token_is_401_and_refresh_gives_a_new_one() -> None:
    clock = ManualClock()
    with running_webex_emulator(users=[ALICE], clock=clock,
                                access_token_ttl=60) as emu, \
            httpx.Client(base_url=emu.base_url) as http:
        app = http.post("/_emulator/integrations", json={"redirectUri": REDIRECT}).json()
        code = _authorize(http, app["clientId"], "spark:people_read", ALICE)["code"]
        token = http.post("/v1/access_token", data={
            "grant_type": "authorization_code", "client_id": app["clientId"],
            "client_secret": app["clientSecret"], "code": code,
            "redirect_uri": REDIRECT}).json()
        api = wxc(emu, token["access_token"])
        assert api.people.me().emails == [ALICE]
        clock.advance(timedelta(seconds=61))
        with pytest.raises(RestError) as caught:
            api.people.me()
        assert caught.value.response.status_code == 401
        tokens = Tokens(refresh_token=token["refresh_token"])
        _refresher(emu, app["clientId"], app["clientSecret"]).refresh(tokens)
        assert tokens.refresh_token_expires_in == 7_776_000 - 61
        assert tokens.access_token is not None
        assert wxc(emu, tokens.access_token).people.me().emails == [ALICE]


def _service_app(emu: RunningWebexEmulator, http: httpx.Client) -> dict[str, str]:
    app: dict[str, str] = http.post("/_emulator/service-apps", json={"name": "Gateway"}).json()
    return app


def test_service_app_token_needs_authorisation_and_admin(emu: RunningWebexEmulator,
                                                        http: httpx.Client) -> None:
    app = _service_app(emu, http)
    body = {"clientId": app["clientId"], "clientSecret": app["clientSecret"],
            "targetOrgId": app["orgId"]}
    url = f"/v1/applications/{app['applicationId']}/token"
    admin = {"Authorization": f"Bearer {emu.admin_token}"}
    assert http.post(url, json=body, headers=admin).status_code == 403  # not authorised yet
    http.post(f"/_emulator/service-apps/{app['applicationId']}/authorize")
    alice = {"Authorization": f"Bearer {emu.token(ALICE)}"}
    assert http.post(url, json=body, headers=alice).status_code == 403  # scope missing
    assert http.post(url, json={**body, "clientSecret": "x"}, headers=admin).status_code == 400
    answer = http.post(url, json=body, headers=admin)
    assert answer.status_code == 200
    tokens = answer.json()
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    api = wxc(emu, tokens["access_token"])
    assert ALICE in {first_email(p) for p in api.people.list(email=ALICE)}
    # refreshed like any token, with the Service App's client id and secret
    refreshed = Tokens(refresh_token=tokens["refresh_token"])
    _refresher(emu, app["clientId"], app["clientSecret"]).refresh(refreshed)
    assert refreshed.access_token is not None
    assert wxc(emu, refreshed.access_token).people.list(email=ALICE)


def test_deauthorising_a_service_app_revokes_tokens_and_fires_webhook(
        emu: RunningWebexEmulator, http: httpx.Client, receiver: Receiver) -> None:
    app = _service_app(emu, http)
    admin = {"Authorization": f"Bearer {emu.admin_token}"}
    hook = http.post("/v1/webhooks", headers=admin, json={
        "name": "app", "targetUrl": receiver.url, "resource": "serviceApp", "event": "all",
        "secret": "s3cret"}).json()
    http.post(f"/_emulator/service-apps/{app['applicationId']}/authorize")
    tokens = http.post(f"/v1/applications/{app['applicationId']}/token", headers=admin, json={
        "clientId": app["clientId"], "clientSecret": app["clientSecret"],
        "targetOrgId": app["orgId"]}).json()
    api = wxc(emu, tokens["access_token"])
    assert list(api.people.list(email=ALICE))
    answer = http.post(f"/_emulator/service-apps/{app['applicationId']}/deauthorize")
    assert answer.json()["revokedTokens"] == 1
    with pytest.raises(RestError) as caught:
        list(api.people.list(email=ALICE))
    assert caught.value.response.status_code == 401
    refresh = http.post("/v1/access_token", data={
        "grant_type": "refresh_token", "client_id": app["clientId"],
        "client_secret": app["clientSecret"], "refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 400
    received = receiver.wait_for(2)
    assert [r["body"]["event"] for r in received] == ["authorized", "deauthorized"]
    last = received[1]
    assert last["body"]["resource"] == "serviceApp" and last["body"]["id"] == hook["id"]
    assert last["body"]["data"]["applicationId"] == app["applicationId"]
    expected = hmac.new(b"s3cret", last["raw"], hashlib.sha1).hexdigest()
    assert last["headers"]["X-Spark-Signature"] == expected
    assert "secret" not in last["body"]


def test_any_token_with_applications_token_scope_fetches_service_app_tokens(
        emu: RunningWebexEmulator, http: httpx.Client) -> None:
    app = _service_app(emu, http)
    http.post(f"/_emulator/service-apps/{app['applicationId']}/authorize")
    developer = emu.token(ALICE, ["spark:applications_token"])
    url = f"/v1/applications/{app['applicationId']}/token"
    body = {"clientId": app["clientId"], "clientSecret": app["clientSecret"],
            "targetOrgId": app["orgId"]}
    answer = http.post(url, json=body, headers={"Authorization": f"Bearer {developer}"})
    assert answer.status_code == 200 and answer.json()["access_token"]
    other_org = http.post(url, json={**body, "targetOrgId": "other"},
                          headers={"Authorization": f"Bearer {developer}"})
    assert other_org.status_code == 403
    unknown = http.post("/v1/applications/nope/token", json=body,
                        headers={"Authorization": f"Bearer {developer}"})
    assert unknown.status_code == 404


def test_authorized_service_app_helper(emu: RunningWebexEmulator) -> None:
    grant = emu.authorized_service_app("Gateway")
    api = wxc(emu, grant.access_token)
    assert api.people.me().person_id == grant.person_id
    tokens = Tokens(refresh_token=grant.refresh_token)
    _refresher(emu, grant.client_id, grant.client_secret).refresh(tokens)
    assert tokens.access_token is not None
    assert wxc(emu, tokens.access_token).people.me().person_id == grant.person_id
    emu.state.deauthorize_service_app(grant.application_id)
    with pytest.raises(RestError):
        api.people.me()


def test_token_endpoint_requests_are_in_the_request_log() -> None:
    with running_webex_emulator(users=[ALICE]) as emu, \
            httpx.Client(base_url=emu.base_url) as http:
        app = http.post("/_emulator/integrations", json={"redirectUri": REDIRECT}).json()
        assert http.post("/v1/access_token", data={
            "grant_type": "refresh_token", "client_id": app["clientId"],
            "client_secret": app["clientSecret"], "refresh_token": "nope"}).status_code == 400
        code = _authorize(http, app["clientId"], "spark:people_read", ALICE)["code"]
        assert http.post("/v1/access_token", data={
            "grant_type": "authorization_code", "client_id": app["clientId"],
            "client_secret": app["clientSecret"], "code": code,
            "redirect_uri": REDIRECT}).status_code == 200
        assert [s for m, p, s in emu.state.request_log
                if (m, p) == ("POST", "/v1/access_token")] == [400, 200]
