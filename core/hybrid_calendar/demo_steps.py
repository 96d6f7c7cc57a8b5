"""The demo's steps: what each shows, what was checked, and whether it held.

A step prints its title when it starts and one line per check as the check settles
(``PASS``/``FAIL`` and what was compared). A check looks at what the emulators recorded
and is retried until it holds or its time is up (:func:`settle`), because the gateway
works in the background: a push notification, a sync, then the writes. ``demo --once``
ends with a summary line per step; its exit status says whether every step passed.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TextIO


@dataclass(frozen=True)
class Outcome:
    """One check: whether it held, and what was compared (or what was found instead)."""

    passed: bool
    checked: str


def passed(checked: str) -> Outcome:
    """A check that held."""
    return Outcome(True, checked)


def failed(checked: str) -> Outcome:
    """A check that did not hold."""
    return Outcome(False, checked)


Check = Callable[[], Awaitable[Outcome]]


async def settle(check: Check, *, within: float, every: float = 0.1) -> Outcome:
    """Run ``check`` until it passes or ``within`` seconds are over; the last outcome.

    A check that raises counts as failed, with the error as what was found.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            outcome = await check()
        except Exception as err:  # a check must report, never stop the walkthrough
            outcome = failed(f"the check raised {type(err).__name__}: {err}")
        if outcome.passed or loop.time() >= deadline:
            return outcome
        await asyncio.sleep(every)


@dataclass
class StepRecord:
    """A step and the outcomes of its checks."""

    title: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """A step passes when it checked something and every check held."""
        return bool(self.outcomes) and all(o.passed for o in self.outcomes)


class Walkthrough:
    """Prints steps as they happen and keeps their outcomes for the summary."""

    def __init__(self, out: TextIO | None = None, *, within: float = 20.0) -> None:
        self.out = out or sys.stdout
        self.within = within
        self.steps: list[StepRecord] = []

    def say(self, line: str = "") -> None:
        """Print a line at once (the demo narrates as it goes)."""
        print(line, file=self.out, flush=True)

    def step(self, title: str) -> StepRecord:
        """Start a step: print its title."""
        record = StepRecord(title)
        self.steps.append(record)
        self.say(f"\n[{len(self.steps)}] {title}")
        return record

    def note(self, line: str) -> None:
        """Print what the step does (an action, not a check)."""
        self.say(f"    - {line}")

    async def check(self, check: Check, within: float | None = None) -> Outcome:
        """Settle ``check`` for the current step, print and record its outcome."""
        outcome = await settle(check, within=self.within if within is None else within)
        self.record(outcome)
        return outcome

    def record(self, outcome: Outcome) -> None:
        """Record and print an outcome for the current step."""
        if not self.steps:
            raise RuntimeError("no step started")
        self.steps[-1].outcomes.append(outcome)
        self.say(f"    {'PASS' if outcome.passed else 'FAIL'} {outcome.checked}")

    @property
    def all_passed(self) -> bool:
        """Every step ran at least one check and all held."""
        return bool(self.steps) and all(step.passed for step in self.steps)

    def summary(self) -> list[str]:
        """One line per step, then the count."""
        lines = [f"{'PASS' if s.passed else 'FAIL'}  [{i}] {s.title}: "
                 + ("; ".join(o.checked for o in s.outcomes if s.passed or not o.passed)
                    or "nothing was checked")
                 for i, s in enumerate(self.steps, 1)]
        good = sum(s.passed for s in self.steps)
        lines.append(f"demo: {good} passed, {len(self.steps) - good} failed")
        return lines
