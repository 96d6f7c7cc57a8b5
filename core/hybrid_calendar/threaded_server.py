"""A uvicorn server on a socket of its own, served from a background thread.

The emulators run this way inside tests, benchmarks and the demo (and in the foreground,
from their commands, on a socket from :func:`bind`).
"""

from __future__ import annotations

import asyncio
import socket
import threading

import uvicorn

from hybrid_calendar.listening import wait_until_answering


def bind(host: str = "127.0.0.1", port: int = 0, *, backlog: int = 2048) -> socket.socket:
    """A listening TCP socket (``port=0``: a free port).

    ``IPPROTO_TCP`` must be explicit: asyncio only sets ``TCP_NODELAY`` on accepted sockets
    whose protocol says TCP, and without it every response waits ~40 ms for a delayed ACK.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


def base_url(sock: socket.socket) -> str:
    """``http://host:port`` of a bound socket."""
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


class ThreadedServer:
    """``server`` serving ``sock`` in its own thread with its own event loop.

    :param sock: a bound, listening socket (:func:`bind`).
    :param server: the uvicorn server to run on it.
    :param name: the thread's name (shows in thread dumps).
    """

    def __init__(self, sock: socket.socket, server: uvicorn.Server, *, name: str) -> None:
        self.sock = sock
        self.base_url = base_url(sock)
        self.server = server
        self.thread = threading.Thread(target=self._run, daemon=True, name=name)

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.sock]))

    def start(self, timeout: float = 10.0) -> None:
        """Start serving; returns once the server answers HTTP.

        :raises ServerNotAnsweringError: it did not answer within ``timeout`` seconds.
        """
        self.thread.start()
        wait_until_answering(self.base_url + "/", within=timeout, alive=self.thread.is_alive)

    def stop(self) -> None:
        """Shut down and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
