"""The push receiver process: answers ``POST /webhooks/google`` in an interpreter of its own.

Started by the gateway (:mod:`.push_supervisor`) when ``google.push_listen`` is set, as
``python -m hybrid_calendar_google.push_process``. It inherits two file descriptors: the
listening socket (bound by the gateway, so the port stays open across a restart of this
process) and one end of a UNIX socket pair to the gateway, the *control socket*. Over it,
one JSON object per line:

* gateway → receiver: ``register`` (channels: id, user, resource id, token digest,
  expiry), ``remove`` (channel ids), ``found`` (the answer to a look-up), ``ready``
  (whether the engine takes sync requests), ``flush`` (send what is pending now);
* receiver → gateway: ``batch`` (users to sync, outcome counts, refusal log lines; at
  most one per :data:`WINDOW_SECONDS`), ``lookup`` (a channel it does not hold),
  ``flushed``.

The HTTP stack is ``serve``'s: uvicorn's httptools protocol with the header deadline
and bounded head of :class:`~hybrid_calendar.server_limits.HeaderTimeoutProtocol`, here
with a bare ASGI callable (no framework). The answers are :class:`~.push_desk.PushDesk`'s.

The process dies with the gateway: ``PR_SET_PDEATHSIG`` (SIGKILL when the gateway
exits), and it exits by itself when the control socket reaches end-of-file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import logging
import os
import signal
import socket
import sys
from typing import Any

import uvicorn
from starlette.types import Receive, Scope, Send

from hybrid_calendar.server_limits import (
    KEEP_ALIVE_TIMEOUT,
    MAX_CONNECTIONS,
    HeaderTimeoutProtocol,
)
from hybrid_calendar_google.push_desk import (
    LookupFailedError,
    PushDesk,
    Registration,
)
from hybrid_calendar_google.webhook import WEBHOOK_PATH

log = logging.getLogger(__name__)

WINDOW_SECONDS = 0.05
"""Hints, counts and log lines gather this long before a batch goes to the gateway."""
LOOKUP_TIMEOUT = 5.0
"""Seconds a look-up may wait for the gateway before the notification gets 503."""
MAX_LOOKUPS = 1_000
"""Look-ups waiting for the gateway at once; past it, 503 without asking."""
STREAM_LIMIT = 64 * 1024 * 1024
"""Longest control message (a registration chunk)."""
PR_SET_PDEATHSIG = 1
_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]
_GOOGLE_HEADERS = frozenset({b"x-goog-channel-id", b"x-goog-channel-token",
                             b"x-goog-resource-id", b"x-goog-resource-state",
                             b"x-goog-message-number"})


def encode(message: dict[str, Any]) -> bytes:
    """One control message as a line."""
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


class GatewayLink:
    """The receiver's end of the control socket."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.desk = PushDesk(self.lookup)
        self._asked: dict[str, asyncio.Future[Registration | None]] = {}
        self._by_number: dict[int, str] = {}
        self._numbers = 0

    def send(self, message: dict[str, Any]) -> None:
        """Queue one message to the gateway (never waits)."""
        if not self.writer.is_closing():
            self.writer.write(encode(message))

    async def lookup(self, channel_id: str) -> Registration | None:
        """Ask the gateway for a channel (concurrent asks for one id share the answer)."""
        future = self._asked.get(channel_id)
        if future is None:
            if len(self._asked) >= MAX_LOOKUPS:
                raise LookupFailedError("too many look-ups waiting")
            future = asyncio.get_running_loop().create_future()
            self._numbers += 1
            self._asked[channel_id] = future
            self._by_number[self._numbers] = channel_id
            self.send({"op": "lookup", "n": self._numbers, "id": channel_id})
        try:
            return await asyncio.wait_for(asyncio.shield(future), LOOKUP_TIMEOUT)
        except TimeoutError:
            raise LookupFailedError("the gateway did not answer") from None

    def send_batch(self) -> None:
        """Hand what gathered to the gateway."""
        batch = self.desk.take_batch()
        if batch:
            self.send({"op": "batch", "hints": batch.hints, "counts": batch.counts,
                       "lines": batch.lines})

    async def run(self) -> None:
        """Handle the gateway's messages until the control socket closes."""
        sender = asyncio.create_task(self._send_batches())
        try:
            while line := await self.reader.readline():
                try:
                    self._handle(json.loads(line))
                except (ValueError, KeyError, TypeError) as err:
                    log.error("bad control message from the gateway: %s", err)
        finally:
            sender.cancel()
            for future in self._asked.values():
                if not future.done():
                    future.set_exception(LookupFailedError("the gateway is gone"))

    def _handle(self, message: dict[str, Any]) -> None:
        op = message["op"]
        if op == "register":
            self.desk.register(message["channels"])
        elif op == "remove":
            self.desk.remove(message["ids"])
        elif op == "ready":
            self.desk.ready = bool(message["ready"])
        elif op == "found":
            channel_id = self._by_number.pop(int(message["n"]), None)
            future = self._asked.pop(channel_id, None) if channel_id is not None else None
            if future is None or future.done():
                return
            if message.get("error"):
                future.set_exception(LookupFailedError(str(message["error"])))
            elif message.get("channel") is None:
                future.set_result(None)
            else:
                _, found = Registration.from_wire(
                    message["channel"], until=asyncio.get_running_loop().time()
                    + float(message.get("ttl", 60.0)))
                future.set_result(found)
        elif op == "flush":
            self.send_batch()
            self.send({"op": "flushed", "n": message["n"]})
        else:
            log.error("unknown control message %r from the gateway", op)

    async def _send_batches(self) -> None:
        while True:
            await asyncio.sleep(WINDOW_SECONDS)
            self.send_batch()
            await self.writer.drain()


