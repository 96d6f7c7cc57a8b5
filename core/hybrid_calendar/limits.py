"""Request limits enforced before any endpoint reads a body.

:class:`RequestLimits` is ASGI middleware over every route (admin, people, webhooks):

==============================================  ==========================================
request                                         answer
==============================================  ==========================================
``Content-Length`` above :data:`MAX_BODY_BYTES`   413, the body is not read
a streamed body growing past the limit           413, reading stops there
a JSON body nested deeper than :data:`MAX_DEPTH`  400 (``json.loads`` would raise
                                                 ``RecursionError``: a 500 and a traceback)
anything else                                    passed on, the body replayed unchanged
==============================================  ==========================================
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hybrid_calendar import logs

MAX_BODY_BYTES = 1_048_576
"""Largest request body accepted (1 MiB): an admin or API request is a few kB."""
MAX_DEPTH = 64
"""Deepest JSON nesting accepted (objects and arrays)."""


def json_depth(body: bytes) -> int:
    """The deepest nesting of ``[`` and ``{`` outside strings, in one linear pass."""
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return body.count(b"[") + body.count(b"{")  # an upper bound, cheap
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


class RequestLimits:
    """ASGI middleware enforcing :data:`MAX_BODY_BYTES` and :data:`MAX_DEPTH`."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES,
                 max_depth: int = MAX_DEPTH) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the body of an HTTP request, then pass the request on."""
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            await _refuse(send, 413, "request body larger than "
                                     f"{self.max_bytes} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left (or was cut off) before its body was complete
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _refuse(send, 413, f"request body larger than {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            more = bool(message.get("more_body"))
        body = b"".join(chunks)
        if b"json" in headers.get(b"content-type", b"json") and \
                json_depth(body) > self.max_depth:
            await _refuse(send, 400, f"JSON nested deeper than {self.max_depth} levels")
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body,
                                        "more_body": False}], receive), send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}
    return receive


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": {"code": f"http_{status}", "message": message,
                                 "request_id": logs.request_id.get()}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
