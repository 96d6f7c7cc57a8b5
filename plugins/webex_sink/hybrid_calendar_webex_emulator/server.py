"""Serving the emulator with uvicorn, in the foreground (CLI) or a background thread (tests)."""

from __future__ import annotations

import uvicorn

from hybrid_calendar.prompt_server import PromptServer
from hybrid_calendar.threaded_server import ThreadedServer, base_url, bind
from hybrid_calendar_webex_emulator.app import create_app
from hybrid_calendar_webex_emulator.state import WebexState

__all__ = ["BackgroundServer", "bind", "make_server"]


def make_server(state: WebexState) -> uvicorn.Server:
    """A uvicorn server for the emulator app (no access log: paths carry emails)."""
    config = uvicorn.Config(create_app(state), log_level="warning", access_log=False,
                            lifespan="off", timeout_keep_alive=30)
    return PromptServer(config)


class BackgroundServer(ThreadedServer):
    """The emulator in its own thread, its state told the URL it serves."""

    def __init__(self, state: WebexState, host: str = "127.0.0.1", port: int = 0) -> None:
        sock = bind(host, port)
        state.set_base_url(base_url(sock))
        super().__init__(sock, make_server(state), name="webex-emulator")
