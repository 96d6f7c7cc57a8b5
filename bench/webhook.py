"""Push acknowledgement latency: valid notifications at a fixed rate while syncs run.

A real ``hybrid-calendar serve`` process (SQLite) and the Google emulator (its own
process) run on loopback. The first half of U users is activated and synced; then the
second half is activated — their onboarding syncs (fetch, convert, encrypt, store) run
during the measurement — and the emulator gets E more events for each of the first half,
which the syncs the notifications ask for then fetch and store. C channels of the first
half's users (several per user, their tokens known to this benchmark) are added to the
gateway's database, and N valid notifications (increasing message numbers, each channel
well inside its rate) are sent **open-loop**: the i-th leaves at ``start + i / rate``
whether or not earlier ones were answered, and its latency counts from that planned
time, so a stalled server cannot hide its queue (no coordinated omission). The last line
is ``webhook: N at R/s: p50 X ms, p99 Y ms, max Z ms, errors K``; target p99 <= 20 ms at
1,000/s.

The gateway runs with the recommended setting, ``google.push_listen``: its push receiver
process (``hybrid_calendar_google.push_process``) answers the notifications on a port of
its own, and the load goes there. ``--route main`` sends it to the in-process route on
the gateway's main port instead (the receiver still runs), for comparison.

Two references, measured first with the same load, each in its own process: the
**ceiling**, a raw ``asyncio`` protocol that reads each request (head and
``Content-Length`` body) and writes a fixed ``200`` on the kept-alive connection (the
least work that answers the same I/O from Python on this machine at this moment); and the
**bare route**, a Starlette route answering 200 under ``serve``'s own uvicorn settings
(:func:`hybrid_calendar.server.http_settings`): what the HTTP stack adds, with no gateway
behind it.

Also printed: how many notifications the gateway counted as accepted (its push metric:
the load is valid notifications, not replays or refusals), how late this client itself
started its requests (when that is large, the machine, not the server, is slow), and
the CPU seconds each gateway thread spent during the load. ``BENCH_PROFILE=prefix``
records the gateway with py-spy meanwhile (``prefix-webhook.txt``).

    .venv/bin/python bench/webhook.py                     # 5,000 at 1,000/s, 200 users
    .venv/bin/python bench/webhook.py --count 2000 --users 40
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import httpx

from hybrid_calendar.listening import wait_until_answering
from hybrid_calendar.store.base import hash_channel_token

sys.path.insert(0, str(Path(__file__).parent))
from scale import ADMIN_TOKEN, _profiler, free_port, gateways  # the sibling's serve launcher
from sync import emulator_process  # and its emulator launcher

BARE_SERVER = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
from hybrid_calendar.prompt_server import PromptServer
from hybrid_calendar.server import http_settings

async def ok(request):
    return Response(status_code=200)

app = Starlette(routes=[Route("/webhooks/google", ok, methods=["POST"])])
PromptServer(http_settings(app, "127.0.0.1", int(sys.argv[1]))).run()
"""
"""The baseline: the same HTTP stack (``serve``'s uvicorn settings, one event loop) with
nothing behind the route."""

CEILING_SERVER = """
import asyncio, sys

class Answer(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\\r\\n\\r\\n")
            if end < 0:
                return
            length = 0
            for line in self.buffer[:end].split(b"\\r\\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length:]
            self.transport.write(b"HTTP/1.1 200 OK\\r\\ncontent-length: 0\\r\\n\\r\\n")

async def main():
    server = await asyncio.get_running_loop().create_server(Answer, "127.0.0.1",
                                                            int(sys.argv[1]))
    await server.serve_forever()

asyncio.run(main())
"""
"""The ceiling: the least Python work that answers each request on a kept-alive
connection (no routing, no framework, no checks)."""


