"""Webex's error responses, raised as :class:`ApiError` anywhere in request handling.

Every error answer carries Webex's body ``{"message", "errors": [{"description"}],
"trackingId"}`` (developer.webex.com/docs/basics, "Response codes"); a 429 carries
``Retry-After`` and no body. Exceptions::

    ApiError            an HTTP error answer (status, message, headers)
    └── RateLimited     429 Too Many Requests: Retry-After, no body
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An API call failed; carries what Webex's error answer needs."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None,
                 error_code: int | None = None) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.error_code = error_code

    def body(self, tracking_id: str) -> dict[str, Any] | None:
        """The JSON error body (``None``: no body)."""
        error: dict[str, Any] = {"description": self.message}
        if self.error_code is not None:
            error["errorCode"] = self.error_code
        return {"message": self.message, "errors": [error], "trackingId": tracking_id}


class RateLimited(ApiError):
    """429 with ``Retry-After`` and no body (Webex: "will not have a body")."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(429, "Too Many Requests",
                         headers={"Retry-After": str(max(0, retry_after))})

    def body(self, tracking_id: str) -> dict[str, Any] | None:
        """No body."""
        return None


def bad_request(message: str) -> ApiError:
    """400 with ``message``."""
    return ApiError(400, message)


def unauthorized() -> ApiError:
    """401: missing, unknown, expired or revoked access token (Webex's wording)."""
    return ApiError(401, "The request requires a valid access token set in the "
                         "Authorization request header.")


def forbidden(message: str | None = None) -> ApiError:
    """403: the token lacks a scope, or the caller may not act on the resource."""
    return ApiError(403, message or "The server understood the request, but refused to "
                                    "fulfill it because the access token is missing "
                                    "required scopes or the user is missing required roles "
                                    "or licenses.")


def not_found(message: str | None = None) -> ApiError:
    """404."""
    return ApiError(404, message or "The requested resource could not be found.")


def method_not_allowed() -> ApiError:
    """405: the path exists, the method does not."""
    return ApiError(405, "The request was made to a resource using an HTTP request method "
                         "that is not supported.")


def injected(status: int, retry_after: int | None = None) -> ApiError:
    """An error for fault injection: Webex's answer for ``status``."""
    if status == 429:
        return RateLimited(retry_after if retry_after is not None else 1)
    messages = {400: "The request was invalid or cannot be otherwise served.",
                401: unauthorized().message, 403: forbidden().message,
                404: not_found().message, 409: "The request could not be processed because "
                "it conflicts with some established rule of the system.",
                423: "The requested resource is temporarily unavailable.",
                500: "Something went wrong on the server.",
                502: "The server received an invalid response from an upstream server.",
                503: "Server is overloaded with requests. Try again later.",
                504: "An upstream server failed to respond on time."}
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return ApiError(status, messages.get(status, "Injected error."), headers=headers)
