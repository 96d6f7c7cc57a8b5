"""Per-user access tokens by the OAuth 2.0 JWT-bearer grant (domain-wide delegation).

A service account signs a short JWT assertion (``sub`` = the user) with its private key;
the token endpoint answers with an access token for that user. google-auth does the
RS256 signing (:func:`google.auth.jwt.encode`); the POST goes through the gateway's shared
``httpx.AsyncClient``. Tokens are cached per user until ``refresh_margin`` seconds before
they expire, and concurrent callers for one user share a single grant (single flight).
Tokens and keys are never logged and never appear in exception messages.

Token-endpoint errors become core exceptions with reasons an admin can act on:
:class:`~hybrid_calendar.errors.AccessDeniedError` for problems of *this user*
(delegation missing or revoked, user unknown or suspended, policy blocks a scope) and
:class:`~hybrid_calendar.errors.AuthError` for problems of the service account or key.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import stat
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import httpx
from google.auth import crypt, jwt

from hybrid_calendar.errors import AccessDeniedError, AuthError, ConfigError, TransientError
from hybrid_calendar_google.retry_after import parse_retry_after

log = logging.getLogger(__name__)

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_GRANT_PREFIX = f"grant_type={quote_plus(GRANT_TYPE)}&assertion=".encode()
GRANT_HEADERS = {"Accept": "application/json",
                 "Content-Type": "application/x-www-form-urlencoded"}
"""The headers of a token grant (its form body is :func:`grant_body`)."""


def grant_body(assertion: bytes) -> bytes:
    """The form body of a JWT-bearer grant, byte for byte what httpx's
    ``data={"grant_type": GRANT_TYPE, "assertion": ...}`` encodes, with the constant
    part encoded once (``quote_plus`` walks the grant type's colons one by one)."""
    return _GRANT_PREFIX + quote_plus(assertion.decode()).encode()


GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
"""The assertion audience; google-auth uses it even when ``token_uri`` points elsewhere."""
DEFAULT_SCOPES = (
    "https://www.googleapis.com/auth/calendar",
    "https://www.googleapis.com/auth/gmail.settings.basic",
)
ASSERTION_LIFETIME = 3600
PRUNE_EVERY = 256
"""Drop expired cache entries after every this many grants (bounded memory)."""


@dataclass(frozen=True)
class ServiceAccount:
    """A service-account key: who signs, with which key, and where tokens come from.

    The private key lives only inside :attr:`signer`; ``repr`` shows no secret.
    """

    client_email: str = field(repr=False)
    client_id: str
    token_uri: str
    signer: crypt.Signer = field(repr=False)

    @classmethod
    def from_info(cls, info: Mapping[str, Any], token_uri: str = "") -> ServiceAccount:
        """Build from the key's JSON (as downloaded from the Cloud console).

        :param token_uri: overrides the key's ``token_uri`` (the emulator) when not empty.
        :raises ConfigError: not a JSON object, a field is missing or the private key cannot
            be read.
        """
        if not isinstance(info, Mapping):
            raise ConfigError("google.service_account_file",
                              "the service-account key is not a JSON object")
        missing = [k for k in ("client_email", "private_key", "token_uri") if not info.get(k)]
        if missing and not (missing == ["token_uri"] and token_uri):
            raise ConfigError("google.service_account_file",
                              f"the service-account key lacks {', '.join(missing)}")
        try:
            key, key_id = info.get("private_key"), info.get("private_key_id")
            signer = (_signer(key, key_id) if isinstance(key, str)
                      and isinstance(key_id, str | None)
                      else crypt.RSASigner.from_string(key, key_id))  # type: ignore[no-untyped-call]
        except (ValueError, TypeError) as err:
            raise ConfigError("google.service_account_file",
                              "the service-account private key cannot be read") from err
        return cls(str(info["client_email"]), str(info.get("client_id", "")),
                   token_uri or str(info["token_uri"]), signer)

    @classmethod
    def from_file(cls, path: str | Path, token_uri: str = "") -> ServiceAccount:
        """Read a key file; errors name the setting, never the key."""
        check_key_file_mode(Path(path))
        try:
            info = json.loads(Path(path).read_text())
        except OSError as err:
            raise ConfigError("google.service_account_file",
                              f"cannot read {path}: {err.strerror}") from None
        except ValueError:
            raise ConfigError("google.service_account_file",
                              f"{path} is not a JSON service-account key") from None
        return cls.from_info(info, token_uri)

    def assertion(self, subject: str, scopes: tuple[str, ...], now: float) -> bytes:
        """Sign the JWT-bearer assertion for ``subject``."""
        payload = {"iss": self.client_email, "sub": subject, "aud": GOOGLE_TOKEN_URI,
                   "scope": " ".join(scopes), "iat": int(now),
                   "exp": int(now) + ASSERTION_LIFETIME}
        assertion: bytes = jwt.encode(self.signer, payload)  # type: ignore[no-untyped-call]
        return assertion


@functools.lru_cache(maxsize=16)
def _signer(private_key: str, key_id: str | None) -> crypt.Signer:
    """The RS256 signer of a private key, read once per key and process.

    Reading a key validates it (≈ 50 ms of CPU for a 2048-bit key): the configuration
    check at start-up and the first token grant read the same key, and a signer holds no
    state but the key, so they share one. A replaced key is other text: read anew.
    """
    signer: crypt.Signer = crypt.RSASigner.from_string(  # type: ignore[no-untyped-call]
        private_key, key_id)
    return signer


@dataclass(frozen=True, slots=True)
class _Token:
    value: str = field(repr=False)
    refresh_at: float


_TRANSIENT_GRANT_ERRORS = {"internal_failure", "server_error", "temporarily_unavailable"}


class TokenSource:
    """Mints and caches per-user access tokens.

    :param account: the service account.
    :param http: the shared HTTP client.
    :param scopes: scopes requested for every user (must all be delegated).
    :param refresh_margin: refresh this many seconds before a token expires.
    :param wall_clock: epoch seconds for ``iat``/``exp``.
    :param monotonic: for cache expiry.
    """

    def __init__(self, account: ServiceAccount, http: httpx.AsyncClient, *,
                 scopes: tuple[str, ...] = DEFAULT_SCOPES, refresh_margin: float = 300.0,
                 wall_clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.account = account
        self.http = http
        self.scopes = scopes
        self.refresh_margin = refresh_margin
        self._wall_clock = wall_clock
        self._monotonic = monotonic
        self._cache: dict[str, _Token] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._grant_request: tuple[httpx.Headers, httpx.URL] | None = None
        self.grants = 0
        """Number of token grants performed (for tests and metrics)."""

    async def token(self, subject: str) -> str:
        """Return a valid access token for ``subject``, minting one if needed."""
        cached = self._cache.get(subject)
        if cached is not None and self._monotonic() < cached.refresh_at:
            return cached.value
        lock = self._locks.setdefault(subject, asyncio.Lock())
        async with lock:
            cached = self._cache.get(subject)
            if cached is not None and self._monotonic() < cached.refresh_at:
                return cached.value
            token = await self._grant(subject)
            self._cache[subject] = token
            if self.grants % PRUNE_EVERY == 0:
                self._prune()
            return token.value

    def _prune(self) -> None:
        """Forget stale tokens and idle locks (users deactivated or gone quiet)."""
        now = self._monotonic()
        for subject in [s for s, t in self._cache.items() if t.refresh_at <= now]:
            del self._cache[subject]
        for subject in [s for s, lock in self._locks.items()
                        if not lock.locked() and s not in self._cache]:
            del self._locks[subject]

    def cached_users(self) -> int:
        """How many users have a cached token (for tests and metrics)."""
        return len(self._cache)

    def invalidate(self, subject: str, value: str | None = None) -> None:
        """Forget the cached token of ``subject`` (only if it is ``value``, when given)."""
        cached = self._cache.get(subject)
        if cached is not None and (value is None or cached.value == value):
            del self._cache[subject]

    async def _grant(self, subject: str) -> _Token:
        """One JWT-bearer grant; a transient failure is raised (the engine retries the job)."""
        started = self._monotonic()
        # The RSA signature is made here, on the event loop (≈ 0.2 ms of CPU on the
        # benchmark machine, ≈ 0.8 ms on a slower one): less than the loop is held by one
        # stretch of a sync's page (sync.YIELD_EVERY events), and a worker thread cost
        # more than the signature saved: the hand-off's wake-ups and lock waits made an
        # activation ≈ 14 % dearer in CPU (docs/performance.md). With google.push_listen
        # (recommended) push answers come from the receiver process, not this loop.
        assertion = self.account.assertion(subject, self.scopes, self._wall_clock())
        try:
            response = await self._post_grant(grant_body(assertion))
        except httpx.TransportError as err:
            raise TransientError(
                f"token endpoint unreachable ({type(err).__name__})") from err
        body = _json(response)
        if response.status_code == 200 and body.get("access_token"):
            self.grants += 1
            expires_in = float(body.get("expires_in", 3600))
            return _Token(str(body["access_token"]),
                          started + max(0.0, expires_in - self.refresh_margin))
        error = str(body.get("error", "")) if isinstance(body, dict) else ""
        if response.status_code < 500 and response.status_code != 429 and (
                error not in _TRANSIENT_GRANT_ERRORS):
            raise grant_error(response.status_code, error,
                              str(body.get("error_description", "")),
                              self.account.client_id, self.scopes)
        log.info("token grant failed transiently (HTTP %d)", response.status_code)
        raise TransientError(
            f"token endpoint failed with HTTP {response.status_code}"
            + (f" ({error})" if error else ""), status=response.status_code,
            reason=error or None,
            retry_after=parse_retry_after(response.headers.get("Retry-After")))

    async def _post_grant(self, body: bytes) -> httpx.Response:
        """POST a grant's form body to the token endpoint: the request
        ``http.post(token_uri, content=body, headers=GRANT_HEADERS)`` builds, with the
        client's headers merged and the URL parsed once (httpx redoes both on every
        ``build_request``; the client's headers are set when it is made), sent by
        ``http.send`` (its auth, redirects, hooks, timeout). A client with query
        parameters or cookies (not the gateway's) or a relative token URI takes httpx's
        whole ``post``."""
        http = self.http
        if http.params or http.cookies or not self.account.token_uri.startswith(
                ("https://", "http://")):
            return await http.post(self.account.token_uri, content=body,
                                   headers=GRANT_HEADERS)
        if self._grant_request is None:
            headers = httpx.Headers(http.headers)
            headers.update(GRANT_HEADERS)
            self._grant_request = headers, httpx.URL(self.account.token_uri)
        headers, url = self._grant_request
        return await http.send(httpx.Request("POST", url, headers=headers, content=body))


def check_key_file_mode(path: Path) -> None:
    """Refuse a service-account key file that group or others may read or write.

    The key acts as every user of the domain (domain-wide delegation), so it gets the
    same rule as the local KMS key file.

    :raises ConfigError: naming the file, its mode and the command that fixes it.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return  # reading it reports the problem
    if mode & 0o077:
        raise ConfigError("google.service_account_file",
                          f"{path} has permissions {mode:04o}, readable or writable by group "
                          "or others, and the key acts as every user of the domain; refusing "
                          f"it. Fix: chmod 600 {path}")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def grant_error(status: int, error: str, description: str, client_id: str,
                requested: tuple[str, ...] = DEFAULT_SCOPES
                ) -> AccessDeniedError | AuthError | TransientError:
    """Translate a refused JWT-bearer grant into an exception an admin can act on.

    Only the errors listed here end a user's sync (an admin must act); an unrecognised
    refusal is a :class:`TransientError`, retried with backoff, so that a proxy's or
    Google's unexpected answer never moves users to a state needing re-activation.

    :param requested: the scopes the grant asked for (``google.scopes``): what the admin
        must delegate.

    The message never quotes the user's address, the key or the token.
    """
    scopes = ", ".join(requested)
    client = f"client ID {client_id}" if client_id else "the service account's client ID"
    lowered = description.lower()
    if error == "unauthorized_client":
        return AccessDeniedError(
            "Domain-wide delegation is missing or was revoked for this user's domain: in the "
            "Google Admin console (Security > Access and data control > API controls > "
            f"Domain-wide delegation) authorise {client} for the scopes {scopes}. "
            "Changes can take up to 24 hours to apply.", status=status, reason=error)
    if error in {"access_denied", "admin_policy_enforced"}:
        return AccessDeniedError(
            "A Google Workspace admin policy blocks the gateway's scopes for this user: allow "
            f"{client} ({scopes}) for the user's organisational unit.",
            status=status, reason=error)
    if error == "invalid_grant" and ("signature" in lowered or "jwt" in lowered):
        if "short-lived" in lowered or "timeframe" in lowered or "iat" in lowered:
            return AuthError("Google rejected the token request's time stamps: synchronise "
                             "the gateway's clock (NTP).", status=status, reason=error)
        return AuthError("Google rejected the service-account key's signature: the key was "
                         "deleted or replaced; create a new key and configure "
                         "google.service_account_file.", status=status, reason=error)
    if error == "invalid_grant":
        return AccessDeniedError(
            "Google does not know this user, or the user is suspended or was renamed: check "
            "the account in the Google Admin console, then re-activate.",
            status=status, reason=error)
    if error == "invalid_scope":
        return AuthError("Google rejected the configured scopes: use "
                         f"{', '.join(DEFAULT_SCOPES)} (google.scopes).", status=status,
                         reason=error)
    if error in {"invalid_client", "deleted_client", "disabled_client", "org_internal"}:
        return AuthError(f"The service account cannot get tokens ({error}): check that it "
                         "exists, is enabled and that its key is current.",
                         status=status, reason=error)
    return TransientError(f"token endpoint refused with HTTP {status}"
                          + (f" ({error})" if error else "") + ", an answer Google does not "
                          "document as permanent: retried later", status=status,
                          reason=error or None)


__all__ = ["DEFAULT_SCOPES", "ServiceAccount", "TokenSource", "grant_error"]

