"""Per-user tokens by the JWT-bearer grant: signing, caching, single flight, error mapping."""

from __future__ import annotations

import asyncio
import json
import string
import threading
import time
from pathlib import Path
from typing import Any

import anyio.lowlevel
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hybrid_calendar.errors import AccessDeniedError, AuthError, ConfigError, TransientError
from hybrid_calendar.outbound.client import CookielessClient
from hybrid_calendar_google.auth import (
    DEFAULT_SCOPES,
    GRANT_HEADERS,
    GRANT_TYPE,
    ServiceAccount,
    TokenSource,
    grant_body,
)

from .conftest import FakeGoogle


def _source(sa_info: dict[str, str], http: httpx.AsyncClient, **kwargs: Any) -> TokenSource:
    return TokenSource(ServiceAccount.from_info(sa_info), http, **kwargs)


@pytest.mark.anyio
async def test_assertion_carries_delegation_claims(sa_info: dict[str, str], fake: FakeGoogle,
                                                   http: httpx.AsyncClient) -> None:
    token = await _source(sa_info, http).token("alice@example.com")
    assert token == "ya29.t1"
    claims = fake.grants[0]
    assert claims["sub"] == "alice@example.com"
    assert claims["iss"] == sa_info["client_email"]
    assert claims["scope"] == " ".join(DEFAULT_SCOPES)
    assert claims["exp"] - claims["iat"] == 3600


@pytest.mark.anyio
async def test_the_assertion_is_signed_on_the_event_loop(sa_info: dict[str, str],
                                                         fake: FakeGoogle,
                                                         http: httpx.AsyncClient) -> None:
    """The RSA signature is made on the calling thread, with no hand-off to a worker
    thread: the hand-off's wake-ups and lock waits cost an activation more CPU than the
    signature (≈ 0.2 ms) holds the loop (docs/performance.md, "The token grant's
    signature back on the event loop")."""
    source = _source(sa_info, http)
    signed_in: list[int] = []
    assertion = source.account.assertion

    def recording(subject: str, scopes: tuple[str, ...], now: float) -> bytes:
        signed_in.append(threading.get_ident())
        return assertion(subject, scopes, now)
    object.__setattr__(source, "account", _Recording(source.account, recording))
    assert await source.token("alice@example.com") == "ya29.t1"
    assert signed_in == [threading.get_ident()]
    assert fake.grants[0]["sub"] == "alice@example.com"


class _Recording:
    """A service account whose ``assertion`` is given (every other attribute delegated)."""

    def __init__(self, account: ServiceAccount, assertion: Any) -> None:
        self._account = account
        self.assertion = assertion

    def __getattr__(self, name: str) -> Any:
        return getattr(self._account, name)


@pytest.mark.anyio
async def test_tokens_are_cached_per_user_until_margin(sa_info: dict[str, str],
                                                       fake: FakeGoogle,
                                                       http: httpx.AsyncClient) -> None:
    now = [0.0]
    source = _source(sa_info, http, refresh_margin=300.0, monotonic=lambda: now[0])
    assert await source.token("a@example.com") == "ya29.t1"
    assert await source.token("a@example.com") == "ya29.t1"
    assert await source.token("b@example.com") == "ya29.t2"
    now[0] = 3599 - 301
    assert await source.token("a@example.com") == "ya29.t1"
    now[0] = 3599 - 299
    assert await source.token("a@example.com") == "ya29.t3"
    assert source.grants == 3


@pytest.mark.anyio
async def test_concurrent_callers_share_one_grant(sa_info: dict[str, str], fake: FakeGoogle
                                                  ) -> None:
    async def in_flight(request: httpx.Request) -> httpx.Response:
        # MockTransport never suspends on its own: yield once so that the grant is really
        # in flight while the other 19 callers arrive (without this the test cannot fail).
        await anyio.lowlevel.checkpoint()
        return fake.handle(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(in_flight)) as http:
        source = _source(sa_info, http)
        tokens = await asyncio.gather(*(source.token("a@example.com") for _ in range(20)))
    assert set(tokens) == {"ya29.t1"}
    assert len(fake.grants) == 1 and source.grants == 1


@pytest.mark.anyio
async def test_invalidate_only_drops_the_named_token(sa_info: dict[str, str], fake: FakeGoogle,
                                                     http: httpx.AsyncClient) -> None:
    source = _source(sa_info, http)
    first = await source.token("a@example.com")
    source.invalidate("a@example.com", "something-else")
    assert await source.token("a@example.com") == first
    source.invalidate("a@example.com", first)
    assert await source.token("a@example.com") != first


