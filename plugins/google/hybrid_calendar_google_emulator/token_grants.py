"""OAuth 2.0 for the emulator: the service-account key, the JWT-bearer grant, bearer tokens.

The token endpoint behaves like ``https://oauth2.googleapis.com/token`` for a service
account with domain-wide delegation (DWD): it verifies the RS256 assertion against the
emulator's key, checks ``iss``, ``aud``, ``iat``/``exp`` and ``sub``, checks the requested
scopes against the Admin-console authorisation, and issues expiring ``ya29.`` tokens.
Errors use Google's ``{"error", "error_description"}`` bodies and status codes.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from hybrid_calendar_google_emulator.options import GOOGLE_TOKEN_AUDIENCE

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class TokenError(Exception):
    """The token endpoint refuses a grant: ``error``/``error_description`` and HTTP status."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        """Google's token-endpoint error body."""
        return {"error": self.error, "error_description": self.description}


@dataclass
class AccessToken:
    """An issued bearer token: whom it impersonates, its scopes and expiry (epoch seconds)."""

    email: str
    scopes: frozenset[str]
    expires_at: float


_PROCESS_KEY: list[rsa.RSAPrivateKey] = []


def _rsa_key(fresh: bool) -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key: new, or one shared by every emulator of this process."""
    if fresh:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if not _PROCESS_KEY:
        _PROCESS_KEY.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _PROCESS_KEY[0]


class ServiceAccountKey:
    """The emulator's service account: an RSA key pair and its Google key-file JSON."""

    def __init__(self, project_id: str, token_uri: str, *, fresh: bool = True) -> None:
        self.private_key = _rsa_key(fresh)
        self.public_key = self.private_key.public_key()
        self.private_key_id = secrets.token_hex(20)
        self.client_id = str(100_000_000_000_000_000_000 + secrets.randbelow(10**20))
        self.client_email = f"gateway@{project_id}.iam.gserviceaccount.com"
        self.project_id = project_id
        self.token_uri = token_uri

    def info(self) -> dict[str, str]:
        """The key file content, as ``gcloud iam service-accounts keys create`` writes it."""
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode()
        quoted = self.client_email.replace("@", "%40")
        return {
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": self.private_key_id,
            "private_key": pem,
            "client_email": self.client_email,
            "client_id": self.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url":
                f"https://www.googleapis.com/robot/v1/metadata/x509/{quoted}",
            "universe_domain": "googleapis.com",
        }


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def decode_assertion(assertion: str, key: ServiceAccountKey) -> dict[str, Any]:
    """Verify an RS256 JWT against ``key`` and return its claims.

    :raises TokenError: ``invalid_grant`` for malformed JWTs or bad signatures.
    """
    try:
        header_b64, payload_b64, sig_b64 = assertion.split(".")
        header = json.loads(_b64decode(header_b64))
        claims = json.loads(_b64decode(payload_b64))
        signature = _b64decode(sig_b64)
    except (ValueError, binascii.Error, UnicodeDecodeError) as err:
        raise TokenError(400, "invalid_grant", "Invalid JWT format.") from err
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenError(400, "invalid_grant", "Invalid JWT format.")
    if header.get("alg") != "RS256":
        raise TokenError(400, "invalid_grant", "Invalid JWT Signature.")
    if header.get("kid") not in (None, key.private_key_id):
        raise TokenError(400, "invalid_grant", "Invalid JWT Signature.")
    try:
        key.public_key.verify(signature, f"{header_b64}.{payload_b64}".encode(),
                              padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as err:
        raise TokenError(400, "invalid_grant", "Invalid JWT Signature.") from err
    return claims


def check_claims(claims: dict[str, Any], key: ServiceAccountKey, *, now: float,
                 max_lifetime: int, skew: int) -> None:
    """Check ``iss``, ``aud`` and the ``iat``/``exp`` window like Google does.

    ``exp`` may be at most ``max_lifetime`` (one hour) after ``iat``, plus ``skew`` of
    tolerance; ``iat`` must not be in the future and ``exp`` not in the past (± ``skew``).

    :raises TokenError: ``invalid_client`` / ``invalid_grant``.
    """
    if claims.get("iss") != key.client_email:
        raise TokenError(401, "invalid_client", "The OAuth client was not found.")
    aud = claims.get("aud")
    if aud not in (GOOGLE_TOKEN_AUDIENCE, key.token_uri,
                   "https://accounts.google.com/o/oauth2/token",
                   "https://www.googleapis.com/oauth2/v4/token"):
        raise TokenError(400, "invalid_grant", "Invalid JWT: audience is not valid.")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int | float) or not isinstance(exp, int | float):
        raise TokenError(400, "invalid_grant", "Invalid JWT: iat and exp are required.")
    if exp < iat or exp - iat > max_lifetime + skew or iat > now + skew or exp < now - skew:
        raise TokenError(
            400, "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
            "timeframe. Check your iat and exp values in the JWT claim.")


def check_scopes(claims: dict[str, Any], delegated: frozenset[str]) -> frozenset[str]:
    """The requested scopes, all of which must be authorised for the client id.

    :raises TokenError: ``invalid_scope`` (empty) or ``unauthorized_client`` (not delegated).
    """
    scope = claims.get("scope")
    requested = frozenset(scope.split()) if isinstance(scope, str) else frozenset()
    if not requested:
        raise TokenError(400, "invalid_scope",
                         "Invalid OAuth scope or ID token audience provided.")
    if not requested <= delegated:
        raise TokenError(
            401, "unauthorized_client",
            "Client is unauthorized to retrieve access tokens using this method, or client "
            "not authorized for any of the scopes requested.")
    return requested


class TokenRegistry:
    """Issued bearer tokens; lookups fail once a token expires or is revoked."""

    def __init__(self) -> None:
        self._tokens: dict[str, AccessToken] = {}

    def issue(self, email: str, scopes: frozenset[str], ttl: int) -> tuple[str, int]:
        """Create a token; returns it and its ``expires_in``."""
        token = "ya29." + secrets.token_urlsafe(48)
        self._tokens[token] = AccessToken(email, scopes, time.time() + ttl)
        if len(self._tokens) > 200_000:
            self.purge()
        return token, ttl - 1

    def lookup(self, token: str) -> AccessToken | None:
        """The live grant behind ``token`` or ``None``."""
        grant = self._tokens.get(token)
        if grant is None or grant.expires_at <= time.time():
            return None
        return grant

    def expire(self, email: str | None = None) -> int:
        """Expire every token (or every token of ``email``); returns how many."""
        count = 0
        for grant in self._tokens.values():
            if email is None or grant.email == email:
                grant.expires_at = 0.0
                count += 1
        return count

    def purge(self) -> None:
        """Forget expired tokens."""
        now = time.time()
        self._tokens = {t: g for t, g in self._tokens.items() if g.expires_at > now}
