"""The push receiver process (``google.push_listen``) through the real app machinery.

The gateway's app is served by uvicorn on loopback with its lifespan (which starts the
receiver process through the plugin's ``startup`` hook); channels are opened on the Google
emulator, which delivers its notifications to the receiver over HTTP.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import select
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import trustme
from prometheus_client import generate_latest

from hybrid_calendar.admin.metrics import metrics
from hybrid_calendar.app import create_app, readiness
from hybrid_calendar.listening import until_answering, wait_until_answering
from hybrid_calendar.models import Channel, User, UserState
from hybrid_calendar.prompt_server import PromptServer
from hybrid_calendar.server import http_settings
from hybrid_calendar_google.push_supervisor import SERVICE, PushReceiver, receiver_of

from ..core.test_server import free_port
from .conftest import emulator_settings

ALICE = User(id="u1", org_id="org1", email="alice@example.com", state=UserState.ACTIVE)
TOKEN = "Zt6QYpA0m2kq6hS1cC3m4eFVb9x8wQn1t0aLr5sUu2Y"
LOGGER = "hybrid_calendar_google.push_refusals"


@dataclass
class Running:
    """A served gateway with its receiver process."""

    gateway: Any
    receiver: PushReceiver
    url: str
    """The receiver's webhook URL."""
    main_url: str
    """The gateway's own base URL."""

    async def jobs(self) -> int:
        """Jobs in the store once the receiver and the inbox handed over what they hold."""
        await self.receiver.flush()
        return sum((await self.gateway.store.job_counts()).values())


@pytest.fixture
async def running(make_gateway: Any, emulator: Any) -> AsyncIterator[Running]:
    gateway = await make_gateway(emulator_settings(emulator, push_listen="127.0.0.1:0"))
    await gateway.store.put_user(ALICE)
    # stored before start-up: the receiver gets it with the start-up snapshot
    await gateway.store.put_channel(Channel("chan-1", "u1", "RES-1", TOKEN,
                                            datetime(2030, 1, 1, tzinfo=UTC)))
    app = create_app(gateway, start_engine=False)  # jobs stay queued and countable
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    main_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = PromptServer(http_settings(app, "127.0.0.1", 0))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await until_answering(main_url + "/healthz", alive=lambda: not task.done())
        receiver = receiver_of(gateway)
        assert receiver is not None
        await receiver.started.wait()
        url = receiver.base_url + "/webhooks/google"
        gateway.config = gateway.config.replace("google", push_address=url)
        yield Running(gateway, receiver, url, main_url)
    finally:
        server.should_exit = True
        await task
        sock.close()


def _headers(channel_id: str = "chan-1", token: str = TOKEN, number: int = 10,
             overrides: dict[str, str] | None = None) -> dict[str, str]:
    headers = {"X-Goog-Channel-ID": channel_id, "X-Goog-Channel-Token": token,
               "X-Goog-Resource-ID": "RES-1", "X-Goog-Resource-State": "exists",
               "X-Goog-Message-Number": str(number)}
    headers.update(overrides or {})
    return {k: v for k, v in headers.items() if v}


def _sample(gateway: Any, outcome: str) -> float:
    text = generate_latest(metrics(gateway).registry).decode()
    line = f'hybrid_calendar_google_push_total{{outcome="{outcome}"}} '
    found = [row for row in text.splitlines() if row.startswith(line)]
    return float(found[0].split()[-1]) if found else 0.0


