"""A demo user's view of the gateway: personal API, page, calendar feed and event stream.

The walkthrough issues a personal token per user through the admin API and then reads
what that user sees, exactly as their browser, calendar app or device would: the JSON
meetings list, the ``/me`` page, the iCalendar feed (parsed with ``icalendar``) and the
server-sent event stream, collected in the background from before a Join button is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from icalendar import Calendar


@dataclass
class StreamEvent:
    """One server-sent event: its name and JSON data."""

    event: str
    data: Any


@dataclass
class Person:
    """A demo user with a personal token for the gateway at ``base``."""

    email: str
    user_id: str
    token: str
    base: str
    received: list[StreamEvent] = field(default_factory=list)

    def client(self) -> httpx.AsyncClient:
        """A client speaking as this person."""
        return httpx.AsyncClient(base_url=self.base, timeout=30, headers={
            "Authorization": f"Bearer {self.token}"})

    async def meetings(self) -> list[dict[str, Any]]:
        """The personal API's meetings list."""
        async with self.client() as client:
            response = await client.get("/api/v1/me/meetings")
            response.raise_for_status()
            return list(response.json()["meetings"])

    async def presence(self) -> bool | None:
        """The personal API's out-of-office state."""
        async with self.client() as client:
            response = await client.get("/api/v1/me/presence")
            response.raise_for_status()
            value = response.json()["out_of_office"]
            return None if value is None else bool(value)

    async def page(self) -> str:
        """The ``/me`` page's HTML."""
        async with self.client() as client:
            response = await client.get("/me")
            response.raise_for_status()
            return response.text

    async def static(self, name: str) -> str:
        """One of the page's static files (``page.js``, ``page.css``)."""
        async with self.client() as client:
            response = await client.get(f"/me/static/{name}")
            response.raise_for_status()
            return response.text

    async def feed_events(self) -> list[dict[str, str]]:
        """The calendar feed's events (``summary`` and ``url``), fetched the way calendar
        apps subscribe: the token in the query, no header."""
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as client:
            response = await client.get("/api/v1/me/calendar.ics",
                                        params={"token": self.token})
            response.raise_for_status()
        calendar = Calendar.from_ical(response.content)
        return [{"summary": str(e.get("summary", "")), "url": str(e.get("url", ""))}
                for e in calendar.walk("VEVENT")]

    def stream_events(self, name: str) -> list[StreamEvent]:
        """Events named ``name`` received so far on the stream."""
        return [e for e in self.received if e.event == name]

    @contextlib.asynccontextmanager
    async def streaming(self) -> AsyncIterator[None]:
        """Follow the event stream in the background while the block runs."""
        ready = asyncio.Event()
        task = asyncio.create_task(self._follow(ready))
        try:
            await asyncio.wait_for(ready.wait(), timeout=30)
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _follow(self, ready: asyncio.Event) -> None:
        async with self.client() as client, \
                client.stream("GET", "/api/v1/me/stream") as response:
            response.raise_for_status()
            ready.set()
            fields: dict[str, str] = {}
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    continue
                if line:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
                    continue
                if "data" in fields:
                    self.received.append(StreamEvent(fields.get("event", "message"),
                                                     json.loads(fields["data"])))
                fields = {}


async def issue_person(admin: httpx.AsyncClient, base: str, email: str, user_id: str
                       ) -> Person:
    """Issue ``email`` a personal token through the admin API."""
    response = await admin.post(f"/api/v1/users/{user_id}/access",
                                json={"kind": "token", "label": "demo"})
    response.raise_for_status()
    return Person(email, user_id, str(response.json()["secret"]), base)


async def sign_in_link(admin: httpx.AsyncClient, user_id: str) -> str:
    """A one-time sign-in link to ``user_id``'s page, valid for a day."""
    response = await admin.post(f"/api/v1/users/{user_id}/access",
                                json={"kind": "link", "days": 1, "label": "demo"})
    response.raise_for_status()
    return str(response.json()["url"])
