"""The push receiver process: answers ``POST /webhooks/google`` in an interpreter of its own.

Started by the gateway (:mod:`.push_supervisor`) when ``google.push_listen`` is set, as
``python -m hybrid_calendar_google.push_process``. It inherits two file descriptors: the
listening socket (bound by the gateway, so the port stays open across a restart of this
process) and one end of a UNIX socket pair to the gateway, the *control socket*. Over it,
one JSON object per line:

* gateway → receiver: ``register`` (channels: id, user, resource id, token digest,
  expiry), ``remove`` (channel ids), ``found`` (the answer to a look-up), ``ready``
  (whether the engine takes sync requests), ``flush`` (send what is pending now);
* receiver → gateway: ``serving`` (once it listens), ``batch`` (users to sync, outcome
  counts, refusal log lines; at most one per :data:`WINDOW_SECONDS`), ``lookup`` (a
  channel it does not hold), ``flushed``.

HTTP is served by :mod:`.push_http` (httptools' parser, ``serve``'s limits, no
framework); the answers are :class:`~.push_desk.PushDesk`'s.

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
import ssl
import sys
from typing import Any

from hybrid_calendar_google.push_desk import (
    LookupFailedError,
    PushDesk,
    Registration,
)
from hybrid_calendar_google.push_http import Connections, PushHttpProtocol

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
BACKLOG = 2048


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
    connections = Connections()
    server = await asyncio.get_running_loop().create_server(
        lambda: PushHttpProtocol(link.desk, connections), sock=listen,
        ssl=_tls(args.tls_certificate, args.tls_private_key), backlog=BACKLOG)
    link.send({"op": "serving"})
    sweeper = asyncio.create_task(connections.sweep())
    try:
        await link.run()  # until the gateway closes the control socket
    finally:
        sweeper.cancel()
        server.close()
        connections.close_all()
        await server.wait_closed()


def _tls(certificate: str, private_key: str) -> ssl.SSLContext | None:
    if not certificate:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, private_key)
    return context


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
    listen = socket.socket(fileno=args.listen_fd)
    control = socket.socket(fileno=args.control_fd)
    asyncio.run(serve(listen, control, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
