"""The Google push route against hostile input: a message number too long for ``int()``,
a body that never ends at the receiver process."""

from __future__ import annotations

from typing import Any

import pytest

from hybrid_calendar_google.push_inbox import inbox

from .test_webhook import _count_sync_requests, _headers, receiver  # noqa: F401


@pytest.mark.anyio
async def test_a_message_number_too_long_for_int_is_not_a_500(receiver: Any  # noqa: F811
                                                              ) -> None:
    """``int()`` refuses more than 4300 digits (``ValueError``): a 500 and a traceback
    per notification, on the route and in the receiver process alike."""
    gateway, client = receiver
    requested = _count_sync_requests(gateway)
    response = await client.post("/webhooks/google", headers=_headers(
        **{"X-Goog-Message-Number": "9" * 5000}))
    assert response.status_code == 200
    await inbox(gateway).drain()
    assert requested == ["u1"]


@pytest.mark.anyio
async def test_the_receiver_process_cuts_off_a_body_that_never_ends(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The push receiver's deadline stopped at the end of the headers: a body trickled
    (or announced and never sent) held the connection, one of its 1000, forever."""
    import asyncio

    from hybrid_calendar_google import push_http
    from hybrid_calendar_google.push_desk import PushDesk

    monkeypatch.setattr(push_http, "SWEEP_SECONDS", 0.05)
    monkeypatch.setattr(push_http, "BODY_TIMEOUT", 0.3, raising=False)

    async def lookup(channel_id: str) -> None:
        return None

    connections = push_http.Connections()
    server = await asyncio.get_running_loop().create_server(
        lambda: push_http.PushHttpProtocol(PushDesk(lookup), connections), "127.0.0.1", 0)
    sweeper = asyncio.create_task(connections.sweep())
    try:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /webhooks/google HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 1000\r\n\r\n{")
        await writer.drain()
        try:
            assert await asyncio.wait_for(reader.read(), timeout=12) == b""
        finally:
            writer.close()
    finally:
        sweeper.cancel()
        server.close()
        await server.wait_closed()
