"""LogLimiter: one line per key per interval, counting the lines left out."""

from __future__ import annotations

import logging

import pytest

from hybrid_calendar.log_limits import MAX_KEYS, LogLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_one_line_per_key_per_interval_then_the_count(caplog: pytest.LogCaptureFixture
                                                      ) -> None:
    clock = Clock()
    limiter = LogLimiter(logging.getLogger("limited"), interval=60, clock=clock)
    with caplog.at_level(logging.WARNING, "limited"):
        written = [limiter.log(logging.WARNING, "k", "keyword %r unserved", "@x")
                   for _ in range(1000)]
        assert written.count(True) == 1
        limiter.log(logging.WARNING, "other", "keyword %r unserved", "@y")
        clock.now = 61
        limiter.log(logging.WARNING, "k", "keyword %r unserved", "@x")
    assert [r.getMessage() for r in caplog.records] == [
        "keyword '@x' unserved", "keyword '@y' unserved",
        "keyword '@x' unserved (999 more like it in the last 60 s)"]


def test_memory_is_bounded_by_max_keys() -> None:
    limiter = LogLimiter(logging.getLogger("limited"), clock=Clock())
    for n in range(MAX_KEYS + 50):
        limiter.log(logging.DEBUG, f"key {n}", "line")
    assert len(limiter._logged) == MAX_KEYS