def _event() -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(days=1)
    return {"summary": "sync me", "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(hours=1)).isoformat()}}


async def _push_idle(emulator: Any) -> None:
    """Wait (off the event loop) until the emulator handled every push it queued."""
    assert await anyio.to_thread.run_sync(emulator.state.push.wait_idle, 10.0)


async def _watch(gateway: Any) -> Channel:
    channel: Channel = await gateway.hooks.watch_calendar(gateway, ALICE, "k" * 43)
    await gateway.store.put_channel(replace(channel, token="k" * 43))
    return channel


@pytest.mark.anyio
async def test_emulator_notifications_are_answered_by_the_receiver_process(
        running: Running, emulator: Any) -> None:
    gateway = running.gateway
    channel = await _watch(gateway)
    await _push_idle(emulator)  # the channel's "sync" message
    delivered = [d for d in emulator.state.push.deliveries if d.channel_id == channel.id]
    assert [d.status for d in delivered] == [200]
    assert await running.jobs() == 0 and _sample(gateway, "sync") == 1
    emulator.state.insert_event("alice@example.com", _event())
    await _push_idle(emulator)
    assert await running.jobs() == 1
    assert _sample(gateway, "accepted") == 1
    delivered = [d for d in emulator.state.push.deliveries if d.channel_id == channel.id]
    assert [d.status for d in delivered] == [200, 200]


@pytest.mark.anyio
async def test_push_is_answered_while_the_gateways_event_loop_is_blocked(
        running: Running) -> None:
    """The structural point: this test runs on the gateway's event loop, and a
    synchronous request blocks that loop; the receiver, another process, still answers
    (from what it was given at start-up: no look-up could be answered meanwhile)."""
    with httpx.Client(timeout=10) as blocking:
        # blocking on purpose: the gateway's loop must not run meanwhile
        answers = [blocking.post(running.url,  # noqa: ASYNC212
                                 headers=_headers(number=n)).status_code
                   for n in range(10, 15)]
        refused = blocking.post(running.url,  # noqa: ASYNC212
                                headers=_headers(token="guess")).status_code
    assert answers == [200] * 5 and refused == 403
    assert await running.jobs() == 1  # five hints of one user: one job
    assert _sample(running.gateway, "accepted") == 5
    assert _sample(running.gateway, "wrong_token") == 1


@pytest.mark.anyio
async def test_channel_registrations_and_removals_reach_the_receiver(
        running: Running, emulator: Any) -> None:
    gateway = running.gateway
    channel = await _watch(gateway)
    await _push_idle(emulator)
    with httpx.Client(timeout=10) as blocking:  # answered from the registration alone
        opened = blocking.post(running.url, headers=_headers(  # noqa: ASYNC212
            channel.id, "k" * 43, 2, {"X-Goog-Resource-ID": channel.resource_id}))
    assert opened.status_code == 200
    assert await gateway.hooks.stop_watch(gateway, ALICE, channel) is True
    await gateway.store.delete_channel(channel.id)
    await running.receiver.flush()  # the removal was handled before this returns
    async with httpx.AsyncClient(timeout=10) as client:
        stopped = await client.post(running.url, headers=_headers(
            channel.id, "k" * 43, 3, {"X-Goog-Resource-ID": channel.resource_id}))
    assert stopped.status_code == 404


@pytest.mark.anyio
async def test_a_channel_the_receiver_does_not_hold_is_looked_up_in_the_store(
        running: Running) -> None:
    """Another process of a shared database opened it: the receiver asks the gateway."""
    await running.gateway.store.put_channel(Channel("chan-2", "u1", "RES-1", TOKEN,
                                                    datetime(2030, 1, 1, tzinfo=UTC)))
    async with httpx.AsyncClient(timeout=10) as client:
        found = await client.post(running.url, headers=_headers("chan-2"))
        unknown = await client.post(running.url, headers=_headers("chan-3"))
    assert (found.status_code, unknown.status_code) == (200, 404)
    assert await running.jobs() == 1


@pytest.mark.anyio
async def test_a_dead_receiver_is_reported_and_restarted(running: Running) -> None:
    receiver = running.receiver
    assert (await readiness(running.gateway))["services"][SERVICE] == {
        "healthy": True, "reason": None}
    first = receiver.process
    assert first is not None
    receiver.restart_delays = (2.0,)  # each restart after 2 s
    os.kill(first.pid, signal.SIGKILL)
    await receiver.exited.wait()
    reported = (await readiness(running.gateway))["services"][SERVICE]
    assert reported["healthy"] is False and "signal 9" in reported["reason"]
    scraped = generate_latest(metrics(running.gateway).registry).decode()
    assert "hybrid_calendar_google_push_receiver_up 0.0" in scraped
    await receiver.started.wait()
    assert receiver.process is not None and receiver.process.pid != first.pid
    assert (await readiness(running.gateway))["services"][SERVICE]["healthy"] is True
    assert receiver.restarts == 1
    scraped = generate_latest(metrics(running.gateway).registry).decode()
    assert "hybrid_calendar_google_push_receiver_up 1.0" in scraped
    assert "hybrid_calendar_google_push_receiver_restarts_total 1.0" in scraped
    async with httpx.AsyncClient(timeout=10) as client:  # the new one knows the channels
        answer = await client.post(running.url, headers=_headers(number=40))
    assert answer.status_code == 200 and await running.jobs() == 1


@pytest.mark.anyio
async def test_bad_requests_and_hostile_strings_are_answered_and_counted(
        running: Running) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        statuses = [(await client.post(running.url, headers={
                        k.encode("latin-1"): v.encode("latin-1")
                        for k, v in headers.items()})).status_code
                    for headers in (
                        _headers(number=20, overrides={"X-Goog-Message-Number": "²"}),
                        _headers("ç" * 10), _headers("c" * 10_000), _headers(""),
                        _headers(token="\u00ff" * 300),
                        _headers(overrides={"X-Goog-Resource-ID": "\x7f"}))]
        assert statuses == [200, 404, 404, 400, 403, 400]  # the last: HTTP parser
        wrong_path = await client.post(running.url.replace("google", "other"))
        wrong_method = await client.get(running.url)
        assert (wrong_path.status_code, wrong_method.status_code) == (404, 405)
    reader, writer = await asyncio.open_connection(*running.receiver.base_url[7:].split(":"))
    writer.write(b"NOT HTTP AT ALL\r\n\r\n")
    assert (await reader.read()).startswith(b"HTTP/1.1 400")
    writer.close()
    async with httpx.AsyncClient(timeout=10) as client:  # still serving
        assert (await client.post(running.url, headers=_headers(number=21))).status_code == 200
    assert running.receiver.restarts == 0
    await running.receiver.flush()
    assert _sample(running.gateway, "unknown_channel") == 2
    assert _sample(running.gateway, "bad_request") == 2
    assert _sample(running.gateway, "internal_error") == 0


@pytest.mark.anyio
async def test_ten_thousand_refused_notifications_make_two_log_lines(
        running: Running, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    statuses: dict[int, int] = {}

    async def send(first: int) -> None:  # one of eight connections, as a flood would
        for n in range(first, 10_000, 8):
            if n % 2:  # a stranger invents channel ids
                headers = {"X-Goog-Channel-ID": secrets.token_hex(8)}
            else:  # someone who knows the channel id guesses its token
                headers = _headers(token=f"guess{n}")
            response = await client.post(running.url, headers=headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(send(first) for first in range(8)))
    assert statuses == {404: 5_000, 403: 5_000}
    assert await running.jobs() == 0  # flushed: every count and line is in
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(lines) == 2, lines
    assert _sample(running.gateway, "unknown_channel") == 5_000
    assert _sample(running.gateway, "wrong_token") == 5_000
    assert "alice" not in " ".join(lines)



def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


def _exits_within(pid: int, seconds: float) -> bool:
    """Wait (on the process's pidfd, no polling loop) until ``pid`` is gone."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        waiter = select.poll()
        waiter.register(handle, select.POLLIN)
        return bool(waiter.poll(seconds * 1000))
    finally:
        os.close(handle)


def test_serve_runs_the_receiver_and_it_dies_with_the_gateway(
        tmp_path: Path, tls_files: tuple[Path, Path, trustme.CA]) -> None:
    """``hybrid-calendar serve`` with ``google.push_listen`` and TLS: the receiver answers
    HTTPS on its port, is reported in /readyz, and does not outlive a gateway killed with
    SIGKILL."""
    chain, key, ca = tls_files
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    port, push_port = free_port(), free_port()
    config = tmp_path / "gateway.toml"
    config.write_text(f"""
[gateway]
port = {port}
data_dir = "{tmp_path / 'data'}"
admin_token = "{"a" * 40}"
log_level = "WARNING"
tls_certificate = "{chain}"
tls_private_key = "{key}"
[plugins]
enabled = ["google", "join_info", "kms_local"]
[google]
push_listen = "127.0.0.1:{push_port}"
""")
    env = {**os.environ, "HYBRID_CALENDAR_NO_ENTRYPOINTS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "hybrid_calendar.cli", "serve",
                                "--config", str(config)], cwd=tmp_path, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_answering(f"https://127.0.0.1:{port}/readyz", within=60, status=200,
                             alive=lambda: process.poll() is None, verify=trusting)
        answer = httpx.post(f"https://127.0.0.1:{push_port}/webhooks/google",
                            headers=_headers("nobody"), timeout=30, verify=trusting)
        assert answer.status_code == 404  # looked up through the gateway's store
        # the look-up came after the receiver's "serving" on the same socket
        ready = httpx.get(f"https://127.0.0.1:{port}/readyz", verify=trusting,
                          headers={"Authorization": f"Bearer {'a' * 40}"}).json()
        assert ready["services"][SERVICE] == {"healthy": True, "reason": None}
        [receiver] = _children(process.pid)
        process.kill()
        process.wait(30)
        assert _exits_within(receiver, 10), "the receiver outlived the gateway"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)


async def _raw(running: Running, data: bytes) -> bytes:
    """Send ``data`` on a fresh connection; everything the receiver sent until it closed."""
    host, port = running.receiver.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(data)
    answer = await reader.read()
    writer.close()
    return answer


def _request(number: int, *, version: bytes = b"1.1", extra: bytes = b"") -> bytes:
    return (b"POST /webhooks/google HTTP/" + version + b"\r\nHost: x\r\n"
            b"X-Goog-Channel-ID: chan-1\r\nX-Goog-Channel-Token: " + TOKEN.encode() +
            b"\r\nX-Goog-Resource-ID: RES-1\r\nX-Goog-Resource-State: exists\r\n"
            b"X-Goog-Message-Number: %d\r\n" % number + extra + b"\r\n")


@pytest.mark.anyio
async def test_http_limits_of_the_receiver(running: Running) -> None:
    """Pipelined requests are answered in order on one connection; a head over 64 kB,
    a body over 64 kB and HTTP/1.0 without keep-alive get their answer and a close."""
    pipelined = _request(50) + _request(50) + _request(51, extra=b"Connection: close\r\n")
    answers = (await _raw(running, pipelined)).split(b"HTTP/1.1 ")[1:]
    assert [a[:3] for a in answers] == [b"200", b"200", b"200"]
    assert b"connection: close" in answers[-1]
    huge_head = b"POST /webhooks/google HTTP/1.1\r\nX-Filler: " + b"a" * 70_000
    assert (await _raw(running, huge_head)).startswith(b"HTTP/1.1 400")
    body = b"b" * 70_000
    too_long = _request(52, extra=b"Content-Length: %d\r\n" % len(body)) + body
    assert (await _raw(running, too_long)).startswith(b"HTTP/1.1 413")
    old = await _raw(running, _request(53, version=b"1.0"))
    assert old.startswith(b"HTTP/1.1 200") and b"connection: close" in old
    await running.receiver.flush()
    assert _sample(running.gateway, "replayed") == 1  # the second "50"
    assert _sample(running.gateway, "bad_request") == 1


@pytest.mark.anyio
async def test_the_receiver_answers_exactly_as_the_in_process_route(running: Running) -> None:
    """The same notifications, in the same order, to the main port's route and to the
    receiver process: the same statuses, ``Retry-After`` presence and outcome counts."""
    cases: list[dict[str, str]] = [
        _headers(number=1, overrides={"X-Goog-Resource-State": "sync"}),
        _headers(number=5), _headers(number=5), _headers(number=4), _headers(number=6),
        _headers("unknown"), _headers("c" * 65), _headers(""), _headers(token="wrong"),
        _headers(token=""), _headers(token=TOKEN[:-1]),
        _headers(overrides={"X-Goog-Resource-ID": "RES-other"}),
        _headers(overrides={"X-Goog-Resource-ID": ""}),
        _headers(number=7, overrides={"X-Goog-Message-Number": ""}),
        _headers(number=8, overrides={"X-Goog-Message-Number": "not-a-number"}),
        *[_headers(number=100 + n) for n in range(15)],  # past the burst: 503
    ]
    seen: dict[str, list[tuple[int, bool]]] = {}
    before = {o: _sample(running.gateway, o) for o in ("accepted", "replayed", "sync",
                                                        "rate_limited", "wrong_token")}
    counted: dict[str, dict[str, float]] = {}
    async with httpx.AsyncClient(timeout=10) as client:
        for name, url in (("route", running.main_url + "/webhooks/google"),
                          ("receiver", running.url)):
            answers = [await client.post(url, headers=headers) for headers in cases]
            seen[name] = [(a.status_code, "retry-after" in a.headers) for a in answers]
            await running.receiver.flush()
            counted[name] = {o: _sample(running.gateway, o) - before[o] for o in before}
            before = {o: _sample(running.gateway, o) for o in before}
    assert seen["route"] == seen["receiver"]
    assert counted["route"] == counted["receiver"]
    assert {status for status, _ in seen["route"]} == {200, 400, 403, 404, 503}


@pytest.mark.parametrize("listen", ["taken", "nonsense"])
def test_a_push_listen_that_cannot_be_served_stops_serve_in_one_line(
        tmp_path: Path, listen: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}" if listen == "taken" else listen
        config = tmp_path / "gateway.toml"
        config.write_text(f"""
[gateway]
port = {free_port()}
data_dir = "{tmp_path / 'data'}"
[plugins]
enabled = ["google", "join_info", "kms_local"]
[google]
push_listen = "{address}"
""")
        env = {**os.environ, "HYBRID_CALENDAR_NO_ENTRYPOINTS": "1"}
        done = subprocess.run([sys.executable, "-m", "hybrid_calendar.cli", "serve",
                               "--config", str(config)], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    output = done.stdout + done.stderr
    assert "google.push_listen" in output and "Traceback" not in output