@contextlib.contextmanager
def reference_server(source: str, status: int) -> Iterator[tuple[str, int]]:
    """A reference server (``source`` run with its port) in its own process, answering
    ``status`` at ``/``; yields its webhook URL and pid."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", source, str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/", within=60, status=status,
                             alive=lambda: process.poll() is None)
        yield f"http://127.0.0.1:{port}/webhooks/google", process.pid
    finally:
        process.terminate()
        process.wait(30)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="push acknowledgement latency")
    parser.add_argument("--count", type=int, default=5000, help="notifications (5,000)")
    parser.add_argument("--rate", type=float, default=1000.0, help="per second (1,000)")
    parser.add_argument("--users", type=int, default=200, help="users (default 200)")
    parser.add_argument("--events", type=int, default=50, help="events per user (50)")
    parser.add_argument("--route", choices=("receiver", "main"), default="receiver",
                        help="where the load goes: the push receiver process's port "
                             "(default) or the gateway's main port")
    return parser.parse_args()


def _activate(admin: httpx.Client, emails: list[str]) -> None:
    admin.post("/api/v1/organisations/org1/users", json={"emails": emails}).raise_for_status()


def _wait_active(admin: httpx.Client, count: int) -> None:
    while True:
        users = admin.get("/api/v1/organisations/org1/users").json()["users"]
        if sum(1 for u in users if u["state"] == "active") >= count:
            return
        time.sleep(0.2)


def _add_channels(database: Path, count: int) -> list[tuple[str, str]]:
    """``count`` channels of the active users, tokens known: ``[(id, token)]``."""
    channels = []
    with sqlite3.connect(database, timeout=60) as conn:
        users = [row[0] for row in conn.execute("SELECT id FROM users WHERE state = 'active'")]
        expires = time.time() + 86_400
        for index in range(count):
            channel_id, token = f"bench-{index:05d}", secrets.token_urlsafe(32)
            conn.execute("INSERT INTO channels (id, user_id, resource_id, token_hash, "
                         "expires_at, provider) VALUES (?, ?, ?, ?, ?, 'google')",
                         (channel_id, users[index % len(users)], "RES-bench",
                          hash_channel_token(token), expires))
            channels.append((channel_id, token))
    return channels


def _first_messages(url: str, channels: list[tuple[str, str]]) -> None:
    """Each channel's ``sync`` message (number 1), as Google sends it when a channel
    opens, before the measured load (not measured). The benchmark writes its channels
    into the database behind the gateway's back, so this is where the receiver first
    hears of them (a look-up through the gateway), as a channel another gateway process
    of a shared database opened would be; channels this gateway opens are registered
    with the receiver when opened."""
    with httpx.Client(timeout=60) as client:
        for channel_id, token in channels:
            client.post(url, headers={
                "X-Goog-Channel-ID": channel_id, "X-Goog-Channel-Token": token,
                "X-Goog-Resource-ID": "RES-bench", "X-Goog-Resource-State": "sync",
                "X-Goog-Message-Number": "1"}).raise_for_status()


async def _load(url: str, channels: list[tuple[str, str]], count: int, rate: float
                ) -> tuple[list[float], int, list[float]]:
    """Send ``count`` notifications open-loop at ``rate``; (latencies in s, errors, how late
    this client itself started each request after its planned time, in s)."""
    latencies: list[float] = []
    late: list[float] = []
    errors = 0
    numbers = dict.fromkeys((c for c, _ in channels), 1)
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(planned: float, channel_id: str, token: str, number: int) -> None:
            nonlocal errors
            delay = planned - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            started_late = time.perf_counter() - planned
            try:
                async with session.post(url, headers={
                        "X-Goog-Channel-ID": channel_id, "X-Goog-Channel-Token": token,
                        "X-Goog-Resource-ID": "RES-bench", "X-Goog-Resource-State": "exists",
                        "X-Goog-Message-Number": str(number)}) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
            latencies.append(time.perf_counter() - planned)
            late.append(started_late)  # same index as its latency

        start = time.perf_counter() + 0.5
        tasks = []
        for index in range(count):
            channel_id, token = channels[index % len(channels)]
            numbers[channel_id] += 1
            tasks.append(asyncio.create_task(one(start + index / rate, channel_id, token,
                                                 numbers[channel_id])))
        await asyncio.gather(*tasks)
    return latencies, errors, late


def _accepted(admin: httpx.Client) -> float:
    """Notifications the gateway accepted so far (``/metrics``)."""
    for line in admin.get("/metrics").text.splitlines():
        if line.startswith('hybrid_calendar_google_push_total{outcome="accepted"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _settled_accepted(admin: httpx.Client) -> float:
    """:func:`_accepted` once the receiver's last batch (≤ 50 ms) reached the metric."""
    seen, deadline = _accepted(admin), time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = _accepted(admin)
        if now == seen:
            return now
        seen = now
    return seen


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of each thread of process ``pid``."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            seconds[int(task.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def _children(pid: int) -> list[int]:
    """Child processes of ``pid`` (the gateway's push receiver)."""
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    """Entry point (see the module docstring)."""
    args = _parse()
    emails = [f"user{i:05d}@example.com" for i in range(args.users)]
    first, second = emails[:len(emails) // 2], emails[len(emails) // 2:]
    channel_count = max(1, int(args.count / 8))  # each channel stays inside its burst
    fake = [(f"bench-{i:05d}", "x") for i in range(channel_count)]
    references = {}
    for name, source, status in (("ceiling", CEILING_SERVER, 200),
                                 ("bare", BARE_SERVER, 404)):
        with reference_server(source, status) as (url, pid):
            cpu = sum(thread_cpu(pid).values())
            measured = asyncio.run(_load(url, fake, args.count, args.rate))
            references[name] = (*measured, sum(thread_cpu(pid).values()) - cpu)
    bare_late = references["bare"][2]
    with emulator_process(emails, args.events) as (base, account), \
            tempfile.TemporaryDirectory(prefix="bench-webhook-") as tmp:
        folder = Path(tmp)
        database = folder / "gateway.sqlite3"
        push_port = free_port()  # the recommended setting: a receiver process of its own
        os.environ["HYBRID_CALENDAR_GOOGLE__PUSH_LISTEN"] = f"127.0.0.1:{push_port}"
        with gateways(1, folder, str(database), base, account, 8) as running:
            _process, port = running[0]
            gateway_url = f"http://127.0.0.1:{port}"
            push_url = (f"http://127.0.0.1:{push_port}" if args.route == "receiver"
                        else gateway_url) + "/webhooks/google"
            [receiver_pid] = _children(_process.pid)
            with httpx.Client(base_url=gateway_url, timeout=600, headers={
                    "Authorization": f"Bearer {ADMIN_TOKEN}"}) as admin:
                admin.post("/api/v1/organisations", json={
                    "id": "org1", "name": "Bench", "domain": "example.com"}
                ).raise_for_status()
                _activate(admin, first)
                while admin.get("/api/v1/status").json()["jobs"]:
                    time.sleep(0.1)
                channels = _add_channels(database, channel_count)
                _first_messages(push_url, channels)
                httpx.post(base + "/emulator/control", timeout=600, json={"seed": {
                    "users": first, "events_per_user": args.events}}).raise_for_status()
                _activate(admin, second)  # their onboarding runs during the load
                load = os.getloadavg()[0]
                profiler = _profiler(_process.pid, "webhook")  # BENCH_PROFILE=prefix
                threads_before = thread_cpu(_process.pid)
                receiver_before = sum(thread_cpu(receiver_pid).values())
                accepted_before = _accepted(admin)
                latencies, errors, late = asyncio.run(_load(
                    push_url, channels, args.count, args.rate))
                threads_after = thread_cpu(_process.pid)
                receiver_cpu = sum(thread_cpu(receiver_pid).values()) - receiver_before
                if profiler is not None:
                    profiler.send_signal(signal.SIGINT)  # py-spy writes its output
                    profiler.wait(30)
                jobs = admin.get("/api/v1/status").json()["jobs"]
                accepted = _settled_accepted(admin) - accepted_before
                _wait_active(admin, len(emails))
    for name, label in (("ceiling", "ceiling (raw asyncio responder)"),
                        ("bare", "baseline (bare route, same HTTP stack)")):
        times, failed, _late, cpu = references[name]
        print(f"{label}: p50 {_percentile(times, 0.5) * 1000:.1f} ms, p99 "
              f"{_percentile(times, 0.99) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms, "
              f"errors {failed}; server CPU {cpu / args.count * 1e6:.0f} µs/request")
    p50, p99 = _percentile(latencies, 0.50), _percentile(latencies, 0.99)
    print(f"{len(channels)} channels of {len(first)} users; while the load ran, "
          f"{len(second)} users were onboarding; jobs still queued or running after it: "
          f"{jobs}; load average at start {load:.1f}")
    print(f"accepted by the gateway (its push metric): {accepted:.0f} of {args.count}; "
          f"this client's own lateness p99: baseline {_percentile(bare_late, 0.99) * 1000:.1f}"
          f" ms, webhook {_percentile(late, 0.99) * 1000:.1f} ms")
    spent = sorted(((threads_after[t] - threads_before.get(t, 0.0), t == _process.pid)
                    for t in threads_after), reverse=True)
    print("gateway CPU during the load, per thread (s): " + ", ".join(
        f"{s:.2f}{' (main)' if main else ''}" for s, main in spent if s > 0.005)
        + f"; push receiver process: {receiver_cpu:.2f} s "
          f"({receiver_cpu / args.count * 1e6:.0f} µs/request); load sent to the "
          f"{'receiver process' if args.route == 'receiver' else 'main port'}")
    slow = [i for i, t in enumerate(latencies) if t > 0.020]
    print(f"answers over 20 ms: {len(slow)}; of these, started more than 10 ms late by this "
          f"client itself (the machine, not the server): "
          f"{sum(1 for i in slow if late[i] > 0.010)}")
    print(f"webhook: {args.count} at {args.rate:.0f}/s: p50 {p50 * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms, errors {errors}")


if __name__ == "__main__":
    main()
