"""Join buttons at scale: 10,000 buttons due within one minute, through the real scheduler.

A gateway (uvicorn, engine, ``people`` plugin, local KMS, SQLite on disk with the default
``synchronous=FULL``) in this process; in two other processes (the remote side, as in
production): a webhook receiver and ``--clients`` server-sent-events clients, one per
user. ``--users`` users each get one meeting whose Join button falls due at a moment
spread evenly over the same minute; the engine's notifier delivers them through the
``people`` sink to the stream (outbox, fan-out) and to a signed webhook.

Measured in the same run:

* lateness of each button = its arrival at the receiver (webhook) or at its user's stream
  client, minus its due time; a button counts once, at its later path;
* duplicates (a button's webhook-id or stream event seen twice) and buttons not delivered
  by the end of the run (the minute plus ``--grace``);
* the gateway process's CPU time during the minute and the machine's load average (the
  figures are only comparable on a quiet machine);
* the fan-out of one change (a meeting all ``--clients`` users are invited to is moved)
  to every connected client: from the first delivery call to the last client's arrival,
  and how many clients stayed connected through the minute;
* the gateway process's peak RSS.

The last line is the summary:
``join buttons: N delivered, p50 X ms, p99 Y ms, max Z ms late, peak RSS M MiB``.

    .venv/bin/python bench/join_buttons.py                    # 10,000 users, 1,000 clients
    .venv/bin/python bench/join_buttons.py --users 500 --clients 50 --spread 10   # quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from hybrid_calendar.app import create_app
from hybrid_calendar.builder import build_gateway
from hybrid_calendar.engine import notify
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.listening import until_answering
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import (
    JoinInfo,
    Meeting,
    NotificationKind,
    Organisation,
    User,
    UserState,
)
from hybrid_calendar.people import access
from hybrid_calendar.prompt_server import PromptServer

PEERS = str(Path(__file__).with_name("join_button_peers.py"))
ADMIN = "bench-admin-token-0123456789abcdef"
LEAD = timedelta(minutes=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_peer(*args: str) -> subprocess.Popen[str]:
    peer = subprocess.Popen([sys.executable, PEERS, *args], stdout=subprocess.PIPE, text=True)
    assert peer.stdout is not None
    line = peer.stdout.readline().strip()
    if line != "ready":
        raise SystemExit(f"peer {args[0]} failed to start: {line!r}")
    return peer


def stop_peer(peer: subprocess.Popen[str], out: Path) -> Any:
    peer.terminate()
    peer.wait(60)
    return json.loads(out.read_text())


async def provision(gateway: Gateway, users: int, clients: int) -> tuple[list[User], list[str]]:
    await gateway.store.put_organisation(Organisation("bench", "Bench", "bench.example"))
    people = [User(id=f"u{i:05d}", org_id="bench", email=f"user{i}@bench.example",
                   state=UserState.ACTIVE, provider="bench", timezone="Europe/Berlin")
              for i in range(users)]
    for user in people:
        await gateway.store.put_user(user)
        await gateway.cipher.sealer(user.org_id, user.id)  # its data key, as a first sync makes
    tokens = [(await access.issue(gateway, u.id, kind="token", audience="person",
                                  ttl=timedelta(days=1))).secret for u in people[:clients]]
    return people, tokens


async def schedule(gateway: Gateway, people: list[User], first_due: datetime,
                   spread: float) -> dict[str, float]:
    due: dict[str, float] = {}
    for i, user in enumerate(people):
        at = first_due + timedelta(seconds=spread * i / len(people))
        start = at + LEAD
        meeting = Meeting(user_id=user.id, event_id=f"ev{i:05d}", calendar_id="primary",
                          status="confirmed", start=start, end=start + timedelta(minutes=30),
                          title=f"Meeting {i}", organizer=user.email,
                          join=JoinInfo("webex", "https://bench.webex.com/meet/room",
                                        "location"))
        await notify.schedule_join_buttons(gateway, user, [meeting])
        due[meeting.event_id] = at.timestamp()
    return due


def process_cpu() -> float:
    """User + system CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


