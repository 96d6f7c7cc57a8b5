"""Helpers for the Webex emulator tests: clients built as an integrator would, a receiver."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import webexpythonsdk
from pydantic import BaseModel
from wxc_sdk import WebexSimpleApi
from wxc_sdk.as_api import AsWebexSimpleApi
from wxc_sdk.as_rest import AsRestSession
from wxc_sdk.people import Person
from wxc_sdk.rest import RestSession
from wxc_sdk.tokens import Tokens

from hybrid_calendar_webex_emulator.testing import RunningWebexEmulator

ALICE = "alice@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"


def first_email(person: Person) -> str:
    """A person's first email address (wxc-sdk types ``emails`` as optional)."""
    assert person.emails, person
    return person.emails[0]


def extra(model: BaseModel, field: str) -> object:
    """A field wxc-sdk's model does not declare, as the emulator answered it."""
    assert model.model_extra is not None, model
    return model.model_extra[field]


def wxc(emu: RunningWebexEmulator, token: str) -> WebexSimpleApi:
    """wxc-sdk's synchronous API pointed at the emulator (``RestSession.BASE``)."""
    session = RestSession(tokens=Tokens(access_token=token), concurrent_requests=4)
    session.BASE = emu.api_base  # type: ignore[misc]
    return WebexSimpleApi(tokens=token, session=session)


def wxc_async(emu: RunningWebexEmulator, token: str) -> AsWebexSimpleApi:
    """wxc-sdk's aiohttp API pointed at the emulator (``AsRestSession.BASE``); call inside
    the event loop and close ``api.session`` afterwards (a given session is not closed by
    the API object)."""
    session = AsRestSession(tokens=Tokens(access_token=token), concurrent_requests=4)
    session.BASE = emu.api_base
    return AsWebexSimpleApi(tokens=token, session=session)


def webexsdk(emu: RunningWebexEmulator, token: str) -> webexpythonsdk.WebexAPI:
    """webexpythonsdk's API with ``base_url`` at the emulator."""
    return webexpythonsdk.WebexAPI(access_token=token, base_url=emu.api_base + "/")


class Receiver:
    """A webhook receiver on loopback recording every POST (body, headers)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        """Statuses to answer, in order (then 200)."""
        self.condition = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.condition:
                    status = outer.statuses.pop(0) if outer.statuses else 200
                    outer.received.append({"headers": dict(self.headers), "raw": raw,
                                           "body": json.loads(raw), "status": status})
                    outer.condition.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until ``count`` POSTs arrived; returns them all."""
        with self.condition:
            self.condition.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
        self.server.server_close()
