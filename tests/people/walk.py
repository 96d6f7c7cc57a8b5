"""Walking every personal route of a running app (new routes are covered automatically)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from starlette.routing import Route

PUBLIC = {("/me/sign-in", "GET"), ("/me/sign-in", "POST"), ("/me/signed-out", "GET")}
"""Routes that take a sign-in code, or nothing personal, instead of a personal token."""


def personal_routes(app: Any) -> Iterator[tuple[str, str]]:
    """(path, method) of every route under ``/me`` and ``/api/v1/me``."""
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        if not (route.path == "/me" or route.path.startswith(("/me/", "/api/v1/me"))):
            continue
        for method in sorted(route.methods or ()):
            if method == "HEAD" or (route.path, method) in PUBLIC:
                continue
            yield route.path.replace("{name}", "page.js"), method


async def call(client: httpx.AsyncClient, path: str, method: str) -> tuple[int, str]:
    """Status and (the start of) the body; event streams are read up to the first ping."""
    async with client.stream(method, path) as response:
        body = b""
        async for chunk in response.aiter_bytes():
            body += chunk
            if response.headers.get("content-type", "").startswith("text/event-stream") \
                    and (b": ping" in body or len(body) > 65536):
                break
        return response.status_code, body.decode("utf-8", "replace")
