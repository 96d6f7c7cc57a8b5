"""Cost of building one ``events.list`` request: google-api-python-client vs. ours.

Run: ``.venv/bin/python bench/request_build.py [--n 20000]``. Prints microseconds per
request for

* ``build()`` of the Calendar service from the bundled discovery document (once per
  process in practice; per call it would dominate everything),
* ``service.events()`` (re-deriving the resource, which googleapiclient does per access),
* ``events.list(...)`` on a cached resource (an ``HttpRequest`` object),
* :meth:`hybrid_calendar_google.discovery.ApiMethod.prepare` (templates compiled once).

Results are recorded in ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build

from hybrid_calendar_google.discovery import Calendar

BASE = "http://127.0.0.1:8080/calendar/v3"
PARAMS = {"calendarId": "alice@example.com", "singleEvents": True,
          "timeMin": "2026-11-20T00:00:00Z", "timeMax": "2026-12-28T00:00:00Z",
          "maxResults": 2500}


def _per_call(n: int, fn: Callable[[], object]) -> float:
    fn()
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - started) / n * 1e6


def _service() -> Any:
    """googleapiclient's Calendar client (built at run time from the discovery document:
    it has no static type)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build("calendar", "v3", static_discovery=True,
                     credentials=Credentials(token="x"),  # type: ignore[no-untyped-call]  # google-auth: no hints
                     client_options={"api_endpoint": BASE + "/"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="requests per measurement")
    args = parser.parse_args()
    service = _service()
    events = service.events()
    rows = [
        ("googleapiclient build() per call", _per_call(max(1, args.n // 200), _service)),
        ("googleapiclient service.events().list()",
         _per_call(max(1, args.n // 100),
                   lambda: service.events().list(**PARAMS))),
        ("googleapiclient cached events.list() (HttpRequest)",
         _per_call(args.n, lambda: events.list(**PARAMS))),
        ("hybrid_calendar_google ApiMethod.prepare()",
         _per_call(args.n, lambda: Calendar.events_list.prepare(BASE, body=None, **PARAMS))),
    ]
    width = max(len(name) for name, _ in rows)
    for name, micros in rows:
        print(f"{name:<{width}}  {micros:10.1f} us/request")
    print(f"ratio cached googleapiclient / ApiMethod.prepare: {rows[2][1] / rows[3][1]:.1f}x")


if __name__ == "__main__":
    main()
