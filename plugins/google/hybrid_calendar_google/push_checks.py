"""The checks of one Google push notification and their answers, in one place.

Both receivers judge with these functions: the route on the gateway's main port
(:mod:`.webhook`) and the receiver process of its own (:mod:`.push_desk`). They differ only
in where a channel comes from (the gateway's cache, or the table the gateway sent the
receiver), where outcomes are counted and where an accepted user goes (the in-memory
inbox, or the next batch to the gateway). This module imports nothing of the gateway, so
the receiver process stays small.

Order and answers (the statuses Google sees):

* missing ``X-Goog-Channel-ID`` → 400; an id longer than Google's 64 characters → 404
  without a look-up (:func:`check_channel_id`); unknown channel → 404 (:func:`unknown`);
* token absent or wrong → 403 (constant time against the stored digest); a resource id
  different from the channel's → 403;
* ``X-Goog-Resource-State: sync`` → 200, nothing to do;
* engine not running → 503;
* a message number already seen → 200, ignored; past the channel's rate → 503 with
  ``Retry-After`` (:mod:`.push_guard`);
* otherwise accepted → 200.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Protocol

from hybrid_calendar_google.push_guard import PushGuard, Verdict
from hybrid_calendar_google.refusal_log import UNKNOWN

MAX_CHANNEL_ID = 64
"""Google's limit: no longer channel id can exist."""

Answer = tuple[int, bytes, list[tuple[bytes, bytes]]]
"""Status, body and extra headers of one response."""

OK: Answer = (200, b"", [])


class Outcomes(Protocol):
    """Where a receiver counts outcomes and logs refusals (rate-limited)."""

    def count(self, outcome: str) -> None:
        """Count one notification with ``outcome``."""

    def refuse(self, key: str, outcome: str, status: int, now: float) -> None:
        """Count a refused (or ignored) notification and log it unless ``key`` was
        logged within the interval."""


def token_matches(token_hash: str, presented: str | None) -> bool:
    """Constant-time comparison of a presented token with a stored digest (the digest of
    :func:`hybrid_calendar.store.base.hash_channel_token`)."""
    if presented is None:
        return False
    digest = "sha256:" + hashlib.sha256(presented.encode()).hexdigest()
    return hmac.compare_digest(token_hash.encode(), digest.encode())


def check_channel_id(headers: Mapping[str, str], now: float, outcomes: Outcomes
                     ) -> str | Answer:
    """The notification's channel id worth looking up, or the answer refusing it."""
    channel_id = headers.get("x-goog-channel-id")
    if not channel_id:
        outcomes.refuse(UNKNOWN, "missing_channel_id", 400, now)
        return 400, b"missing X-Goog-Channel-ID", []
    if len(channel_id) > MAX_CHANNEL_ID:
        return unknown(now, outcomes)
    return channel_id


def unknown(now: float, outcomes: Outcomes) -> Answer:
    """The answer to a notification naming no channel of ours."""
    outcomes.refuse(UNKNOWN, "unknown_channel", 404, now)
    return 404, b"unknown channel", []


def judge(channel_id: str, user_id: str, resource_id: str, token_hash: str,
          headers: Mapping[str, str], now: float, *, ready: bool, guard: PushGuard,
          outcomes: Outcomes) -> tuple[Answer, bool]:
    """Judge a notification of a known channel: the answer, and whether the user's sync
    is to be requested (the caller then does that; counted as ``accepted`` here).

    :param headers: the request's headers by lower-case name.
    :param ready: whether the gateway's engine takes sync requests.
    """
    key = f"the channel of user {user_id}"
    if not token_matches(token_hash, headers.get("x-goog-channel-token")):
        outcomes.refuse(key, "wrong_token", 403, now)
        return (403, b"forbidden", []), False
    if resource_id and headers.get("x-goog-resource-id") != resource_id:
        outcomes.refuse(key, "wrong_resource", 403, now)
        return (403, b"forbidden", []), False
    if headers.get("x-goog-resource-state", "") == "sync":
        outcomes.count("sync")
        return OK, False
    if not ready:
        outcomes.count("not_ready")
        return (503, b"not ready", []), False
    verdict = guard.admit(channel_id, headers.get("x-goog-message-number"), now)
    if verdict is Verdict.REPLAY:
        outcomes.refuse(key, "replayed", 200, now)
        return OK, False
    if verdict is Verdict.LIMITED:
        outcomes.refuse(key, "rate_limited", 503, now)
        retry = str(guard.retry_after(channel_id)).encode()
        return (503, b"too many notifications on this channel", [(b"retry-after", retry)]), False
    outcomes.count("accepted")
    return OK, True
