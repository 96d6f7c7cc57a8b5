"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

Every delivery carries ``webhook-id`` (stable across retries of the same message),
``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature``
(``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body`` under the endpoint's secret, which
is ``whsec_`` + base64 of 32 random bytes). :func:`verify` is the receiving side, with
the specification's replay protection: a timestamp outside the tolerance is refused, and
:class:`ReplayGuard` refuses a ``webhook-id`` it has already accepted within it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime, timedelta

SECRET_PREFIX = "whsec_"
TOLERANCE = timedelta(minutes=5)


class WebhookVerificationError(Exception):
    """A delivery failed verification: missing headers, stale timestamp, bad signature or
    a replayed id."""


def new_secret() -> str:
    """A fresh endpoint secret, ``whsec_<base64 of 32 random bytes>``."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(raw + "=" * (-len(raw) % 4))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value of one attempt."""
    to_sign = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), to_sign, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, msg_id: str, when: datetime, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt."""
    timestamp = int(when.timestamp())
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body)}


class ReplayGuard:
    """Remembers accepted ``webhook-id`` values for the tolerance window (bounded)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[str, datetime] = OrderedDict()

    def accept(self, msg_id: str, now: datetime) -> bool:
        """True the first time an id is seen within the window."""
        while self._seen:
            oldest_id, at = next(iter(self._seen.items()))
            if now - at <= TOLERANCE * 2 and len(self._seen) < self.capacity:
                break
            del self._seen[oldest_id]
        if msg_id in self._seen:
            return False
        self._seen[msg_id] = now
        return True


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: datetime,
           guard: ReplayGuard | None = None) -> None:
    """Check a received delivery; raise :class:`WebhookVerificationError` if it fails."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp, signatures = (lower.get(h) for h in (
        "webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (msg_id and stamp and signatures):
        raise WebhookVerificationError("missing webhook-id, -timestamp or -signature")
    if not stamp.isdigit():
        raise WebhookVerificationError("webhook-timestamp is not Unix seconds")
    if abs(now.timestamp() - int(stamp)) > TOLERANCE.total_seconds():
        raise WebhookVerificationError("webhook-timestamp outside the tolerance")
    expected = sign(secret, msg_id, int(stamp), body).encode()
    if not any(hmac.compare_digest(expected, candidate.encode())
               for candidate in signatures.split(" ")):
        raise WebhookVerificationError("no matching signature")
    if guard is not None and not guard.accept(msg_id, now):
        raise WebhookVerificationError("webhook-id already received (replay)")
