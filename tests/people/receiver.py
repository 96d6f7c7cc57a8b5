"""A webhook receiver on loopback (uvicorn) that records requests and answers as told."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from hybrid_calendar.listening import until_answering
from hybrid_calendar.prompt_server import PromptServer

from .conftest import free_port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int = 0


@dataclass
class Receiver:
    """Answers ``statuses`` in turn (then ``default``); ``redirect_to`` answers 307."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    default: int = 204
    redirect_to: str | None = None
    retry_after: str | None = None
    requests: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status = self.statuses.pop(0) if self.statuses else self.default
        self.requests.append(Received({k.decode(): v.decode() for k, v in scope["headers"]},
                                      body, status))
        self.arrived.set()
        headers = [(b"content-length", b"0")]
        if self.retry_after is not None:
            headers.append((b"retry-after", self.retry_after.encode()))
        if self.redirect_to:
            status, headers = 307, [*headers, (b"location", self.redirect_to.encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


@contextlib.asynccontextmanager
async def running_receiver(*, tls: tuple[str, str] | None = None, **options: Any
                           ) -> AsyncIterator[Receiver]:
    """A receiver on loopback; with ``tls=(certfile, keyfile)`` it speaks HTTPS and its URL
    names ``localhost``."""
    receiver = Receiver(**options)
    port = free_port()
    receiver.url = (f"https://localhost:{port}/hooks/calendar" if tls
                    else f"http://127.0.0.1:{port}/hooks/calendar")
    certfile, keyfile = tls if tls else (None, None)
    server = PromptServer(uvicorn.Config(receiver, host="127.0.0.1", port=port,
                                           lifespan="off", log_config=None,
                                           ssl_certfile=certfile, ssl_keyfile=keyfile))
    task = asyncio.create_task(server.serve())
    await until_answering(f"tcp://127.0.0.1:{port}", alive=lambda: not task.done())
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task
