"""A stand-in for Google Chat's incoming webhooks, served over real HTTP on loopback.

It keeps what the sink relies on: ``POST /v1/spaces/{space}/messages?key=K&token=T``
answers 200 with the message, a ``requestId`` seen before answers the message created
then (no second message), an unknown space 404, a wrong key or token 401, and
:meth:`FakeChat.fail` makes every call answer a chosen status (429/503 with
``Retry-After``, 403, ...) until :meth:`FakeChat.restore`.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hybrid_calendar.threaded_server import ThreadedServer, bind


@dataclass
class Space:
    """One Chat space with an incoming webhook."""

    key: str
    token: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    by_request: dict[str, dict[str, Any]] = field(default_factory=dict)


class FakeChat:
    """The fake service; :meth:`start` serves it, :meth:`webhook` hands out URLs."""

    def __init__(self) -> None:
        self.spaces: dict[str, Space] = {}
        self.failure: tuple[int, dict[str, str]] | None = None
        self.lock = threading.Lock()
        self.app = Starlette(routes=[
            Route("/v1/spaces/{space}/messages", self.create_message, methods=["POST"])])
        self.server: ThreadedServer | None = None

    def start(self) -> None:
        """Serve on a free loopback port until :meth:`stop`."""
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off")
        self.server = ThreadedServer(bind(), uvicorn.Server(config), name="fake-chat")
        self.server.start()

    def stop(self) -> None:
        """Stop serving."""
        if self.server is not None:
            self.server.stop()

    def webhook(self, space: str) -> str:
        """Create ``space`` with a webhook and return its URL (a credential)."""
        assert self.server is not None, "start() first"
        created = Space(key=secrets.token_urlsafe(8), token=secrets.token_urlsafe(16))
        self.spaces[space] = created
        return (f"{self.server.base_url}/v1/spaces/{space}/messages"
                f"?key={created.key}&token={created.token}")

    def fail(self, status: int, headers: dict[str, str] | None = None) -> None:
        """Answer every call with ``status`` until :meth:`restore`."""
        self.failure = (status, headers or {})

    def restore(self) -> None:
        """Answer normally again."""
        self.failure = None

    async def create_message(self, request: Request) -> JSONResponse:
        """spaces.messages.create, as an incoming webhook calls it."""
        if self.failure is not None:
            status, headers = self.failure
            return _error(status, "failure injected by the test", headers)
        space = self.spaces.get(request.path_params["space"])
        if space is None:
            return _error(404, "Requested entity was not found.")
        query = request.query_params
        if query.get("key") != space.key or query.get("token") != space.token:
            return _error(401, "Request had invalid authentication credentials.")
        body = await request.json()
        if not body.get("text") and not body.get("cardsV2"):
            return _error(400, "Message cannot be empty.")
        with self.lock:
            request_id = query.get("requestId")
            if request_id and request_id in space.by_request:
                return JSONResponse(space.by_request[request_id])
            message = {"name": f"spaces/{request.path_params['space']}/messages/"
                               f"{len(space.messages) + 1}", **body}
            space.messages.append(message)
            if request_id:
                space.by_request[request_id] = message
        return JSONResponse(message)


def _error(status: int, message: str, headers: dict[str, str] | None = None
           ) -> JSONResponse:
    """Google's error body."""
    names = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
             404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}
    return JSONResponse({"error": {"code": status, "message": message,
                                   "status": names.get(status, "UNKNOWN")}},
                        status_code=status, headers=headers)
