"""Google's Retry-After header, read so the engine's retry waits as long as asked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hybrid_calendar_google.retry_after import parse_retry_after

NOW = datetime(2015, 10, 21, 7, 27, 30, tzinfo=UTC)


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
