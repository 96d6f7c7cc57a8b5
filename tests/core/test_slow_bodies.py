"""A request body trickled forever no longer holds its connection (and a request slot of the
concurrency limit): the body has a deadline of its own, as the head has."""

from __future__ import annotations

import asyncio
import logging

import pytest

from hybrid_calendar.server_limits import HeaderTimeoutProtocol

from .test_http_hardening import base_url, errors  # noqa: F401

pytestmark = pytest.mark.anyio


async def test_slow_bodies_are_cut_off(base_url: str,  # noqa: F811
                                       errors: pytest.LogCaptureFixture,  # noqa: F811
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HeaderTimeoutProtocol, "body_timeout", 0.3, raising=False)
    port = int(base_url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /api/v1/organisations HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
    await writer.drain()
    try:  # the body never finishes: the server must give up, not wait forever
        closed = await asyncio.wait_for(reader.read(), timeout=15)
    finally:
        writer.close()
    assert b"HTTP/1.1 200" not in closed and b"HTTP/1.1 201" not in closed
    await asyncio.sleep(0.2)
    assert not [r for r in errors.records if r.levelno >= logging.ERROR]
