"""Helpers for the emulator tests: clients built like a real integrator's, a webhook receiver."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from googleapiclient.discovery import build

from hybrid_calendar_google_emulator.testing import RunningEmulator

ALICE = "alice@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"
CALENDAR = "https://www.googleapis.com/auth/calendar"
GMAIL_SETTINGS = "https://www.googleapis.com/auth/gmail.settings.basic"


def calendar_service(emu: RunningEmulator, user: str = ALICE,
                     scopes: tuple[str, ...] = (CALENDAR,)) -> Any:
    """A Calendar v3 client for ``user``, built exactly as the brief prescribes."""
    from google.oauth2 import service_account

    creds = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]  # google-auth: no hints
        emu.service_account_info, scopes=list(scopes)).with_subject(user)
    return build("calendar", "v3", credentials=creds,
                 client_options={"api_endpoint": emu.base_url + "/calendar/v3/"},
                 static_discovery=True, cache_discovery=False)


def timed(summary: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    """An event body with dateTime start/end."""
    return {"summary": summary, "start": {"dateTime": start}, "end": {"dateTime": end},
            **extra}


class Receiver:
    """A tiny webhook receiver on loopback recording every POST."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        """Statuses to answer, in order (then 200)."""
        self.event = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with outer.event:
                    status = outer.statuses.pop(0) if outer.statuses else 200
                    outer.received.append({"path": self.path, "headers": dict(self.headers),
                                           "body": body, "status": status})
                    outer.event.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/notify"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until ``count`` POSTs arrived; returns them all."""
        with self.event:
            self.event.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
        self.server.server_close()
