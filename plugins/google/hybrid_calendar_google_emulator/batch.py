"""The batch endpoint (``/batch/calendar/v3``): multipart/mixed in, multipart/mixed out.

Each part is an ``application/http`` request with a path-only URL; each is dispatched like a
separate call (authenticated, counted against quota, fault-checked), and the responses come
back in the same order with ``Content-ID: <response-ID>``.
"""

from __future__ import annotations

import email.parser
import email.policy
import secrets
import urllib.parse
from http import HTTPStatus

from hybrid_calendar_google_emulator.api_errors import ApiError, bad_request
from hybrid_calendar_google_emulator.dispatch import ApiRequest, ApiResponse, Dispatcher


def parse_parts(content_type: str, body: bytes) -> list[tuple[str | None, ApiRequest]]:
    """The (Content-ID, request) pairs of a multipart/mixed batch body.

    :raises ApiError: 400 for a body that is not multipart or a malformed part.
    """
    if not content_type.startswith("multipart/"):
        raise bad_request("Batch requests must be multipart/mixed.")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise bad_request("Batch requests must be multipart/mixed.")
    parts = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            raise bad_request("Malformed batch part.")
        parts.append((part.get("Content-ID"), parse_http(payload)))
    return parts


def parse_http(raw: bytes) -> ApiRequest:
    """An embedded HTTP request (request line, headers, blank line, body)."""
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    lines = head.decode("utf-8", "replace").strip().split("\n")
    try:
        method, target = lines[0].split()[:2]
    except ValueError as err:
        raise bad_request("Malformed batch part request line.") from err
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    split = urllib.parse.urlsplit(target)
    params = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
    return ApiRequest(method.upper(), split.path, params, headers, body.rstrip(b"\n"))


def _response_id(content_id: str | None, index: int) -> str:
    if content_id:
        inner = content_id.strip("<>")
        return f"<response-{inner}>"
    return f"<response-{index + 1}>"


def handle_batch(dispatcher: Dispatcher, content_type: str, body: bytes,
                 outer_headers: dict[str, str], max_parts: int) -> ApiResponse:
    """Run every part and build the multipart/mixed answer."""
    try:
        parts = parse_parts(content_type, body)
        if len(parts) > max_parts:
            raise bad_request(f"A batch request cannot contain more than {max_parts} calls.",
                              "tooManyRequests")
    except ApiError as err:
        return ApiResponse.json(err.code, err.body())
    boundary = "batch_" + secrets.token_hex(12)
    chunks = []
    for index, (content_id, request) in enumerate(parts):
        if "authorization" not in request.headers and "authorization" in outer_headers:
            request.headers["authorization"] = outer_headers["authorization"]
        response = dispatcher.handle(request)
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        lines = [f"HTTP/1.1 {response.status} {reason}"]
        lines += [f"{k.title()}: {v}" for k, v in response.headers.items()]
        lines.append(f"Content-Length: {len(response.body)}")
        inner = ("\r\n".join(lines) + "\r\n\r\n").encode() + response.body
        chunks.append(f"--{boundary}\r\nContent-Type: application/http\r\n"
                      f"Content-ID: {_response_id(content_id, index)}\r\n\r\n".encode()
                      + inner + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return ApiResponse(200, b"".join(chunks),
                       {"content-type": f"multipart/mixed; boundary={boundary}"})
