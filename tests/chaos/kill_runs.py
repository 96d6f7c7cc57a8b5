"""Kill -9 runs: change calendars, SIGKILL ``serve`` at a random moment, check, restart.

Each run picks a scenario (a large sync, keyword writes, Join-button delivery, or a mix
with edits, moves, cancellations and an expired sync token), makes the changes, waits a
random time (0 to ``max_delay`` seconds: the gateway is then anywhere in fetching,
writing invites, storing or delivering), reads what is committed, kills the process with
SIGKILL, and checks the file it left (:func:`checks.after_kill`). It then restarts
``serve`` and waits for convergence (:func:`checks.converge`).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tests.chaos.checks import Committed, Tally, after_kill, converge, settled
from tests.chaos.gateway import ServeProcess, StoreReader
from tests.chaos.remote import Emulators
from tests.chaos.workload import Calendars


@dataclass
class World:
    """Everything a run touches."""

    serve: ServeProcess
    store: StoreReader
    emulators: Emulators
    calendars: Calendars
    emails: dict[str, str]
    """User id to email address."""
    rng: random.Random
    tally: Tally
    user_budget: int
    """Units per user per minute: the gateway's budget and the emulator's quota."""

    def converge(self, label: str, within: float = 60.0) -> bool:
        """:func:`checks.converge` on this world."""
        return converge(self.serve, self.store, self.emulators, self.emails,
                        self.calendars.keyword_events, self.tally, label, within)


def large_sync(world: World, email: str) -> None:
    """Many new events at once (one user's sync pages through all of them)."""
    world.calendars.bulk(email, world.rng.randint(60, 150))


def keyword_writes(world: World, email: str) -> None:
    """Keyword events: meetings made in Webex, join blocks written into the invites."""
    world.calendars.keywords(email, world.rng.randint(3, 8))


def join_buttons(world: World, email: str) -> None:
    """Meetings starting within the lead time, some with keywords: Join cards go out."""
    world.calendars.starting_soon(email, world.rng.randint(2, 5))
    world.calendars.keywords(email, world.rng.randint(1, 2), soon=True)


def churn(world: World, email: str) -> None:
    """Edits, cancellations, a move, new events; sometimes an expired sync token (410:
    the next sync is a full one)."""
    calendars = world.calendars
    calendars.edits(email, world.rng.randint(5, 20))
    calendars.cancel(email, world.rng.randint(2, 10))
    calendars.move(email)
    calendars.bulk(email, world.rng.randint(5, 20))
    if world.rng.random() < 0.4:
        world.emulators.call("google.invalidate_sync_tokens", email)


SCENARIOS: tuple[Callable[[World, str], None], ...] = (
    large_sync, keyword_writes, join_buttons, churn)


def kill_run(world: World, index: int, max_delay: float) -> None:
    """One run: change, wait a random moment, SIGKILL, check, restart, converge."""
    scenario = SCENARIOS[index % len(SCENARIOS)]
    email = world.rng.choice(world.calendars.users)
    label = f"run {index + 1} ({scenario.__name__}, {email})"
    started = time.monotonic()
    changes = threading.Thread(target=scenario, args=(world, email), name="changes")
    changes.start()  # the kill may come while changes are still being made
    time.sleep(world.rng.uniform(0.0, max_delay))
    mid_work = changes.is_alive() or not settled(world.store)
    before = Committed.read(world.store)
    world.serve.kill9()
    changes.join()
    injected = time.monotonic() - started
    world.tally.kill_runs += 1
    world.tally.kills_mid_work += mid_work
    after_kill(world.store, before, world.emulators, world.emails, world.tally, label)
    checked = time.monotonic() - started
    world.serve.start()
    restarted = time.monotonic() - started
    world.converge(label)
    print(f"{label}: killed {'mid-work' if mid_work else 'idle'}, "
          f"{len(before.meetings)} meetings committed, changes {injected:.1f} s, "
          f"checked {checked:.1f} s, ready {restarted:.1f} s, "
          f"converged {time.monotonic() - started:.1f} s", flush=True)


def kill_runs(world: World, count: int, max_delay: float = 1.0) -> None:
    """``count`` kill runs, with 15 ms of latency on every Google call so that syncs and
    invite writes last long enough to be interrupted."""
    world.emulators.control({"latency_ms": 15})
    try:
        for index in range(count):
            kill_run(world, index, max_delay)
    finally:
        world.emulators.control({"latency_ms": 0})
