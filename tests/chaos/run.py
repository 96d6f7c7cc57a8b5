"""``make chaos``: kill -9 runs, the emulator's fault matrix, a full disk and a read-only
data directory, against real ``serve`` processes and the emulators in their own process.

    python -m tests.chaos.run [--runs 100] [--seed N] [--keep DIR]

Its last line is ``chaos: N kill-9 runs, L lost, D duplicate writes, I integrity
failures; F faults survived``; the exit status is 1 when any count but N and F is not 0
or a fault was not survived (the lines above say which and why). See
docs/operations.md#chaos-harness.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.chaos.checks import Tally
from tests.chaos.faults import FAULTS, fault_matrix
from tests.chaos.gateway import ServeProcess, StoreReader, gateway_settings, onboard
from tests.chaos.kill_runs import World, kill_runs
from tests.chaos.remote import Emulators
from tests.chaos.storage import storage_faults
from tests.chaos.workload import Calendars

DOMAIN = "example.com"
USERS = [f"user{i}@{DOMAIN}" for i in range(4)]
USER_BUDGET = 120
"""Units per user per minute: the gateway's budget and the emulator's quota alike."""
PROJECT_BUDGET = 2000


def build_world(emulators: Emulators, serve: ServeProcess, rng: random.Random,
                tally: Tally) -> World:
    """Start and onboard the gateway; settled."""
    serve.start()
    onboard(serve, DOMAIN, USERS)
    store = StoreReader(serve.database)
    emails: dict[str, str] = {}
    with serve.admin() as client:
        for user in client.get("/api/v1/organisations/org1/users").json()["users"]:
            emails[user["id"]] = user["email"]
    world = World(serve, store, emulators, Calendars(emulators, USERS, rng), emails, rng,
                  tally, USER_BUDGET)
    for email in USERS:
        world.calendars.bulk(email, 40)
    if not world.converge("onboarding", within=120):
        raise RuntimeError("the gateway did not converge after onboarding")
    return world


def stateful_sync(tally: Tally) -> None:
    """The Hypothesis stateful sync test under its ``chaos`` profile (many examples)."""
    test = Path(__file__).with_name("test_sync_stateful.py")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
        env={**os.environ, "HYBRID_CALENDAR_HYPOTHESIS_PROFILE": "chaos"},
        cwd=Path(__file__).parents[2], capture_output=True, text=True, check=False)
    name = "stateful sync (Hypothesis, chaos profile)"
    summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    print(f"{name}: {summary} ({time.monotonic() - started:.0f} s)", flush=True)
    if done.returncode == 0:
        tally.faults_survived += 1
    else:
        tally.note(f"{name} failed:\n{done.stdout[-4000:]}")
        tally.faults_failed.append(name)


def main(argv: list[str] | None = None) -> int:
    """Run everything; print the summary line last; 0 only when nothing went wrong."""
    parser = argparse.ArgumentParser(description="chaos harness (make chaos)")
    parser.add_argument("--runs", type=int, default=100, help="kill -9 runs")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", type=Path, default=None,
                        help="work in this directory and keep it (logs, database)")
    parser.add_argument("--skip-faults", action="store_true")
    parser.add_argument("--skip-storage", action="store_true")
    parser.add_argument("--skip-stateful", action="store_true")
    parser.add_argument("--only-fault", default="", help="run the faults whose name has this")
    parser.add_argument("--no-mount", action="store_true",
                        help="disk full through RLIMIT_FSIZE even where mount works")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    print(f"chaos harness: seed {seed}, {args.runs} kill -9 runs", flush=True)
    rng = random.Random(seed)
    tally = Tally()
    root = args.keep or Path(tempfile.mkdtemp(prefix="chaos-"))
    root.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("chaos harness: terminated"))
    emulators: Emulators | None = None
    serve: ServeProcess | None = None
    try:
        emulators = Emulators(root, DOMAIN, USERS, user_rpm=USER_BUDGET,
                              project_rpm=PROJECT_BUDGET)
        serve = ServeProcess(root, gateway_settings(
            emulators.info, root / "data",
            quota={"user_per_minute": USER_BUDGET, "project_per_minute": PROJECT_BUDGET},
            sync={"safety_resync_minutes": 0.1}))
        world = build_world(emulators, serve, rng, tally)
        kill_runs(world, args.runs)
        if not args.skip_faults:
            fault_matrix(world, args.only_fault)
        if not args.skip_storage:
            storage_faults(world, root, mount=not args.no_mount)
        if not args.skip_stateful:
            stateful_sync(tally)
        quota = world.emulators.quota()
        print(f"quota: the emulator charged {quota['units']} units (at most "
              f"{quota['peak_user_units_per_minute']} for one user in a minute) and refused "
              f"{quota['refused']} call(s) for quota (budget {USER_BUDGET}/user, "
              f"{PROJECT_BUDGET}/project per minute)", flush=True)
        if quota["refused"]:
            tally.note("the emulator refused calls for quota: the gateway exceeded its budget")
            tally.faults_failed.append("quota budget")
    except Exception as err:  # the summary line must still come last, and say failure
        tally.note(f"harness stopped: {type(err).__name__}: {err}")
        tally.faults_failed.append("harness")
    finally:  # also on Ctrl-C and SIGTERM: no process of the harness is left behind
        if serve is not None:
            serve.stop()
        if emulators is not None:
            emulators.close()
        if args.keep is None and not tally.failed:
            shutil.rmtree(root, ignore_errors=True)
        elif args.keep is None:
            print(f"kept {root} (logs and database of the failed run)")
    print(f"faults: {len(FAULTS) + 3} in the matrix, failed: "
          f"{', '.join(tally.faults_failed) or 'none'}; "
          f"{tally.kills_mid_work} of {tally.kill_runs} kills hit work in flight; "
          f"{time.monotonic() - started:.0f} s", flush=True)
    print(tally.last_line(), flush=True)
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