async def run(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-join-"))
    port, receiver_port = free_port(), free_port()
    receiver = start_peer("receiver", str(receiver_port), str(work / "received.json"))
    config, pm = load_config(None, environ={}, overrides={
        "plugins": {"enabled": ["join_info", "kms_local", "people"], "load_entrypoints": False},
        "gateway": {"port": port, "public_url": f"http://127.0.0.1:{port}",
                    "data_dir": str(work / "data"), "admin_token": ADMIN,
                    "synchronous": args.synchronous},
        "sync": {"sweep_seconds": 3600.0},
        "notifications": {"join_button_lead_minutes": LEAD.total_seconds() / 60},
        "people": {"webhook_allow_http": True, "stream_ping_seconds": 15.0}})
    gateway = build_gateway(config, pm)
    server = PromptServer(uvicorn.Config(create_app(gateway), host="127.0.0.1", port=port,
                                           lifespan="on", log_level="warning",
                                           backlog=4096, timeout_graceful_shutdown=2))
    serving = asyncio.create_task(server.serve())
    await until_answering(f"http://127.0.0.1:{port}/healthz", alive=lambda: not serving.done())
    began = time.perf_counter()
    people, tokens = await provision(gateway, args.users, args.clients)
    import httpx

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                 headers={"Authorization": f"Bearer {ADMIN}"}) as admin:
        registered = await admin.post("/api/v1/organisations/bench/webhooks", json={
            "url": f"http://127.0.0.1:{receiver_port}/hooks", "allow_host": "127.0.0.1"})
        assert registered.status_code == 201, registered.text
    print(f"provisioned {args.users} users, {args.clients} tokens, 1 webhook in "
          f"{time.perf_counter() - began:.1f} s", flush=True)
    (work / "tokens.json").write_text(json.dumps(tokens))
    loop = asyncio.get_running_loop()
    clients = await loop.run_in_executor(None, lambda: start_peer(
        "clients", str(port), str(work / "tokens.json"), str(work / "streamed.json")))
    print(f"{args.clients} stream clients connected", flush=True)
    began = time.perf_counter()
    first_due = datetime.now(UTC) + timedelta(seconds=args.setup_seconds)
    due = await schedule(gateway, people, first_due, args.spread)
    scheduled_in = time.perf_counter() - began
    print(f"scheduled {len(due)} Join buttons in {scheduled_in:.1f} s; first due "
          f"{(first_due - datetime.now(UTC)).total_seconds():.1f} s from now, the last "
          f"{args.spread:.0f} s later", flush=True)
    if scheduled_in >= args.setup_seconds:
        stop_peer(clients, work / "streamed.json")
        stop_peer(receiver, work / "received.json")
        server.should_exit = True
        await serving
        raise SystemExit("scheduling took longer than --setup-seconds: raise it")
    end_of_minute = first_due.timestamp() + args.spread
    await asyncio.sleep(max(0.0, first_due.timestamp() - time.time()))
    cpu_before, load_before = process_cpu(), os.getloadavg()[0]
    await asyncio.sleep(max(0.0, end_of_minute + args.grace - time.time()))
    cpu_used, load_after = process_cpu() - cpu_before, os.getloadavg()[0]
    print(f"gateway process CPU during the minute (+{args.grace:.0f} s): {cpu_used:.1f} s "
          f"({cpu_used / (args.spread + args.grace):.0%} of one core, "
          f"{cpu_used / len(due) * 1000:.2f} ms per button); machine load average "
          f"{load_before:.1f} → {load_after:.1f} on {os.cpu_count()} cores", flush=True)
    # one change reaching every connected client: a meeting they are all invited to moved
    fanout_start = time.time()
    await asyncio.gather(*(notify.notify_now(
        gateway, user, NotificationKind.MEETINGS_CHANGED, {"moved": "all-hands"},
        f"all-hands-moved:{user.id}") for user in people[:args.clients]))
    fanout_sent = time.time() - fanout_start
    await asyncio.sleep(args.grace)
    streamed = stop_peer(clients, work / "streamed.json")
    received = stop_peer(receiver, work / "received.json")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    server.should_exit = True
    await serving
    report(args, due, received, streamed, fanout_start, fanout_sent, rss)


