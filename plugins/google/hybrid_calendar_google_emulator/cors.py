"""Cross-origin requests, as Google's APIs allow them (the JavaScript client's CORS guide:
"Google APIs support requests and responses using Cross-origin Resource Sharing").

Only the API roots take part (``/calendar/v3/``, ``/gmail/v1/``, ``/batch``); the token
endpoint and ``/emulator/control`` stay same-origin, so a web page cannot reconfigure a
local emulator. A preflight (``OPTIONS`` with ``Origin`` and
``Access-Control-Request-Method``) is answered 200 with the origin, method and requested
headers allowed; an actual request with ``Origin`` gets ``Access-Control-Allow-Origin``
(the origin echoed; bearer tokens are headers, not cookies) and ``Vary: Origin``. The exact
header values Google sends are not documented.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_PREFIXES = ("/calendar/v3/", "/gmail/v1/", "/batch")
ALLOWED_METHODS = "DELETE,GET,HEAD,PATCH,POST,PUT"
EXPOSED_HEADERS = "Content-Encoding,Content-Length,Content-Type,Date,ETag,Server,Vary"


class CorsMiddleware:
    """ASGI middleware adding CORS to the API roots."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer preflights; add the allow-origin header to cross-origin API responses."""
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(origin, headers, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      (b"access-control-allow-origin", origin.encode("latin-1")),
                                      (b"access-control-expose-headers",
                                       EXPOSED_HEADERS.encode()),
                                      (b"vary", b"Origin")]
            await send(message)

        await self.app(scope, receive, send_with_cors)

    @staticmethod
    async def _preflight(origin: str, headers: dict[str, str], send: Send) -> None:
        answer = [(b"access-control-allow-origin", origin.encode("latin-1")),
                  (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
                  (b"access-control-max-age", b"3600"),
                  (b"vary", b"Origin"),
                  (b"content-length", b"0")]
        requested = headers.get("access-control-request-headers")
        if requested:
            answer.append((b"access-control-allow-headers", requested.encode("latin-1")))
        await send({"type": "http.response.start", "status": 200, "headers": answer})
        await send({"type": "http.response.body", "body": b""})
