"""The whole gateway on the PostgreSQL store: chosen by a postgresql:// URL, end to end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn

from hybrid_calendar.app import create_app
from hybrid_calendar.builder import build_gateway
from hybrid_calendar.clock import ManualClock
from hybrid_calendar.listening import until_answering
from hybrid_calendar.loading import load_config
from hybrid_calendar.prompt_server import PromptServer
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar_google_emulator.testing import RunningEmulator

from .conftest import ADMIN_TOKEN, ALICE, CaptureSink, Stack, free_port, gateway_overrides
from .test_gateway_with_emulator import at

pytestmark = pytest.mark.anyio


@pytest.fixture
async def pg_stack(emulator: RunningEmulator, tmp_path: Path, postgres_url: str
                   ) -> AsyncIterator[Stack]:
    port = free_port()
    overrides = gateway_overrides(emulator, tmp_path, port)
    overrides["gateway"]["database"] = postgres_url
    config, pm = load_config(None, overrides=overrides, environ={})
    sink = CaptureSink()
    pm.register(sink, name="capture")
    gateway = build_gateway(config, pm, clock=ManualClock())
    server = PromptServer(uvicorn.Config(create_app(gateway), host="127.0.0.1", port=port,
                                           lifespan="on", log_config=None))
    task = asyncio.create_task(server.serve())
    base = f"http://127.0.0.1:{port}"
    await until_answering(base + "/healthz", alive=lambda: not task.done())
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30, headers={
                "Authorization": f"Bearer {ADMIN_TOKEN}"}) as admin:
            stack = Stack(emulator, gateway, admin, sink, base)
            await stack.provision()
            yield stack
    finally:
        server.should_exit = True
        await task


async def test_a_postgresql_url_runs_the_gateway_on_postgresql(
        pg_stack: Stack, postgres_url: str, tmp_path: Path) -> None:
    assert isinstance(pg_stack.gateway.store, PostgresStore)
    pg_stack.emu.state.insert_event(ALICE, at(2, summary="Design review",
                                              location="@webex"))
    pg_stack.emu.state.insert_event(ALICE, at(5, summary="Planning"))
    user = await pg_stack.activate(ALICE)
    assert user["state"] == "active"
    titles = sorted(m["title"] for m in await pg_stack.meetings(ALICE))
    assert titles == ["Design review", "Planning"]
    with psycopg.connect(postgres_url) as conn:
        keys = conn.execute("SELECT count(*) FROM crypto_keys").fetchone()
        meetings = conn.execute("SELECT count(*) FROM meetings").fetchone()
    assert keys is not None and keys[0] >= 2  # the organisation's and Alice's data keys
    assert meetings == (2,)
    assert not list(tmp_path.rglob("*.sqlite3"))  # nothing went to a SQLite file