def report(args: argparse.Namespace, due: dict[str, float], received: list[Any],
           streamed: list[Any], fanout_start: float, fanout_sent: float, rss: float) -> None:
    webhook_at: dict[str, float] = {}
    webhook_ids: dict[str, set[str]] = {}
    duplicates = 0
    for at, msg_id, body in received:
        data = json.loads(body)["data"]
        event_id = data.get("event_id")
        if json.loads(body)["type"] != "join_button.due" or event_id is None:
            continue
        seen = webhook_ids.setdefault(event_id, set())
        duplicates += msg_id in seen or bool(seen)
        seen.add(msg_id)
        webhook_at.setdefault(event_id, at)
    stream_at: dict[str, float] = {}
    fanout: dict[int, float] = {}
    closed: dict[int, str] = {}
    for at, index, event, data in streamed:
        if event == "(closed)":
            closed.setdefault(index, data)
        elif event == "join_button":
            duplicates += data["event_id"] in stream_at
            stream_at.setdefault(data["event_id"], at)
        elif event == "meetings" and data.get("moved") == "all-hands":
            fanout.setdefault(index, at)
    late_webhook = [(webhook_at[e] - due[e]) * 1000 for e in due if e in webhook_at]
    late_stream = [(stream_at[e] - due[e]) * 1000 for e in due if e in stream_at]
    delivered = [e for e in due if e in webhook_at]
    late = [max(webhook_at[e], stream_at.get(e, 0.0)) * 1000 - due[e] * 1000
            for e in delivered]
    early = sum(1 for v in late_webhook + late_stream if v < 0)
    for name, values in (("webhook", late_webhook), ("stream", late_stream)):
        print(f"{name:8s}: {len(values)} delivered, p50 {percentile(values, 0.5):.0f} ms, "
              f"p99 {percentile(values, 0.99):.0f} ms, max {max(values, default=0):.0f} ms "
              f"late")
    print(f"not delivered by the end of the run: {len(due) - len(delivered)} (webhook), "
          f"{args.clients - len(late_stream)} (stream); duplicates: {duplicates}; "
          f"delivered before due: {early}")
    print(f"stream clients still connected at the end: {args.clients - len(closed)}/"
          f"{args.clients}" + (f" (first loss: {next(iter(closed.values()))})" if closed
                                else ""))
    last = max(fanout.values(), default=fanout_start)
    print(f"fan-out of one change to {len(fanout)}/{args.clients} connected clients: "
          f"{(last - fanout_start) * 1000:.0f} ms ({fanout_sent * 1000:.0f} ms to hand it "
          f"to the sink for every user)")
    print(f"join buttons: {len(delivered)} delivered, p50 {percentile(late, 0.5):.0f} ms, "
          f"p99 {percentile(late, 0.99):.0f} ms, max {max(late, default=0):.0f} ms late, "
          f"peak RSS {rss:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=1_000)
    parser.add_argument("--spread", type=float, default=60.0,
                        help="seconds over which the due times spread (one minute)")
    parser.add_argument("--setup-seconds", type=float, default=60.0,
                        help="the first button is due this long after scheduling starts")
    parser.add_argument("--grace", type=float, default=5.0,
                        help="seconds to wait for late arrivals")
    parser.add_argument("--synchronous", default="FULL", choices=("FULL", "NORMAL"))
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