class ReceiverProtocol(HeaderTimeoutProtocol):
    """``serve``'s HTTP protocol, counting the requests it refuses before the app sees
    them (unparsable, or a head over the limit: ``bad_request``)."""

    desk: PushDesk | None = None
    """The process's desk (one per process), set when serving starts."""

    def send_400_response(self, msg: str) -> None:
        """Count, then answer 400 and close, as uvicorn does."""
        if self.desk is not None:
            self.desk.count("bad_request")
        super().send_400_response(msg)


class ReceiverApp:
    """The ASGI callable: ``POST /webhooks/google`` answered by the desk; 404/405 else."""

    def __init__(self, desk: PushDesk) -> None:
        self.desk = desk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one request (lifespan is off: HTTP scopes only)."""
        if scope["type"] != "http":
            return
        extra: list[tuple[bytes, bytes]] = []
        if scope["path"] != WEBHOOK_PATH:
            status, body = 404, b"not found"
        elif scope["method"] != "POST":
            status, body, extra = 405, b"method not allowed", [(b"allow", b"POST")]
        else:
            headers: dict[str, str] = {}
            for name, value in scope["headers"]:
                if name in _GOOGLE_HEADERS and name not in headers:
                    headers[name.decode("latin-1")] = value.decode("latin-1")
            try:
                status, body, extra = await self.desk.answer(headers)
            except Exception:  # a bug here must answer, not kill the connection
                log.exception("push receiver error")
                self.desk.count("internal_error")
                status, body = 500, b"internal error"
        await send({"type": "http.response.start", "status": status,
                    "headers": [*_TEXT, *extra] if body else extra})
        await send({"type": "http.response.body", "body": body})


def die_with_parent(parent: int) -> None:
    """Ask the kernel for SIGKILL when the gateway exits (and exit if it already did)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        sys.exit(0)


async def serve(listen: socket.socket, control: socket.socket, args: argparse.Namespace
                ) -> None:
    """Serve ``listen`` until the control socket closes."""
    reader, writer = await asyncio.open_connection(sock=control, limit=STREAM_LIMIT)
    link = GatewayLink(reader, writer)
    ReceiverProtocol.desk = link.desk
    config = uvicorn.Config(ReceiverApp(link.desk), lifespan="off", log_config=None,
                            access_log=False, http=ReceiverProtocol,
                            timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
                            limit_concurrency=MAX_CONNECTIONS,
                            ssl_certfile=args.tls_certificate or None,
                            ssl_keyfile=args.tls_private_key or None)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listen]))
    links = asyncio.create_task(link.run())
    await asyncio.wait([serving, links], return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    links.cancel()
    await asyncio.gather(serving, links, return_exceptions=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the receiver process (started by the gateway only)."""
    parser = argparse.ArgumentParser(prog="hybrid_calendar_google.push_process")
    parser.add_argument("--listen-fd", type=int, required=True)
    parser.add_argument("--control-fd", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--tls-certificate", default="")
    parser.add_argument("--tls-private-key", default="")
    args = parser.parse_args(argv)
    die_with_parent(args.parent)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s [push receiver] "
                               "%(message)s")
    # uvicorn warns once per unparsable request: counted (bad_request) instead of logged
    logging.getLogger("uvicorn").setLevel(logging.DEBUG if args.log_level.upper() == "DEBUG"
                                          else logging.ERROR)
    listen = socket.socket(fileno=args.listen_fd)
    control = socket.socket(fileno=args.control_fd)
    asyncio.run(serve(listen, control, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
