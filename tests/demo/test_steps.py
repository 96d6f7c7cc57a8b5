"""The demo's step bookkeeping and its skipping clock."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from hybrid_calendar.demo_clock import JumpingClock
from hybrid_calendar.demo_steps import Outcome, Walkthrough, failed, passed, settle

pytestmark = pytest.mark.anyio


async def test_settle_retries_a_check_until_it_holds() -> None:
    answers = iter([failed("not yet"), failed("not yet"), passed("done")])

    async def check() -> Outcome:
        return next(answers)

    assert await settle(check, within=5, every=0) == passed("done")


async def test_settle_reports_the_last_failure_when_time_is_up() -> None:
    calls = 0

    async def check() -> Outcome:
        nonlocal calls
        calls += 1
        return failed(f"attempt {calls}")

    outcome = await settle(check, within=0, every=0)
    assert outcome == failed("attempt 1") and calls == 1


async def test_a_check_that_raises_fails_with_the_error() -> None:
    async def check() -> Outcome:
        raise KeyError("bob")

    outcome = await settle(check, within=0)
    assert not outcome.passed and outcome.checked == "the check raised KeyError: 'bob'"


async def test_the_summary_has_a_line_per_step_and_the_count() -> None:
    out = io.StringIO()
    walk = Walkthrough(out, within=0)
    walk.step("first")
    walk.record(passed("a held"))
    walk.record(passed("b held"))
    walk.step("second")
    walk.record(passed("c held"))
    walk.record(failed("d did not"))
    walk.step("third: checks nothing")
    assert not walk.all_passed
    assert walk.summary() == ["PASS  [1] first: a held; b held",
                              "FAIL  [2] second: d did not",
                              "FAIL  [3] third: checks nothing: nothing was checked",
                              "demo: 1 passed, 2 failed"]
    assert "\n[2] second\n    PASS c held\n    FAIL d did not\n" in out.getvalue()


def test_an_empty_walkthrough_has_not_passed() -> None:
    assert not Walkthrough(io.StringIO()).all_passed


def test_the_clock_only_skips_ahead() -> None:
    clock = JumpingClock()
    before = datetime.now(UTC)
    clock.jump_to(before + timedelta(minutes=25))
    assert clock.now() >= before + timedelta(minutes=25)
    assert timedelta(minutes=24) < clock.ahead <= timedelta(minutes=25)
    ahead = clock.ahead
    clock.jump_to(before)  # the past: nothing happens
    clock.advance(timedelta(minutes=-5))
    assert clock.ahead == ahead
    assert clock.now() - datetime.now(UTC) >= ahead - timedelta(seconds=1)
