"""Async use: the running emulator from an anyio test, and ``create_app`` in process."""

from __future__ import annotations

import httpx
import pytest
from google.auth import crypt, jwt

from hybrid_calendar_google_emulator.app import create_app
from hybrid_calendar_google_emulator.options import EmulatorOptions
from hybrid_calendar_google_emulator.state import EmulatorState
from hybrid_calendar_google_emulator.testing import running_emulator
from tests.google_emulator.helpers import ALICE, CALENDAR, timed


def grant(info: dict[str, str], aud: str = "https://oauth2.googleapis.com/token") -> str:
    """A signed JWT-bearer assertion for Alice."""
    import time

    now = int(time.time())
    signer: crypt.Signer = crypt.RSASigner.from_service_account_info(info)  # type: ignore[no-untyped-call]  # google-auth: no hints
    assertion: bytes = jwt.encode(signer, {  # type: ignore[no-untyped-call]  # google-auth: no hints
        "iss": info["client_email"], "sub": ALICE, "aud": aud, "scope": CALENDAR,
        "iat": now, "exp": now + 3600})
    return assertion.decode()


@pytest.mark.anyio
async def test_running_emulator_from_async_code() -> None:
    with running_emulator(users=[ALICE], fresh_key=False) as emu:
        emu.state.insert_event(ALICE, timed("x", "2026-12-01T10:00:00Z",
                                            "2026-12-01T11:00:00Z"))
        async with httpx.AsyncClient(base_url=emu.base_url) as client:
            token = (await client.post("/token", data={
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": grant(emu.service_account_info)})).json()["access_token"]
            response = await client.get(
                "/calendar/v3/calendars/alice%40example.com/events",
                params={"fields": "items(summary)"},
                headers={"Authorization": f"Bearer {token}"})
        assert response.json() == {"items": [{"summary": "x"}]}


@pytest.mark.anyio
async def test_create_app_in_process() -> None:
    state = EmulatorState(EmulatorOptions(users=[ALICE], fresh_key=False),
                          base_url="http://emulator.test")
    app = create_app(state)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport,
                                     base_url="http://emulator.test") as client:
            info = state.service_account_info
            assert info["token_uri"] == "http://emulator.test/token"
            token = (await client.post("/token", data={
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": grant(info, aud=info["token_uri"])})).json()["access_token"]
            created = await client.post(
                "/calendar/v3/calendars/primary/events",
                json=timed("y", "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"),
                headers={"Authorization": f"Bearer {token}"})
            assert created.status_code == 200
            assert list(created.json())[:3] == ["kind", "etag", "id"]
            compact = await client.get("/calendar/v3/users/me/settings/locale",
                                       params={"prettyPrint": "false"},
                                       headers={"Authorization": f"Bearer {token}"})
            assert b"\n" not in compact.content
    finally:
        state.close()


def test_accepted_connections_have_tcp_nodelay() -> None:
    """Without TCP_NODELAY each response waits ~40 ms for the client's delayed ACK; asyncio
    sets it on accepted sockets only when the listening socket says IPPROTO_TCP."""
    import asyncio
    import socket

    from hybrid_calendar.threaded_server import bind

    async def accepted_nodelay() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(handle, sock=bind())
        host, port = server.sockets[0].getsockname()[:2]
        _, writer = await asyncio.open_connection(host, port)
        try:
            return await asyncio.wait_for(seen, 10)
        finally:
            writer.close()
            server.close()
            await server.wait_closed()

    assert asyncio.run(accepted_nodelay()) != 0
