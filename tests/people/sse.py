"""A small server-sent-events reader over an httpx streaming response (test helper)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Received:
    """One event as a client sees it."""

    event: str
    id: str | None
    data: Any


PING = Received("(ping)", None, None)


class SseReader:
    """Reads events from an open stream."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._items = self._read()

    async def _read(self) -> AsyncIterator[Received]:
        fields: dict[str, str] = {}
        async for line in self.response.aiter_lines():
            if line.startswith(":"):
                yield PING
            elif not line:
                if fields:
                    yield Received(fields.get("event", "message"), fields.get("id"),
                                   json.loads(fields.get("data", "null")))
                    fields = {}
            else:
                name, _, value = line.partition(":")
                fields[name] = value[1:] if value.startswith(" ") else value

    async def next(self, limit: float = 10.0) -> Received:
        """The next event (keep-alive comments skipped)."""
        async with asyncio.timeout(limit):
            async for item in self._items:
                if item is not PING:
                    return item
        raise EOFError("stream ended")

    async def until_ping(self, limit: float = 10.0) -> list[Received]:
        """Every event before the next keep-alive comment (nothing more is pending)."""
        found: list[Received] = []
        async with asyncio.timeout(limit):
            async for item in self._items:
                if item is PING:
                    return found
                found.append(item)
        raise EOFError("stream ended")


@contextlib.asynccontextmanager
async def open_stream(client: httpx.AsyncClient, last_event_id: str | None = None
                      ) -> AsyncIterator[SseReader]:
    headers = {"Last-Event-ID": last_event_id} if last_event_id is not None else {}
    async with client.stream("GET", "/api/v1/me/stream", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield SseReader(response)
