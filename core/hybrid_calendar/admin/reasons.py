"""Why a user is in ``error``: stable reason codes, plain words, and the fix.

A user's ``reason`` is stored as ``"<code>: <details>"``; the code is stable (scripts and
alerts may match it), the details say in plain words what happened. ``docs/admin.md``
lists every code with its fix; a test checks that list against :data:`REASONS`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hybrid_calendar.errors import (
    AccessDeniedError,
    AuthError,
    ConfigError,
    GatewayError,
    KeyManagementError,
)


class ReasonCode(enum.StrEnum):
    """Stable codes of a user's error state."""

    DOMAIN_NOT_VERIFIED = "domain_not_verified"
    PROVIDER_NOT_CONFIGURED = "provider_not_configured"
    TOKEN_REFUSED = "token_refused"
    ACCESS_DENIED = "access_denied"
    CALENDAR_UNREADABLE = "calendar_unreadable"
    SETTINGS_UNREADABLE = "settings_unreadable"
    VACATION_UNREADABLE = "vacation_unreadable"
    CHANNEL_REFUSED = "channel_refused"
    KMS_UNAVAILABLE = "kms_unavailable"
    SYNC_ACCESS_LOST = "sync_access_lost"
    PROVIDER_ERROR = "provider_error"
    VALIDATION_UNAVAILABLE = "validation_unavailable"


@dataclass(frozen=True, slots=True)
class Reason:
    """What a code means and what the administrator does about it."""

    meaning: str
    fix: str


REASONS: dict[ReasonCode, Reason] = {
    ReasonCode.DOMAIN_NOT_VERIFIED: Reason(
        "the address is not in one of the organisation's verified domains",
        "add the domain to the organisation (`org init --domain`), or mark this address "
        "verified (`users activate --mark-verified`) if it really belongs to the "
        "organisation"),
    ReasonCode.PROVIDER_NOT_CONFIGURED: Reason(
        "the organisation has no usable service-account key",
        "run `hybrid-calendar org init ... --service-account KEY.json`, then `users validate`"),
    ReasonCode.TOKEN_REFUSED: Reason(
        "Google refused to issue a token for the user: domain-wide delegation is missing, "
        "lacks a scope, or the user does not exist",
        "authorise the client id with the exact scopes `org init` prints (Admin console > "
        "Security > API controls > Domain-wide delegation); check the user exists"),
    ReasonCode.ACCESS_DENIED: Reason(
        "Google denied access to the user's data: the user is unknown, suspended or "
        "renamed, or the Calendar or Gmail API is disabled in the Cloud project",
        "check the account in the Google Admin console (and the address's spelling), or "
        "enable the Calendar and Gmail APIs, then `users validate`"),
    ReasonCode.CALENDAR_UNREADABLE: Reason(
        "the user's primary calendar could not be read (Google did not find it when the "
        "push channel was opened on it)",
        "check the calendar scope is delegated and the user has a calendar"),
    ReasonCode.SETTINGS_UNREADABLE: Reason(
        "the user's calendar settings (locale, time zone) could not be read",
        "check the calendar scope is delegated"),
    ReasonCode.VACATION_UNREADABLE: Reason(
        "the Gmail vacation responder could not be read",
        "delegate the gmail.settings.basic scope; check the user has a mailbox"),
    ReasonCode.CHANNEL_REFUSED: Reason(
        "Google refused to open a push channel to the gateway (`push.webhookUrlNotHttps`: "
        "not HTTPS; `push.webhookUrlUnauthorized`: a domain Google will not call)",
        "make google.push_address (else gateway.public_url) an HTTPS address Google can "
        "reach, with a publicly trusted certificate and its domain verified in the Cloud "
        "project, then `users validate`"),
    ReasonCode.KMS_UNAVAILABLE: Reason(
        "the key management service could not wrap the user's data key",
        "check `hybrid-calendar kms status`, then `users validate`"),
    ReasonCode.SYNC_ACCESS_LOST: Reason(
        "access was lost after activation (delegation revoked, user suspended or deleted)",
        "restore access, then `users validate`"),
    ReasonCode.PROVIDER_ERROR: Reason(
        "the provider refused a validation step for another reason (details follow)",
        "read the details; fix, then `users validate`"),
    ReasonCode.VALIDATION_UNAVAILABLE: Reason(
        "the provider kept failing (an outage or rate limits) until the validation's last "
        "attempt (`sync.job_max_attempts`); nothing is known to be wrong with the user",
        "wait until the provider answers again (see `/metrics` and the log), then "
        "`users validate`"),
}


def format_reason(code: ReasonCode, details: str | None = None) -> str:
    """The stored reason: ``"<code>: <details or the code's meaning>"``."""
    return f"{code}: {details or REASONS[code].meaning}"


def split_reason(reason: str | None) -> tuple[str | None, str | None]:
    """``(code, words)`` of a stored reason; a reason without a known code is
    ``(None, reason)`` (reasons written before the codes existed)."""
    if not reason:
        return None, None
    code, sep, words = reason.partition(": ")
    if sep and code in {c.value for c in ReasonCode}:
        return code, words
    return None, reason


def classify(err: GatewayError, step: ReasonCode = ReasonCode.PROVIDER_ERROR) -> ReasonCode:
    """The reason code of an error raised by validation step ``step``."""
    if isinstance(err, AuthError):
        return ReasonCode.TOKEN_REFUSED
    if isinstance(err, AccessDeniedError):
        return ReasonCode.ACCESS_DENIED
    if isinstance(err, ConfigError):
        return ReasonCode.PROVIDER_NOT_CONFIGURED
    if isinstance(err, KeyManagementError):
        return ReasonCode.KMS_UNAVAILABLE
    return step
