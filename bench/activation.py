"""Activation alone: CPU per onboarded user of ``run_activate_job``, nothing else.

The Google emulator runs in its own process (``bench/sync.py``'s launcher, one event per
user: the sync is not run here). In this process: a gateway on a fresh SQLite database
with the end-to-end benchmark's plugins (``google``, ``join_info``, ``kms_local``), no
engine and no HTTP server. Users are added as the admin API adds them (one
``Store.add_users``, noted as new for the cipher) and each gets the job the admin API
queues for a new user (first attempt), run 8 at once — validation (token grant,
``settings.list``, probe, vacation responder), push channel, user writes, presence,
the full sync's queueing. Eight users are activated first (key read, connections), then
the timed ones. CPU is this process's (``time.process_time``: the event loop and the
store's worker thread), and the event loop's thread alone (``time.thread_time``).

A/B: run it with ``PYTHONPATH`` pointing at each checkout's ``core`` and
``plugins/*`` folders, alternating. The last line reads
``activation: N users, process CPU X µs/user, loop thread Y µs/user, ...``.

    .venv/bin/python bench/activation.py --users 1000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from hybrid_calendar.builder import opened_gateway
from hybrid_calendar.engine import activation
from hybrid_calendar.engine.activation import new_user_id, run_activate_job
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import Job, Organisation, User
from hybrid_calendar.store.postgres.local_server import running_postgres

CONCURRENCY = 8
WARM_UP = 8
NEW_USER = str(getattr(activation, "NEW_USER", "new_user"))
"""The payload flag of a new user's job (an older checkout, run for an A/B, ignores it)."""


async def _add(gateway: Gateway, org: Organisation, emails: list[str]) -> list[str]:
    """Create the users as the admin API does; their ids."""
    users = await gateway.store.add_users(
        [User(id=new_user_id(), org_id=org.id, email=email) for email in emails])
    gateway.cipher.note_new_users(org.id, {user.id for user in users})
    return [user.id for user in users]


def _job(gateway: Gateway, user_id: str, org_id: str) -> Job:
    """The first attempt of the job the admin API queues for a new user."""
    return Job(0, "activate", f"activate:{user_id}",
               {"user_id": user_id, NEW_USER: True, "org_id": org_id}, 1, gateway.clock.now())


async def measure(base: str, account: dict[str, Any], emails: list[str], folder: Path,
                  database: str = "") -> None:
    """Activate every user of ``emails`` against the emulator at ``base``; print CPU.

    :param database: a ``postgresql://`` URL, or empty for a SQLite file in ``folder``.
    """
    config, pm = load_config(None, overrides={
        "gateway": {"data_dir": str(folder / "data"),
                    "database": database or str(folder / "g.sqlite3"),
                    "admin_token": "bench-admin-token-0123456789abcdef"},
        "plugins": {"enabled": ["google", "join_info", "kms_local"],
                    "load_entrypoints": False},
        "quota": {"project_per_minute": 100_000_000, "user_per_minute": 100_000_000},
        "google": {"service_account_json": json.dumps(account),
                   "calendar_base_url": base + "/calendar/v3", "gmail_base_url": base}},
        environ={})
    async with opened_gateway(config, pm) as gateway:
        org = Organisation("org1", "Bench", "example.com")
        await gateway.store.put_organisation(org)
        for user_id in await _add(gateway, org, emails[:WARM_UP]):
            await run_activate_job(gateway, _job(gateway, user_id, org.id))
        ids = await _add(gateway, org, emails[WARM_UP:])
        slots = asyncio.Semaphore(CONCURRENCY)

        async def one(user_id: str) -> None:
            async with slots:
                await run_activate_job(gateway, _job(gateway, user_id, org.id))

        cpu, loop, wall, times = (time.process_time(), time.thread_time(),
                                  time.perf_counter(), os.times())
        await asyncio.gather(*(one(user_id) for user_id in ids))
        cpu, loop = time.process_time() - cpu, time.thread_time() - loop
        wall, after = time.perf_counter() - wall, os.times()
        states = Counter(str(user.state) for user in await gateway.store.list_users())
        n = len(ids)
        store = "postgresql" if database else "sqlite"
        print(f"activation: {n} users, {store}, process CPU {cpu / n * 1e6:.0f} µs/user, "
              f"loop thread {loop / n * 1e6:.0f} µs/user "
              f"(user {(after.user - times.user) / n * 1e6:.0f}, "
              f"system {(after.system - times.system) / n * 1e6:.0f}), wall {wall:.2f}s, "
              f"states {dict(states)}")


def main() -> None:
    parser = argparse.ArgumentParser(description="CPU per activated user")
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--postgresql", action="store_true",
                        help="on a PostgreSQL server started for the run (fsync on, as "
                             "bench/scale.py's) instead of SQLite")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from sync import emulator_process  # the sibling benchmark's emulator launcher

    emails = [f"user{i:05d}@example.com" for i in range(args.users + WARM_UP)]
    with emulator_process(emails, 1) as (base, account), \
            tempfile.TemporaryDirectory() as name, contextlib.ExitStack() as stack:
        database = ""
        if args.postgresql:
            server = stack.enter_context(running_postgres(durable=True))
            database = server.url
        asyncio.run(measure(base, account, emails, Path(name), database))


if __name__ == "__main__":
    main()
