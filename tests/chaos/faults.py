"""The Google emulator's fault matrix, each fault checked against the quota budget.

For each fault: switch it on (``/emulator/control``), change calendars (new events,
edits, keyword events), SIGKILL ``serve`` once in the middle and restart it, then clear
the fault and wait for convergence. A fault is *survived* when the store converged to
the emulator's window with one join block per keyword event, nothing lost or written
twice, and the emulator refused no call for quota: the emulator's quota equals the
gateway's budget (per user and per project, in Google's units: a patch costs 3), so one
refusal means the gateway spent more than its budget.
"""

from __future__ import annotations

import time
from typing import Any

from tests.chaos.checks import Committed, after_kill
from tests.chaos.kill_runs import World

FAULTS: dict[str, dict[str, Any]] = {
    "429 rateLimitExceeded (40%, Retry-After 1)": {
        "errors": [{"status": 429, "reason": "rateLimitExceeded", "rate": 0.4,
                    "retry_after": 1}]},
    "503 backendError (40%)": {"errors": [{"status": 503, "reason": "backendError",
                                           "rate": 0.4}]},
    "500 backendError (next 10 calls)": {"errors": [{"status": 500, "reason": "backendError",
                                                     "count": 10}]},
    "410 fullSyncRequired (sync tokens expired)": {"expire_sync_tokens": True},
    "token endpoint 500 (next 5 grants) and expired access tokens": {
        "token_errors": [{"status": 500, "count": 5}], "expire_access_tokens": True},
    "token endpoint 400 unknown error (next 3 grants)": {
        "token_errors": [{"status": 400, "reason": "temporarily_unavailable", "count": 3}],
        "expire_access_tokens": True},
    "latency 400 ms": {"latency_ms": 400},
    "dropped notifications (all)": {"drop_notifications": 1.0},
    "duplicate notifications (all)": {"duplicate_notifications": 1.0},
    "burst beyond the per-user budget": {},
}
"""Fault name to the control document that switches it on."""

CLEAR: dict[str, Any] = {"clear_errors": True, "latency_ms": 0, "drop_notifications": 0.0,
                         "duplicate_notifications": 0.0}


BURST_BUDGET = 30
"""Units per user per minute, for the gateway and the emulator alike, during the burst
(a budget a burst reaches within seconds, whatever else slows the gateway down)."""
BURST_KEYWORD_EVENTS = 45
"""Keyword events for one user in the burst: their invite writes (at least a unit each:
the gateway writes with ``events.update``, or ``patch`` at 3 units) and the syncs around
them need more than the burst budget of a minute."""


def exercise(world: World, name: str) -> None:
    """Changes under the fault; in the burst, more invite writes for one user than its
    budget allows in a minute."""
    calendars = world.calendars
    if name.startswith("burst"):
        calendars.keywords(calendars.users[0], BURST_KEYWORD_EVENTS, keyword="@webex")
        return
    for email in calendars.users:
        calendars.bulk(email, 20)
        calendars.edits(email, 10)
        calendars.keywords(email, 3)
        calendars.cancel(email, 3)


def set_user_budget(world: World, units: int) -> None:
    """Restart ``serve`` with ``units`` per user and minute, and give the emulator the
    same quota (lowered after the gateway, raised before it: never the other way)."""
    quota = world.serve.settings["quota"]
    lowering = units < int(quota["user_per_minute"])
    if not lowering:
        world.emulators.control({"quota": {"user_rpm": units}})
    world.serve.stop()
    quota["user_per_minute"] = units
    world.serve.start(within=120)
    if lowering:
        world.emulators.control({"quota": {"user_rpm": units}})


def one_fault(world: World, name: str, document: dict[str, Any]) -> bool:
    """Run one fault; True when survived."""
    tally = world.tally
    counts = (tally.lost, tally.duplicates, tally.integrity_failures)
    refused = world.emulators.quota()["refused"]
    label = f"fault {name!r}"
    burst = name.startswith("burst")
    budget = world.user_budget
    if burst:
        set_user_budget(world, BURST_BUDGET)
        budget = BURST_BUDGET
    began = time.monotonic()  # CLOCK_MONOTONIC: the same in the emulators' process
    if document:
        world.emulators.control(document)
    exercise(world, name)
    time.sleep(world.rng.uniform(0.5, 2.0))
    before = Committed.read(world.store)
    world.serve.kill9()
    after_kill(world.store, before, world.emulators, world.emails, tally, label)
    world.serve.start(within=120)
    time.sleep(2.0)  # the gateway works under the fault for a while
    world.emulators.control(CLEAR)
    converged = world.converge(label, within=240 if burst else 120)
    refused_now = world.emulators.quota()["refused"] - refused
    if refused_now:
        tally.note(f"{label}: the emulator refused {refused_now} call(s) for quota: the "
                   "gateway exceeded its budget")
    if burst:
        report = world.emulators.quota(since=began)
        peak = report["peak_user_units_per_minute"]
        print(f"  {label}: peak {peak} of {budget} units in a minute for one user "
              f"({time.monotonic() - began:.0f} s; units by user {report['units_by_user']})",
              flush=True)
        set_user_budget(world, world.user_budget)
        if peak < 0.8 * budget:
            tally.note(f"{label}: the burst reached only {peak} units a minute; the budget "
                       "was not exercised")
            converged = False
    survived = (converged and not refused_now
                and (tally.lost, tally.duplicates, tally.integrity_failures) == counts)
    print(f"{label}: {'survived' if survived else 'FAILED'}", flush=True)
    return survived


def fault_matrix(world: World, only: str = "") -> None:
    """Every fault of :data:`FAULTS` (whose name contains ``only``); counts survived ones
    into the tally."""
    for name, document in FAULTS.items():
        if only not in name:
            continue
        if one_fault(world, name, document):
            world.tally.faults_survived += 1
        else:
            world.tally.faults_failed.append(name)
