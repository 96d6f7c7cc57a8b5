"""The HTTP surface under hostile clients (issue 15, items 9, 10 and 12).

A real gateway (kms_local, join_info) runs under uvicorn with the settings of
``hybrid-calendar serve`` (:func:`hybrid_calendar.server.uvicorn_config`) on loopback.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from hybrid_calendar.listening import until_answering
from hybrid_calendar.loading import load_config
from hybrid_calendar.prompt_server import PromptServer
from hybrid_calendar.server import uvicorn_config
from hybrid_calendar.server_limits import HeaderTimeoutProtocol

pytestmark = pytest.mark.anyio
TOKEN = "hardening-admin-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class QuickHeaderTimeout(HeaderTimeoutProtocol):
    """The production protocol with a deadline a test can wait for."""

    header_timeout = 0.3


@pytest.fixture
async def base_url(tmp_path: Path) -> AsyncIterator[str]:
    port = free_port()
    config, pm = load_config(None, overrides={
        "plugins": {"enabled": ["kms_local", "join_info"], "load_entrypoints": False},
        "gateway": {"port": port, "data_dir": str(tmp_path / "data"), "admin_token": TOKEN,
                    "gc_threshold": 0}}, environ={})
    settings = uvicorn_config(config, pm)
    assert settings.http is HeaderTimeoutProtocol  # serve's settings: bounded connections
    assert settings.limit_concurrency and settings.timeout_keep_alive <= 5
    settings.http = QuickHeaderTimeout
    server = PromptServer(settings)
    task = asyncio.create_task(server.serve())
    base = f"http://127.0.0.1:{port}"
    await until_answering(base + "/healthz", alive=lambda: not task.done())
    try:
        yield base
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.ERROR)
    yield caplog


def admin(base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, timeout=30,
                             headers={"Authorization": f"Bearer {TOKEN}"})


async def test_large_admin_bodies_are_refused(base_url: str) -> None:
    async with admin(base_url) as client:
        big = b'{"id": "' + b"x" * 2_000_000 + b'"}'
        response = await client.post("/api/v1/organisations", content=big,
                                     headers={"Content-Type": "application/json"})
        assert response.status_code == 413

        async def stream() -> AsyncIterator[bytes]:
            for _ in range(40):
                yield b" " * 65_536

        try:  # the gateway answers 413 and closes while the client may still be sending
            response = await client.post("/api/v1/organisations", content=stream(),
                                         headers={"Content-Type": "application/json"})
            assert response.status_code == 413
        except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
            pass
        listed = await client.get("/api/v1/organisations")
        assert listed.status_code == 200 and listed.json()["organisations"] == []


async def test_deeply_nested_json_is_a_400(base_url: str,
                                           errors: pytest.LogCaptureFixture) -> None:
    async with admin(base_url) as client:
        for body in (b"[" * 100_000, b'{"a":' * 50_000):
            response = await client.post("/api/v1/organisations", content=body,
                                         headers={"Content-Type": "application/json"})
            assert response.status_code == 400, response.text
            assert "nested" in response.json()["error"]["message"]
        ordinary = await client.post("/api/v1/organisations", json={
            "id": "org1", "name": "Example", "domain": "example.com",
            "settings": {"a": [[["deep enough"]]]}})
        assert ordinary.status_code == 201, ordinary.text
    assert not [r for r in errors.records if r.levelno >= logging.ERROR]


async def test_readyz_shows_details_to_admins_only(base_url: str, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=base_url) as anonymous:
        public = await anonymous.get("/readyz")
    assert set(public.json()) == {"ready"}
    assert str(tmp_path) not in public.text
    async with admin(base_url) as client:
        detailed = await client.get("/readyz")
    assert {"ready", "kms", "store"} <= set(detailed.json())


async def test_plugin_listing_needs_admin_credentials(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as anonymous:
        assert (await anonymous.get("/-/plugins.json")).status_code == 401
    async with admin(base_url) as client:
        listing = await client.get("/-/plugins.json")
    assert listing.status_code == 200 and "kms_local" in listing.text


async def test_trailing_slash_never_redirects_to_the_callers_host(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.get("/healthz/", headers={"Host": "evil.example"})
    assert "evil.example" not in response.headers.get("location", "")
    assert response.status_code == 404


async def test_slow_headers_are_cut_off(base_url: str) -> None:
    port = int(base_url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
    await writer.drain()
    closed = await asyncio.wait_for(reader.read(), timeout=20)  # EOF once the server closes
    assert closed == b""
    writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert b"200 OK" in await asyncio.wait_for(reader.read(), timeout=20)
    writer.close()


async def test_keep_alive_requests_get_a_new_header_deadline(base_url: str) -> None:
    port = int(base_url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")  # kept alive
    first = await asyncio.wait_for(reader.readuntil(b'{"status":"ok"}'), timeout=20)
    assert b"200 OK" in first
    writer.write(b"GET /healthz HTTP/1.1\r\n")  # the next request's headers never finish
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), timeout=20) == b""  # closed by the deadline
    writer.close()


async def test_an_endless_request_head_is_refused(base_url: str) -> None:
    port = int(base_url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    filler = b"".join(f"X-Filler-{index}: ".encode() + b"a" * 2000 + b"\r\n"
                      for index in range(34))  # 68 kB: past the 64 kB limit, never finished
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + filler)  # then nothing more
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=20)
    assert answer.startswith(b"HTTP/1.1 400") and answer.endswith(b"Request head too large.")
    writer.close()
