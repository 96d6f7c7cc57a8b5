"""A scripted HTTP/1.1 server on loopback for the outbound pool's tests.

It reads real requests from real sockets and answers with the exact bytes a test gives,
so framing a library server would never produce (bare chunk extensions, close-delimited
bodies, a close instead of an answer) can be tested.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

CLOSE = b""
"""An answer that closes the connection without a response."""

HANG = None
"""An answer that never comes (the connection stays open until the client closes it)."""


@dataclass
class Received:
    """One request as the server read it."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    connection: int


Answer = Callable[[Received], Awaitable[bytes | None]]


@dataclass
class ScriptedServer:
    """Serves ``answer(request)`` on ``127.0.0.1``; ``url`` once started."""

    answer: Answer
    requests: list[Received] = field(default_factory=list)
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    url: str = ""
    close_after_answer: bool = False
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def until(self, condition: Callable[[], bool]) -> None:
        """Return once ``condition()`` holds (checked whenever the server's state changes)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(condition), 10)

    async def _note(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        await self._note()
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = Received(method, target, headers, body, number)
                self.requests.append(request)
                await self._note()
                reply = await self.answer(request)
                if reply is None:
                    await reader.read()  # until the client gives up
                    return
                if not reply:
                    return
                writer.write(reply)
                try:
                    await writer.drain()
                except ConnectionError:
                    return
                if self.close_after_answer or b"\r\nconnection: close" in reply.lower():
                    return
        finally:
            self.open_now -= 1
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            await self._note()


@contextlib.asynccontextmanager
async def scripted_server(answer: Answer, *, tls: ssl.SSLContext | None = None
                          ) -> AsyncIterator[ScriptedServer]:
    """Run a :class:`ScriptedServer` for the block."""
    server = ScriptedServer(answer)
    listening = await asyncio.start_server(server._serve, "127.0.0.1", 0, ssl=tls)
    port = listening.sockets[0].getsockname()[1]
    server.url = f"{'https' if tls else 'http'}://{'localhost' if tls else '127.0.0.1'}:{port}"
    try:
        yield server
    finally:
        listening.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(listening.wait_closed(), 5)


def response(body: bytes = b"{}", *, status: str = "200 OK",
             headers: tuple[str, ...] = ("Content-Type: application/json",)) -> bytes:
    """A complete response with ``Content-Length``."""
    head = [f"HTTP/1.1 {status}", *headers, f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body
