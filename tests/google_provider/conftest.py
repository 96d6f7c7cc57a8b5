"""Fixtures for the Google provider tests.

Unit tests fake the *remote* (token endpoint, Calendar and Gmail APIs) with
``httpx.MockTransport`` handlers (:class:`FakeGoogle`); integration tests run the Google
emulator on loopback (``test_emulator_*.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import crypt, jwt

TOKEN_URI = "https://oauth2.test/token"
CAL = "https://calendar.test/calendar/v3"
GMAIL = "https://gmail.test"


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    """One RSA key for the whole session (generation is the slow part)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def sa_info(rsa_key: rsa.RSAPrivateKey) -> dict[str, str]:
    """A service-account key JSON as downloaded from the Cloud console."""
    pem = rsa_key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return {"type": "service_account", "project_id": "proj", "private_key_id": "kid1",
            "private_key": pem, "client_email": "gw@proj.iam.gserviceaccount.com",
            "client_id": "112233445566778899", "token_uri": TOKEN_URI}


Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeGoogle:
    """A scripted fake of Google's remote endpoints for ``httpx.MockTransport``.

    The token endpoint verifies the assertion's RS256 signature with the service
    account's public key. API routes are answered by ``routes[(method, path)]``; queued
    ``failures`` (responses) are served first, one per request, for any API path.
    """

    public_pem: bytes
    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    failures: list[httpx.Response] = field(default_factory=list)
    token_failures: list[httpx.Response] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    grants: list[dict[str, Any]] = field(default_factory=list)
    issued: int = 0
    expires_in: int = 3599

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if str(request.url) == TOKEN_URI:
            return self._token(request)
        if self.failures:
            return self.failures.pop(0)
        route = self.routes.get((request.method, request.url.path))
        if route is None:
            return error(404, "notFound", "Not Found")
        return route(request)

    def _token(self, request: httpx.Request) -> httpx.Response:
        if self.token_failures:
            return self.token_failures.pop(0)
        form = dict(httpx.QueryParams(request.content.decode()))
        assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
        claims = jwt.decode(form["assertion"], certs={"kid1": self.public_pem},  # type: ignore[no-untyped-call]  # google-auth: no hints
                            audience="https://oauth2.googleapis.com/token")
        self.grants.append(claims)
        self.issued += 1
        return httpx.Response(200, json={"access_token": f"ya29.t{self.issued}",
                                         "expires_in": self.expires_in,
                                         "token_type": "Bearer"})

    def api_requests(self) -> list[httpx.Request]:
        """Requests other than token grants."""
        return [r for r in self.requests if str(r.url) != TOKEN_URI]


def error(code: int, reason: str, message: str, headers: dict[str, str] | None = None
          ) -> httpx.Response:
    """Google's error envelope."""
    return httpx.Response(code, headers=headers, json={"error": {
        "errors": [{"domain": "global", "reason": reason, "message": message}],
        "code": code, "message": message}})


def body(request: httpx.Request) -> dict[str, Any]:
    """The JSON body of a request."""
    data: dict[str, Any] = json.loads(request.content)
    return data


@pytest.fixture
def fake(rsa_key: rsa.RSAPrivateKey) -> FakeGoogle:
    """A fresh fake remote."""
    public = rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return FakeGoogle(public)


@pytest.fixture
async def http(fake: FakeGoogle) -> Any:
    """An ``httpx.AsyncClient`` whose remote is ``fake``."""
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as client:
        yield client


__all__ = ["CAL", "GMAIL", "TOKEN_URI", "FakeGoogle", "body", "crypt", "error"]


@pytest.fixture
async def make_gateway(tmp_path: Any) -> Any:
    """Build a real gateway (google + kms_local plugins, SQLite store) with Google settings.

    ``await make_gateway(google={...}, http=client)`` returns an opened gateway; all are
    closed at the end of the test.
    """
    from hybrid_calendar.builder import build_gateway, close_gateway
    from hybrid_calendar.loading import load_config
    from hybrid_calendar.models import Organisation

    opened: list[Any] = []

    async def make(google: dict[str, Any], http: httpx.AsyncClient | None = None,
                   **sections: dict[str, Any]) -> Any:
        overrides: dict[str, dict[str, Any]] = {
            "plugins": {"enabled": ["google", "kms_local"], "load_entrypoints": False},
            "gateway": {"data_dir": str(tmp_path / f"gw{len(opened)}")},
            "google": google, **sections}
        config, pm = load_config(overrides=overrides, environ={})
        gateway = build_gateway(config, pm)
        gateway.http = http
        await gateway.store.open()
        await gateway.store.put_organisation(Organisation("org1", "Example", "example.com"))
        opened.append(gateway)
        return gateway

    yield make
    for gateway in opened:
        await close_gateway(gateway)


def google_settings(sa_info: dict[str, str], **extra: Any) -> dict[str, Any]:
    """``[google]`` settings pointing at the fake remote."""
    return {"service_account_json": json.dumps(sa_info), "calendar_base_url": CAL,
            "gmail_base_url": GMAIL, "marker_property": "hcMarker", **extra}


@pytest.fixture
def emulator() -> Any:
    """The Google emulator on loopback with two users (fresh per test)."""
    from hybrid_calendar_google_emulator.testing import running_emulator

    with running_emulator(domain="example.com",
                          users=["alice@example.com", "bob@example.com"]) as emu:
        yield emu


@pytest.fixture
async def emu_gateway(make_gateway: Any, emulator: Any) -> Any:
    """A gateway whose Google plugin talks to :func:`emulator` over real HTTP."""
    return await make_gateway(emulator_settings(emulator))


def emulator_settings(emu: Any, **extra: Any) -> dict[str, Any]:
    """``[google]`` settings pointing at a running emulator."""
    return {"service_account_json": json.dumps(emu.service_account_info),
            "calendar_base_url": emu.base_url + "/calendar/v3",
            "gmail_base_url": emu.base_url, "marker_property": "hcMarker", **extra}