@pytest.mark.anyio
async def test_revoked_delegation_is_access_denied_with_actionable_reason(
        sa_info: dict[str, str], fake: FakeGoogle, http: httpx.AsyncClient) -> None:
    fake.token_failures.append(httpx.Response(401, json={
        "error": "unauthorized_client",
        "error_description": "Client is unauthorized to retrieve access tokens using this "
                             "method, or client not authorized for any of the scopes requested."}))
    with pytest.raises(AccessDeniedError, match="Domain-wide delegation") as caught:
        await _source(sa_info, http).token("alice@example.com")
    assert caught.value.reason == "unauthorized_client"
    assert "112233445566778899" in str(caught.value)
    assert "alice" not in str(caught.value) and "@" not in str(caught.value)


@pytest.mark.anyio
@pytest.mark.parametrize(("error", "description", "exc", "words"), [
    ("invalid_grant", "Invalid email or User ID", AccessDeniedError, "suspended"),
    ("invalid_grant", "Invalid JWT Signature.", AuthError, "key"),
    ("invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                      "reasonable timeframe. Check your iat and exp values", AuthError, "clock"),
    ("admin_policy_enforced", "", AccessDeniedError, "policy"),
    ("disabled_client", "The OAuth client was disabled.", AuthError, "enabled"),
    ("invalid_scope", "Invalid OAuth scope", AuthError, "google.scopes"),
])
async def test_grant_errors_map_to_admin_reasons(
        sa_info: dict[str, str], fake: FakeGoogle, http: httpx.AsyncClient, error: str,
        description: str, exc: type[Exception], words: str) -> None:
    fake.token_failures.append(httpx.Response(400, json={
        "error": error, "error_description": description}))
    with pytest.raises(exc, match=words) as caught:
        await _source(sa_info, http).token("alice@example.com")
    assert "@" not in str(caught.value)


@pytest.mark.anyio
async def test_delegation_error_names_the_requested_scopes(
        sa_info: dict[str, str], fake: FakeGoogle, http: httpx.AsyncClient) -> None:
    fake.token_failures.append(httpx.Response(401, json={"error": "unauthorized_client"}))
    only_calendar = ("https://www.googleapis.com/auth/calendar",)
    with pytest.raises(AccessDeniedError, match="Domain-wide delegation") as caught:
        await _source(sa_info, http, scopes=only_calendar).token("alice@example.com")
    assert "auth/calendar." in str(caught.value) and "gmail" not in str(caught.value)


@pytest.mark.anyio
@pytest.mark.parametrize("failure", [
    httpx.Response(503), httpx.Response(400, json={"error": "internal_failure"}),
    httpx.Response(429, headers={"Retry-After": "9"})])
async def test_transient_token_failures_are_raised_for_the_engine_to_retry(
        sa_info: dict[str, str], fake: FakeGoogle, http: httpx.AsyncClient,
        failure: httpx.Response) -> None:
    fake.token_failures += [failure, failure]
    source = _source(sa_info, http)
    with pytest.raises(TransientError, match=f"HTTP {failure.status_code}") as caught:
        await source.token("a@example.com")
    assert len(fake.token_failures) == 1  # one grant attempted, not retried here
    assert caught.value.retry_after == (9.0 if failure.status_code == 429 else None)
    fake.token_failures.clear()
    assert await source.token("a@example.com") == "ya29.t1"  # nothing cached from the failure


def test_unreadable_key_names_the_setting(sa_info: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=r"google\.service_account_file") as caught:
        ServiceAccount.from_info({**sa_info, "private_key": "not a key"})
    assert "not a key" not in str(caught.value)
    with pytest.raises(ConfigError, match="lacks client_email"):
        ServiceAccount.from_info({**sa_info, "client_email": ""})
    with pytest.raises(ConfigError, match="not a JSON object"):
        ServiceAccount.from_info([sa_info])  # type: ignore[arg-type]


def test_repr_shows_no_secret(sa_info: dict[str, str]) -> None:
    account = ServiceAccount.from_info(sa_info, token_uri="http://127.0.0.1:1/token")
    assert "PRIVATE" not in repr(account) and sa_info["client_email"] not in repr(account)
    assert account.token_uri == "http://127.0.0.1:1/token"


@pytest.mark.anyio
async def test_stale_tokens_are_pruned(sa_info: dict[str, str], fake: FakeGoogle,
                                       http: httpx.AsyncClient,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from hybrid_calendar_google import auth

    monkeypatch.setattr(auth, "PRUNE_EVERY", 4)
    now = [0.0]
    source = _source(sa_info, http, monotonic=lambda: now[0])
    for index in range(3):
        await source.token(f"user{index}@example.com")
    now[0] = 4000.0  # all three are past their refresh time
    await source.token("late@example.com")
    assert source.cached_users() == 1


@pytest.mark.anyio
@pytest.mark.parametrize("failure", [
    httpx.Response(400, json={"error": "brand_new_error"}), httpx.Response(404),
    httpx.Response(418, text="<html>teapot</html>")])
async def test_unrecognised_token_refusals_are_retried_not_permanent(
        sa_info: dict[str, str], fake: FakeGoogle, http: httpx.AsyncClient,
        failure: httpx.Response) -> None:
    """Issue 15 item 7: only errors Google documents as permanent end a user's sync."""
    fake.token_failures += [failure]
    source = _source(sa_info, http)
    with pytest.raises(TransientError, match=f"HTTP {failure.status_code}"):
        await source.token("a@example.com")
    assert await source.token("a@example.com") == "ya29.t1"


def test_world_readable_key_file_is_refused(sa_info: dict[str, str], tmp_path: Path) -> None:
    """Issue 15 item 3: the key delegates every calendar; refused like the KMS key file."""
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(sa_info))
    path.chmod(0o644)
    with pytest.raises(ConfigError, match=r"google\.service_account_file.*0644.*chmod 600") \
            as caught:
        ServiceAccount.from_file(path)
    assert str(path) in str(caught.value)
    path.chmod(0o600)
    assert ServiceAccount.from_file(path).client_email == sa_info["client_email"]


def test_a_key_is_read_once_per_process(sa_info: dict[str, str]) -> None:
    """The configuration check and the first grant read the same key: one signer."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.auth import jwt

    checked = ServiceAccount.from_info(sa_info)
    used = ServiceAccount.from_info(sa_info, token_uri="http://127.0.0.1:1/token")
    assert used.signer is checked.signer
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    replaced = ServiceAccount.from_info({**sa_info, "private_key": other_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()})
    assert replaced.signer is not checked.signer
    assertion = replaced.assertion("alice@example.com", DEFAULT_SCOPES, time.time())
    public = other_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = jwt.decode(assertion, certs={sa_info["private_key_id"]: public},  # type: ignore[no-untyped-call]  # google-auth: no hints
                        audience="https://oauth2.googleapis.com/token")
    assert claims["sub"] == "alice@example.com"
    odd = ServiceAccount.from_info({**sa_info, "private_key_id": ["x"]})  # not cacheable
    assert odd.signer.key_id == ["x"] and odd.signer is not checked.signer


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(alphabet=string.ascii_letters + string.digits + "-_.", max_size=900),
                 st.text(max_size=200)))
def test_the_grant_body_is_what_httpx_encodes_from_the_form(assertion: str) -> None:
    """The pre-encoded grant body equals httpx's ``data=`` encoding, with the headers
    httpx would add (a JWT is base64url segments and dots; any other text is compared
    too)."""
    form = httpx.Request("POST", "https://oauth2.googleapis.com/token", data={
        "grant_type": GRANT_TYPE, "assertion": assertion}, headers={"Accept": "application/json"})
    made = httpx.Request("POST", "https://oauth2.googleapis.com/token",
                         content=grant_body(assertion.encode()), headers=GRANT_HEADERS)
    assert made.read() == form.read()
    assert sorted(made.headers.multi_items()) == sorted(form.headers.multi_items())


def test_a_signed_assertion_goes_out_as_httpx_would_encode_it(sa_info: dict[str, str]
                                                              ) -> None:
    assertion = ServiceAccount.from_info(sa_info).assertion(
        "alice@example.com", DEFAULT_SCOPES, time.time())
    form = httpx.Request("POST", "https://oauth2.googleapis.com/token", data={
        "grant_type": GRANT_TYPE, "assertion": assertion.decode()})
    assert grant_body(assertion) == form.read()


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["plain", "cookieless", "with-own-headers", "with-cookies"])
async def test_a_grant_sends_what_httpx_post_builds(sa_info: dict[str, str], fake: FakeGoogle,
                                                    kind: str) -> None:
    """The grant's request (built once, sent with ``send``) equals what
    ``http.post(token_uri, content=..., headers=GRANT_HEADERS)`` builds: method, URL,
    headers in the same order, body and extensions; a client with headers of its own
    merges them as httpx does, and one holding cookies takes httpx's own ``post``."""
    transport = httpx.MockTransport(fake.handle)
    http = (CookielessClient(transport=transport) if kind == "cookieless"
            else httpx.AsyncClient(transport=transport,
                                   headers={"User-Agent": "gw/1", "X-Extra": "1"}
                                   if kind == "with-own-headers" else None,
                                   cookies={"c": "1"} if kind == "with-cookies" else None))
    async with http:
        source = _source(sa_info, http)
        for subject in ("alice@example.com", "bob@example.com"):  # the second reuses it
            await source.token(subject)
            sent = fake.requests[-1]
            made = http.build_request("POST", source.account.token_uri, content=sent.read(),
                                      headers=GRANT_HEADERS)
            assert (sent.method, str(sent.url), sent.headers.raw, sent.read(),
                    sent.extensions) == (made.method, str(made.url), made.headers.raw,
                                         made.read(), made.extensions)
