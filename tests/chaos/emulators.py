"""The Google and Webex emulators in a process of their own, for the chaos harness.

``python -m tests.chaos.emulators INFO_FILE --users a@x,b@x [--user-rpm N]`` starts both
emulators on loopback, authorises a Webex Service App and a bot for the gateway, writes
``INFO_FILE`` (their URLs, the service-account key, the ``[webex]`` settings and the
address of the inspection endpoint) and serves until SIGTERM. Killing gateways with
SIGKILL never touches this process, so what Google and Webex hold survives every crash.

The inspection endpoint (``POST /rpc`` with ``{"call": NAME, "args": [...], "kwargs":
{...}}``, loopback only) lets the harness change calendars the way a person would
(``google.insert_event``, ``google.patch_event``, ``google.delete_event``, ``google.control``,
...: the emulator's own state methods, which behave like the API calls, push messages
included) and read what the checks compare, without calling the metered API:

* ``window``: a user's events in a time window (id to etag);
* ``join_blocks``: join blocks written into each stored event;
* ``quota``: units the emulator charged and the calls it refused for quota, which must
  stay 0 while the gateway keeps its budget (the quota answers 403, so refusals are never
  confused with the 429s the fault matrix injects);
* ``webex_duplicates``: Join cards sent twice to one person for one key, and Webex
  meetings created twice for one calendar event.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hybrid_calendar_google_emulator.api_errors import ApiError
from hybrid_calendar_google_emulator.state import EmulatorState
from hybrid_calendar_google_emulator.testing import running_emulator
from hybrid_calendar_webex_emulator.state import WebexState
from hybrid_calendar_webex_emulator.testing import running_webex_emulator
from tests.chaos.window import join_blocks, window_events

GOOGLE_CALLS = ("insert_event", "patch_event", "delete_event", "move_event", "control",
                "get_event", "invalidate_sync_tokens", "expire_access_tokens")
"""Google emulator state methods the harness may call."""


class QuotaMeter:
    """Counts what the emulator's quota charged and refused (wraps ``Quota.charge``)."""

    def __init__(self, state: EmulatorState) -> None:
        self.units = 0
        self.refused: Counter[str] = Counter()
        self.charges: dict[str, list[tuple[float, int]]] = {}
        self._lock = threading.Lock()
        quota = state.quota
        charge = quota.charge

        def counted(user: str | None, units: int = 1) -> None:
            try:
                charge(user, units)
            except ApiError:
                with self._lock:
                    self.refused[user or "(project)"] += 1
                raise
            with self._lock:
                self.units += units
                self.charges.setdefault(user or "(project)", []).append(
                    (time.monotonic(), units))

        quota.charge = counted  # type: ignore[method-assign]

    def report(self, since: float = 0.0) -> dict[str, Any]:
        """Units charged, refusals by user, and the most units one user was charged in
        any 60 seconds after ``since`` (how close the gateway came to its budget)."""
        with self._lock:
            peaks = {user: peak_per_minute([c for c in charges if c[0] >= since])
                     for user, charges in self.charges.items() if user != "(project)"}
            return {"units": self.units, "refused": sum(self.refused.values()),
                    "refused_by_user": dict(self.refused),
                    "peak_user_units_per_minute": max(peaks.values(), default=0),
                    "peaks": peaks,
                    "units_by_user": {user: sum(u for t, u in charges if t >= since)
                                      for user, charges in self.charges.items()}}


def peak_per_minute(charges: list[tuple[float, int]]) -> int:
    """The most units within any 60-second window of ``(time, units)`` charges."""
    peak = total = first = 0
    for when, units in charges:
        total += units
        while charges[first][0] <= when - 60:
            total -= charges[first][1]
            first += 1
        peak = max(peak, total)
    return peak


def card_keys(state: WebexState) -> Counter[tuple[str, str]]:
    """(space, card key tag) of every Join card message in the Webex emulator."""
    seen: Counter[tuple[str, str]] = Counter()
    with state.lock:
        messages = list(state.messages.values())
    for message in messages:
        for attachment in message.get("attachments") or []:
            for element in (attachment.get("content") or {}).get("body") or []:
                tag = str(element.get("id") or "") if isinstance(element, dict) else ""
                if tag.startswith("hc-key-"):
                    seen[(str(message.get("roomId")), tag)] += 1
    return seen


