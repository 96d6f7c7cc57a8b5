"""Serving the emulator with uvicorn, in the foreground (CLI) or a background thread (tests)."""

from __future__ import annotations

import asyncio
import socket
import threading

import uvicorn

from hybrid_calendar.listening import wait_until_answering
from hybrid_calendar_webex_emulator.app import create_app
from hybrid_calendar_webex_emulator.state import WebexState


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket (``port=0``: a free port; TCP_NODELAY applies, see the Google
    emulator's server module)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


def make_server(state: WebexState) -> uvicorn.Server:
    """A uvicorn server for the emulator app (no access log: paths carry emails)."""
    config = uvicorn.Config(create_app(state), log_level="warning", access_log=False,
                            lifespan="off", timeout_keep_alive=30)
    return uvicorn.Server(config)


class BackgroundServer:
    """uvicorn in its own thread with its own event loop."""

    def __init__(self, state: WebexState, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = bind(host, port)
        bound_host, bound_port = self.sock.getsockname()[:2]
        self.base_url = f"http://{bound_host}:{bound_port}"
        state.set_base_url(self.base_url)
        self.server = make_server(state)
        self.thread = threading.Thread(target=self._run, daemon=True, name="webex-emulator")

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.sock]))

    def start(self, timeout: float = 10.0) -> None:
        """Start serving; returns once the emulator answers HTTP.

        :raises ServerNotAnsweringError: it did not answer within ``timeout`` seconds.
        """
        self.thread.start()
        wait_until_answering(self.base_url + "/", within=timeout, alive=self.thread.is_alive)

    def stop(self) -> None:
        """Shut down and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
