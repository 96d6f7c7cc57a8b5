"""Google's JSON error bodies, raised as :class:`ApiError` anywhere in request handling.

Calendar's documented form is ``{"error": {"errors": [{domain, reason, message, ...}],
"code", "message"}}``; the newer front ends (Gmail) also send ``status``. The emulator always
includes ``status`` so clients that read it (gcal-sync) find it.
"""

from __future__ import annotations

from typing import Any

STATUS_NAMES: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    410: "FAILED_PRECONDITION",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class ApiError(Exception):
    """An API call failed; carries everything needed to render Google's error body."""

    def __init__(self, code: int, reason: str, message: str, *, domain: str = "global",
                 location: str | None = None, location_type: str | None = None,
                 status: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason
        self.message = message
        self.domain = domain
        self.location = location
        self.location_type = location_type
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON error body."""
        item: dict[str, Any] = {"domain": self.domain, "reason": self.reason,
                                "message": self.message}
        if self.location_type:
            item["locationType"] = self.location_type
        if self.location:
            item["location"] = self.location
        return {"error": {"errors": [item], "code": self.code, "message": self.message,
                          "status": self.status}}


def bad_request(message: str, reason: str = "invalid", *, location: str | None = None) -> ApiError:
    """400 with ``reason`` (``invalid``, ``required``, ``badRequest`` ...)."""
    return ApiError(400, reason, message, location=location,
                    location_type="parameter" if location else None)


def required(location: str) -> ApiError:
    """400 ``required`` for a missing parameter or field."""
    return ApiError(400, "required", "Required", location=location,
                    location_type="parameter" if "." not in location else None)


def not_found() -> ApiError:
    """404 ``notFound``."""
    return ApiError(404, "notFound", "Not Found")


def deleted() -> ApiError:
    """410 ``deleted`` (deleting an already deleted event)."""
    return ApiError(410, "deleted", "Resource has been deleted")


def full_sync_required() -> ApiError:
    """410 ``fullSyncRequired`` for an expired or invalid sync token."""
    return ApiError(410, "fullSyncRequired",
                    "Sync token is no longer valid, a full sync is required.",
                    domain="calendar", location="syncToken", location_type="parameter")


def condition_not_met() -> ApiError:
    """412 for an ``If-Match`` etag mismatch."""
    return ApiError(412, "conditionNotMet", "Precondition Failed", location="If-Match",
                    location_type="header")


def duplicate() -> ApiError:
    """409 ``duplicate`` for a client-supplied id already in use."""
    return ApiError(409, "duplicate", "The requested identifier already exists.")


def forbidden(message: str = "Forbidden", reason: str = "forbidden") -> ApiError:
    """403 for an operation the caller's access role does not allow."""
    return ApiError(403, reason, message)


def auth_error() -> ApiError:
    """401 for a missing, unknown or expired access token."""
    return ApiError(
        401, "authError",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential.",
        location="Authorization", location_type="header",
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})


def insufficient_scopes() -> ApiError:
    """403 when the access token lacks every scope the method accepts."""
    return ApiError(
        403, "insufficientPermissions", "Request had insufficient authentication scopes.",
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                                     'error="insufficient_scope"'})


RATE_LIMIT_ERRORS: dict[str, tuple[str, str, str]] = {
    "userRateLimitExceeded": ("usageLimits", "userRateLimitExceeded", "User Rate Limit Exceeded"),
    "rateLimitExceeded": ("usageLimits", "rateLimitExceeded", "Rate Limit Exceeded"),
    "quotaExceeded": ("usageLimits", "quotaExceeded", "Calendar usage limits exceeded."),
    "backendError": ("global", "backendError", "Backend Error"),
}


def injected(status: int, reason: str | None = None) -> ApiError:
    """An error for fault injection: Google's body for ``status`` (and optional reason)."""
    if reason is None:
        reason = {403: "rateLimitExceeded", 429: "rateLimitExceeded", 500: "backendError",
                  503: "backendError"}.get(status, "backendError")
    domain, reason, message = RATE_LIMIT_ERRORS.get(reason, ("global", reason, reason))
    if status == 503 and reason == "backendError":
        message = "The service is currently unavailable."
    return ApiError(status, reason, message, domain=domain)