def webex_duplicates(state: WebexState) -> dict[str, Any]:
    """Cards sent twice for one key to one space, meetings made twice for one event."""
    cards = card_keys(state)
    with state.lock:
        meetings = list(state.meetings.values())
    tags: Counter[str] = Counter(tag for meeting in meetings
                                 for tag in meeting.get("integrationTags") or [])
    return {"cards": sum(cards.values()),
            "duplicate_cards": sum(n - 1 for n in cards.values() if n > 1),
            "meetings": len(meetings),
            "duplicate_meetings": sum(n - 1 for n in tags.values() if n > 1)}


def handlers(google: EmulatorState, webex: WebexState, meter: QuotaMeter
             ) -> dict[str, Callable[..., Any]]:
    """The calls ``/rpc`` answers."""
    calls: dict[str, Callable[..., Any]] = {
        f"google.{name}": getattr(google, name) for name in GOOGLE_CALLS}
    calls.update({
        "window": lambda email, start, end: window_events(
            google, email, datetime.fromisoformat(start), datetime.fromisoformat(end)),
        "join_blocks": lambda email: join_blocks(google, email),
        "quota": meter.report,
        "request_count": lambda: len(google.request_log),
        "push_idle": lambda timeout=5.0: google.push.wait_idle(timeout),
        "webex_duplicates": lambda: webex_duplicates(webex),
        "webex.control": webex.control,
    })
    return calls


def serve_rpc(calls: dict[str, Callable[..., Any]]) -> ThreadingHTTPServer:
    """Start the inspection endpoint on a free loopback port (daemon thread)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            try:
                result = calls[request["call"]](*request.get("args", []),
                                                **request.get("kwargs", {}))
                body, status = {"result": result}, 200
            except ApiError as err:
                body, status = {"error": f"{err.code} {err.reason}"}, 409
            except Exception as err:  # the harness reports it; this process keeps serving
                body, status = {"error": f"{type(err).__name__}: {err}"}, 500
            data = json.dumps(body, default=str).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: the harness prints what matters

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, name="chaos-rpc", daemon=True).start()
    return server


def main() -> None:
    """Run both emulators until SIGTERM (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("info_file", type=Path)
    parser.add_argument("--domain", default="example.com")
    parser.add_argument("--users", required=True)
    parser.add_argument("--user-rpm", type=int, default=600)
    parser.add_argument("--project-rpm", type=int, default=10_000)
    args = parser.parse_args()
    users = args.users.split(",")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.ExitStack() as stack:
        google = stack.enter_context(running_emulator(
            domain=args.domain, users=users, user_rpm=args.user_rpm,
            project_rpm=args.project_rpm))
        webex = stack.enter_context(running_webex_emulator(args.domain, users))
        app = webex.state.create_service_app("Hybrid Calendar chaos")
        webex.state.authorize_service_app(app.application_id)
        _, bot_token = webex.state.create_bot("Hybrid Calendar chaos", "hybrid-calendar-chaos")
        meter = QuotaMeter(google.state)
        rpc = serve_rpc(handlers(google.state, webex.state, meter))
        stack.callback(rpc.shutdown)
        info = {
            "google_base_url": google.base_url,
            "service_account": google.service_account_info,
            "webex": {"api_base_url": webex.api_base, "service_app_id": app.application_id,
                      "client_id": app.client_id, "client_secret": app.client_secret,
                      "applications_token": webex.admin_token, "bot_token": bot_token,
                      "target_org_id": webex.state.org_id},
            "rpc_url": f"http://127.0.0.1:{rpc.server_address[1]}/rpc",
        }
        partial = args.info_file.with_suffix(".partial")
        partial.write_text(json.dumps(info))
        partial.chmod(0o600)
        partial.rename(args.info_file)  # appears complete, or not at all
        stop.wait()


if __name__ == "__main__":
    main()
