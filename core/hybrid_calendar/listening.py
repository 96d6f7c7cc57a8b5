"""Waiting until a server answers: the one start-up poll, with a deadline and a clear error.

A server started in a thread, a task or another process gives its caller no event to wait
on (uvicorn sets a flag, a child process prints nothing reliable), so the caller asks the
server itself until it answers. Everything in the project that starts a server and must
wait for it (the demo, the emulator's background server, tests) goes through
:func:`wait_until_answering` or its async twin :func:`until_answering`.

An ``http://``/``https://`` URL answers when any HTTP response comes back (or, with
``status``, that status); a ``tcp://host:port`` address answers when it accepts a
connection.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

FIRST_PAUSE = 0.005
"""Seconds between the first two tries; the pause doubles up to :data:`LONGEST_PAUSE`."""

LONGEST_PAUSE = 0.2


class ServerNotAnsweringError(RuntimeError):
    """A server did not answer before its deadline, or its process/thread/task ended first.

    :ivar address: the URL or ``tcp://`` address that was tried.
    """

    def __init__(self, address: str, message: str) -> None:
        super().__init__(f"{address}: {message}")
        self.address = address


def wait_until_answering(address: str, *, within: float = 10.0,
                         alive: Callable[[], bool] | None = None,
                         status: int | None = None,
                         verify: ssl.SSLContext | bool = True) -> None:
    """Block until ``address`` answers.

    :param address: ``http(s)://host:port/path`` or ``tcp://host:port``.
    :param within: seconds before giving up.
    :param alive: returns False once the server's thread, task or process ended: waiting
        stops at once instead of running into the deadline.
    :param status: for HTTP, the status that counts as an answer (any, when None).
    :param verify: TLS verification for ``https`` (a context trusting a test CA, say).
    :raises ServerNotAnsweringError: naming the address and why (deadline, server ended).
    """
    deadline = time.monotonic() + within
    pause = FIRST_PAUSE
    last = "no answer"
    with _client_for(address, verify) as client:
        while True:
            if alive is not None and not alive():
                raise ServerNotAnsweringError(address, "the server ended before answering")
            last = _try(client, address, status,
                        max(0.05, min(2.0, deadline - time.monotonic())))
            if not last:
                return
            if time.monotonic() + pause > deadline:
                raise ServerNotAnsweringError(
                    address, f"no answer within {within:g} s (last try: {last})")
            time.sleep(pause)
            pause = min(LONGEST_PAUSE, pause * 2)


async def until_answering(address: str, *, within: float = 10.0,
                          alive: Callable[[], bool] | None = None,
                          status: int | None = None,
                          verify: ssl.SSLContext | bool = True) -> None:
    """:func:`wait_until_answering` from async code (the event loop stays free to serve)."""
    await asyncio.to_thread(wait_until_answering, address, within=within, alive=alive,
                            status=status, verify=verify)


def _client_for(address: str, verify: ssl.SSLContext | bool) -> httpx.Client:
    """One client for every try of a wait. Only ``https`` gets ``verify``: loading the
    trust store for a client took 20–50 ms, and a plain ``http://`` or ``tcp://``
    address has no certificate to check (the tests start about a thousand servers)."""
    scheme = urlsplit(address).scheme
    return httpx.Client(verify=verify if scheme == "https" else False)


def _try(client: httpx.Client, address: str, status: int | None, timeout: float) -> str:
    """One try: ``""`` when the server answered, else what went wrong."""
    parts = urlsplit(address)
    if parts.scheme == "tcp":
        try:
            with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0),
                                          timeout=timeout):
                return ""
        except OSError as err:
            return type(err).__name__
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{address}: expected an http(s):// URL or tcp://host:port")
    try:
        response = client.get(address, timeout=timeout)
    except httpx.TransportError as err:
        return type(err).__name__
    if status is not None and response.status_code != status:
        return f"HTTP {response.status_code}"
    return ""
