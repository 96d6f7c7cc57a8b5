"""Fail-over: three real gateway processes on one PostgreSQL database and the Google
emulator; one is killed with SIGKILL in the middle of syncing. Its leases lapse, the
other two finish its work, and nothing is lost or done twice:

* every user is activated and every event is stored (no event lost);
* every keyword meeting has one conference and its invite was written once (one
  ``events.update`` carrying the Meet conference request and the marker);
* every notification, Join buttons included, was delivered exactly once by the live
  processes. The one repeat the outbox allows is a notification the killed process handed
  to a sink but died before recording: it is delivered again with the same key (what a
  sink deduplicates on), and the test accepts that only when the first delivery was the
  victim's.

Google's push notifications for every process's channels go to the first process (as
behind a load balancer), so pushes arrive at a process other than the one that opened
the channel, and it queues syncs that any process runs.

Waiting is event-driven: a trigger on the job and outbox tables sends ``NOTIFY`` on every
change, and the test re-checks its condition on each one (with a deadline).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from hybrid_calendar.store.postgres.local_server import free_port
from hybrid_calendar_google_emulator.testing import RunningEmulator, running_emulator
from tests.scaling.processes import GatewayProcesses

DOMAIN = "example.com"
USERS = [f"user{i:02d}@{DOMAIN}" for i in range(24)]
ADMIN_TOKEN = "failover-admin-token-0123456789"

pytestmark = pytest.mark.slow


def at(minutes: float, **fields: Any) -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(minutes=minutes)).replace(microsecond=0)
    return {"start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(minutes=30)).isoformat()}, **fields}


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(domain=DOMAIN, users=USERS,
                          faults={"latency_ms": 120}) as emu:  # syncs take a while
        yield emu


def watch_progress(url: str) -> None:
    """Triggers that ``NOTIFY test_progress`` on every job and outbox change."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE FUNCTION test_progress() RETURNS trigger LANGUAGE plpgsql AS "
                     "$$ BEGIN PERFORM pg_notify('test_progress', TG_TABLE_NAME); "
                     "RETURN NULL; END $$")
        for table in ("jobs", "scheduled_notifications"):
            conn.execute(f"CREATE TRIGGER {table}_progress AFTER INSERT OR UPDATE OR DELETE "
                         f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION test_progress()")


def wait_until(url: str, done: Callable[[psycopg.Connection[Any]], bool],
               within: float) -> None:
    """Re-check ``done`` on every progress notification until it holds or time is up."""
    deadline = time.monotonic() + within
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("LISTEN test_progress")
        while not done(conn):
            left = deadline - time.monotonic()
            assert left > 0, "the gateways did not finish in time"
            for _ in conn.notifies(timeout=min(left, 5.0), stop_after=1):
                pass


def holding_jobs(pid: int) -> Callable[[psycopg.Connection[Any]], bool]:
    """True once process ``pid`` holds a running job (it is in the middle of one)."""
    def check(conn: psycopg.Connection[Any]) -> bool:
        row = conn.execute("SELECT count(*) FROM jobs WHERE state = 'running' AND "
                           "claimed_by LIKE %s", (f"%:{pid}/%",)).fetchone()
        return row is not None and row[0] > 0
    return check


def finished(conn: psycopg.Connection[Any]) -> bool:
    """Every user active, no job left, every Join button delivered."""
    jobs = conn.execute("SELECT count(*) FROM jobs WHERE state <> 'parked'").fetchone()
    users = conn.execute("SELECT count(*) FROM users WHERE state = 'active'").fetchone()
    buttons = conn.execute("SELECT count(*) FROM scheduled_notifications WHERE "
                           "kind = 'join_button' AND state = 'delivered'").fetchone()
    return (jobs, users, buttons) == ((0,), (len(USERS),), (len(USERS),))


def test_killing_a_process_mid_sync_loses_nothing_and_repeats_nothing(
        emulator: RunningEmulator, postgres_url: str, tmp_path: Path) -> None:
    emu = emulator.state
    meet_events, all_events = {}, {}
    for user in USERS:
        meet_events[user] = emu.insert_event(user, at(60 * 24 * 2, summary="Kickoff",
                                                      location="Room 1 @meet"))["id"]
        emu.insert_event(user, at(3, summary="Starting soon", location=(
            "https://acme.webex.com/acme/j.php?MTID=m0123456789abcdef0123456789abcdef")))
        emu.insert_event(user, at(60 * 24, summary="Review"))
        emu.insert_event(user, at(60 * 24 * 5, summary="Retro"))
        all_events[user] = {"Kickoff", "Starting soon", "Review", "Retro"}
    gateways = GatewayProcesses(tmp_path, {
        "gateway": {"database": postgres_url, "data_dir": str(tmp_path / "data"),
                    "admin_token": ADMIN_TOKEN, "log_level": "INFO"},
        "plugins": {"enabled": ["google", "join_info", "kms_local"],
                    "load_entrypoints": True},
        "sync": {"lease_seconds": 3.0, "sweep_seconds": 1.0, "max_concurrency": 4},
        "google": {"service_account_json": json.dumps(emulator.service_account_info),
                   "calendar_base_url": emulator.base_url + "/calendar/v3",
                   "gmail_base_url": emulator.base_url},
        "join_info": {"keywords": ["meet=google_meet"]},
    })
    try:
        first = gateways.start(free_port())  # creates the schema and the KMS key
        watch_progress(postgres_url)
        victim = gateways.start(free_port(), public_url=first.base_url)
        gateways.start(free_port(), public_url=first.base_url)  # the third process
        with httpx.Client(base_url=first.base_url, timeout=30,
                          headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as admin:
            assert admin.post("/api/v1/organisations", json={
                "id": "org1", "name": "Example", "domain": DOMAIN}).status_code == 201
            for user in USERS:
                assert admin.post("/api/v1/organisations/org1/users",
                                  json={"email": user}).status_code == 202
            wait_until(postgres_url, holding_jobs(victim.process.pid), within=60)
            gateways.kill(victim)  # in the middle of its jobs
            with psycopg.connect(postgres_url) as conn:
                orphans = [row[0] for row in conn.execute(
                    "SELECT id FROM jobs WHERE state = 'running' AND claimed_by LIKE %s",
                    (f"%:{victim.process.pid}/%",)).fetchall()]
            assert orphans, "the victim died holding no job"
            wait_until(postgres_url, finished, within=240)
            listed = admin.get("/api/v1/organisations/org1/users").json()["users"]
            assert {u["email"]: u["state"] for u in listed} == dict.fromkeys(USERS, "active")
            for entry in listed:  # no event lost
                meetings = admin.get(f"/api/v1/users/{entry['id']}/meetings").json()
                titles = sorted(m["title"] for m in meetings["meetings"])
                assert titles == sorted(all_events[entry["email"]]), entry["email"]
        with psycopg.connect(postgres_url) as conn:  # their leases lapsed, others ran them
            left = conn.execute("SELECT count(*) FROM jobs WHERE id = ANY(%s)",
                                (orphans,)).fetchone()
        assert left == (0,)
        accepted = [d for d in emu.push.deliveries if d.status == 200]
        assert accepted, "no push notification reached the first process"
    finally:
        gateways.stop_all()

    for user, event_id in meet_events.items():  # the keyword meeting made and written once
        writes = [r for r in emu.request_log
                  if r.method in ("PUT", "PATCH") and r.path.endswith("/" + event_id)]
        assert [r.method for r in writes] == ["PUT"], (user, [r.status for r in writes])
        stored = emu.get_event(user, event_id)
        assert stored["conferenceData"]["entryPoints"][0]["uri"].startswith(
            "https://meet.google.com/")
    lines = [line.split() for line in gateways.deliveries.read_text().split("\n") if line]
    delivered = Counter((kind, key) for kind, key, _pid in lines)
    first_by: dict[tuple[str, str], int] = {}
    for kind, key, pid in lines:
        first_by.setdefault((kind, key), int(pid))
    twice = [(key, first_by[key]) for key, count in delivered.items()
             if count > 1 and (count > 2 or first_by[key] != victim.process.pid)]
    assert twice == [], f"delivered more than once by live processes: {twice}"
    buttons = [key for kind, key in delivered if kind == "join_button"]
    assert len(buttons) == len(USERS)
