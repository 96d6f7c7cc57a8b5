"""Capped full-jitter backoff honouring Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hybrid_calendar_google.backoff import Backoff, parse_retry_after

NOW = datetime(2015, 10, 21, 7, 27, 30, tzinfo=UTC)


def test_full_jitter_grows_and_is_capped() -> None:
    policy = Backoff(base=0.5, cap=4.0, random=lambda: 1.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert Backoff(random=lambda: 0.0).delay(3) == 0.0


def test_retry_after_raises_the_wait_but_is_bounded() -> None:
    policy = Backoff(base=0.5, cap=4.0, max_retry_after=10.0, random=lambda: 0.5)
    assert policy.delay(1, retry_after=3.0) == 3.0
    assert policy.delay(1, retry_after=300.0) == 10.0
    assert policy.delay(4, retry_after=0.1) == pytest.approx(2.0)


@pytest.mark.anyio
async def test_wait_sleeps_the_delay() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    policy = Backoff(base=1.0, cap=8.0, random=lambda: 0.25, sleep=sleep)
    assert await policy.wait(3) == 1.0
    assert slept == [1.0]


@pytest.mark.parametrize(("header", "seconds"), [
    ("7", 7.0),
    ("0.5", 0.5),
    ("-3", 0.0),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 30.0),
    ("Wed, 21 Oct 2015 07:28:00 -0000", 30.0),  # naive date: must not raise TypeError
    ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),  # already past
    ("soon", None),
    ("", None),
    (None, None),
])
def test_retry_after_header_seconds_or_http_date(header: str | None,
                                                 seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds
