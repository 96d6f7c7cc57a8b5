"""The gateway's side of the push receiver process (``google.push_listen``).

With ``google.push_listen`` set, the gateway binds that address at start-up and runs
:mod:`.push_process` on it: a process of its own, so a push notification is answered
without the gateway's interpreter lock or event loop, which the syncs keep busy. This
module starts it, restarts it when it dies (after :data:`RESTART_DELAYS`; the listening
socket stays open in the gateway meanwhile, so connections wait in its backlog instead
of being refused) and reports it in ``/readyz`` (``services``:
``google:push_receiver``, unhealthy while it is down).

Over the control socket (:mod:`.push_process` describes the messages) it sends the
receiver every channel it knows (the store's at start, then each ``events.watch`` and
``channels.stop`` of this process), answers the receiver's look-ups of channels it does
not hold (through :mod:`.channel_cache`), tells it whether the engine runs, and takes
its batches: hints go into :mod:`.push_inbox` (which queues one sync per user), counts
into ``hybrid_calendar_google_push_total`` and refusal lines into this gateway's log
(logger ``hybrid_calendar_google.push_refusals``, as the in-process route writes them).
``engine.until_idle`` flushes the receiver first, so "idle" covers its hints too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import sys
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Gauge

from hybrid_calendar.admin.metrics import metrics
from hybrid_calendar.errors import ConfigError
from hybrid_calendar.store.base import hash_channel_token
from hybrid_calendar.threaded_server import bind
from hybrid_calendar_google import push_refusals
from hybrid_calendar_google.channel_cache import TTL_SECONDS, channel_cache
from hybrid_calendar_google.push_desk import Registration
from hybrid_calendar_google.push_inbox import inbox
from hybrid_calendar_google.push_process import STREAM_LIMIT, encode

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import Channel

log = logging.getLogger(__name__)

STATE_KEY = "google.push_receiver"
METRICS_KEY = "google.push_receiver_metrics"
SERVICE = "google:push_receiver"
"""The receiver's name in ``/readyz`` ``services``."""
RESTART_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
"""Seconds before the n-th restart in a row (the last one repeats)."""
STABLE_SECONDS = 60.0
"""A receiver that ran this long before dying restarts after the first delay again."""
FLUSH_TIMEOUT = 5.0
STOP_TIMEOUT = 5.0
CHUNK = 1_000
"""Channels per ``register`` message."""
READY_POLL_SECONDS = 0.1


class ReceiverMetrics:
    """``hybrid_calendar_google_push_receiver_up`` (1 while it serves) and
    ``hybrid_calendar_google_push_receiver_restarts_total`` on the gateway's ``/metrics``."""

    def __init__(self, gateway: Gateway) -> None:
        registry = metrics(gateway).registry
        self.up = Gauge("hybrid_calendar_google_push_receiver_up",
                        "1 while the push receiver process serves, else 0",
                        registry=registry)
        self.restarts = Counter("hybrid_calendar_google_push_receiver_restarts",
                                "Push receiver processes that died and were restarted",
                                registry=registry)


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:port`` for IPv6) of ``google.push_listen``.

    :raises ConfigError: not ``host:port`` with a port in 0–65535.
    """
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError("google.push_listen", f"{value!r} is not host:port")
    return host, int(port)


def channel_row(channel: Channel, token_hash: str) -> list[Any]:
    """A channel as the receiver registers it."""
    return Registration(channel.user_id, channel.resource_id, token_hash,
                        channel.expires_at.timestamp()).to_wire(channel.id)


class PushReceiver:
    """The running receiver process of one gateway, restarted when it dies."""

    def __init__(self, gateway: Gateway, listen: socket.socket) -> None:
        self.gateway = gateway
        self.listen = listen
        host, port = listen.getsockname()[:2]
        self.base_url = f"http://{host}:{port}"
        """Where the receiver answers (plain ``http``; TLS when the gateway has it)."""
        self.restart_delays: tuple[float, ...] = RESTART_DELAYS
        self.metrics = gateway.state.get_or_create(METRICS_KEY, ReceiverMetrics,
                                                   lambda: ReceiverMetrics(gateway))
        self.process: asyncio.subprocess.Process | None = None
        self.up = False
        self.restarts = 0
        self.reason: str | None = "starting"
        self.started = asyncio.Event()
        """Set while a receiver process serves (it said so, after taking the channels
        sent before); cleared when it dies."""
        self.exited = asyncio.Event()
        """Set when a receiver process died (cleared when the next one is up)."""
        self._registered: dict[str, list[Any]] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._flushes: dict[int, asyncio.Future[None]] = {}
        self._numbers = 0
        self._ready: bool | None = None
        self._drained_by: object | None = None
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._lookups: set[asyncio.Task[None]] = set()

    # --- what the gateway tells it --------------------------------------------------
    def register(self, channel: Channel, token: str) -> None:
        """A channel this process opened (``token`` in clear, as Google echoes it)."""
        row = channel_row(channel, hash_channel_token(token))
        self._registered[channel.id] = row
        self._send({"op": "register", "channels": [row]})

    def remove(self, channel_id: str) -> None:
        """A channel this process stopped."""
        self._registered.pop(channel_id, None)
        self._send({"op": "remove", "ids": [channel_id]})

    async def flush(self) -> None:
        """Have the receiver hand over what it holds, then queue the hints."""
        if self.up and self._writer is not None:
            self._numbers += 1
            number = self._numbers  # another flush may start while this one waits
            done = asyncio.get_running_loop().create_future()
            self._flushes[number] = done
            self._send({"op": "flush", "n": number})
            try:
                await asyncio.wait_for(done, FLUSH_TIMEOUT)
            except TimeoutError:
                log.warning("the push receiver did not flush within %.0f s", FLUSH_TIMEOUT)
            finally:
                self._flushes.pop(number, None)
        await inbox(self.gateway).drain()

    def health(self) -> tuple[bool, str | None]:
        """``(up, reason)`` for ``/readyz``."""
        return self.up, None if self.up else self.reason

    # --- life cycle -----------------------------------------------------------------
    async def start(self) -> None:
        """Read the store's channels and start the first receiver process."""
        for channel in await self.gateway.store.list_channels():
            if channel.provider == "google":  # the stored token is the digest already
                self._registered.setdefault(channel.id, channel_row(channel, channel.token))
        self._tasks = [asyncio.create_task(self._supervise(), name="google-push-receiver"),
                       asyncio.create_task(self._watch_engine(),
                                           name="google-push-receiver-ready")]

    async def close(self) -> None:
        """Stop the receiver process (its pending hints are dropped) and the listener."""
        self._stopping = True
        if self._writer is not None:
            self._writer.close()  # end-of-file: the receiver exits
        process = self.process
        if process is not None and process.returncode is None:
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                process.kill()
                await process.wait()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.listen.close()

    async def _supervise(self) -> None:
        failures = 0
        while not self._stopping:
            loop = asyncio.get_running_loop()
            began = loop.time()
            try:
                status = await self._run_once()
            except OSError as err:  # could not start it at all
                status = f"could not start ({err})"
            if self._stopping:
                return
            failures = 1 if loop.time() - began >= STABLE_SECONDS else failures + 1
            delay = self.restart_delays[min(failures, len(self.restart_delays)) - 1]
            self.restarts += 1
            self.metrics.restarts.inc()
            self.reason = (f"the push receiver process {status}; restart {self.restarts} "
                           f"in {delay:g} s (notifications wait in the listen backlog)")
            log.error("%s", self.reason)
            self.exited.set()
            await asyncio.sleep(delay)

    async def _run_once(self) -> str:
        parent_end, child_end = socket.socketpair()
        with parent_end, child_end:
            fds = (self.listen.fileno(), child_end.fileno())
            self.process = await asyncio.create_subprocess_exec(
                *self._command(*fds), pass_fds=fds, stdin=asyncio.subprocess.DEVNULL,
                start_new_session=True)
            child_end.close()
            reader, writer = await asyncio.open_connection(sock=parent_end,
                                                           limit=STREAM_LIMIT)
            self._writer = writer
            self._ready = None
            rows = list(self._registered.values())
            for start in range(0, len(rows), CHUNK):
                self._send({"op": "register", "channels": rows[start:start + CHUNK]})
            self._send_ready()
            try:  # up once it says it serves (after the channels above: same socket)
                await self._read(reader)
                code = await self.process.wait()
            finally:
                self.up = False
                self.metrics.up.set(0)
                self.started.clear()
                self._writer = None
                writer.close()
                for future in self._flushes.values():
                    if not future.done():
                        future.set_result(None)
        return f"exited with {_describe(code)}"

    def _command(self, listen_fd: int, control_fd: int) -> list[str]:
        config = self.gateway.config
        return [sys.executable, "-m", "hybrid_calendar_google.push_process",
                "--listen-fd", str(listen_fd), "--control-fd", str(control_fd),
                "--parent", str(os.getpid()),
                "--log-level", str(config.get("gateway", "log_level")),
                "--tls-certificate", str(config.get("gateway", "tls_certificate")),
                "--tls-private-key", str(config.get("gateway", "tls_private_key"))]

    async def _watch_engine(self) -> None:
        while True:
            engine = self.gateway.engine
            if engine is not None and self._drained_by is not engine:
                engine.add_drain(self.flush)
                self._drained_by = engine
            self._send_ready()
            await asyncio.sleep(READY_POLL_SECONDS)

    def _send_ready(self) -> None:
        ready = self.gateway.engine is not None
        if ready is not self._ready and self._writer is not None:
            self._ready = ready
            self._send({"op": "ready", "ready": ready})

    def _send(self, message: dict[str, Any]) -> None:
        writer = self._writer
        if writer is not None and not writer.is_closing():
            writer.write(encode(message))

    # --- what the receiver tells the gateway ----------------------------------------
    async def _read(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                line = await reader.readline()
            except (ConnectionError, ValueError) as err:  # reset, or a line over the limit
                log.debug("control socket closed: %s", err)
                return
            if not line:
                return
            try:
                message = json.loads(line)
                self._handle(message)
            except (ValueError, KeyError, TypeError) as err:
                log.error("bad message from the push receiver: %s", err)

    def _handle(self, message: dict[str, Any]) -> None:
        op = message["op"]
        if op == "serving":
            self.up, self.reason = True, None
            self.metrics.up.set(1)
            self.exited.clear()
            self.started.set()
        elif op == "batch":
            hints = inbox(self.gateway)
            for user_id in message["hints"]:
                hints.add(str(user_id))
            outcomes = push_refusals.outcomes(self.gateway)
            for outcome, amount in message["counts"].items():
                outcomes.count(str(outcome), int(amount))
            for line in message["lines"]:
                push_refusals.log.warning("%s", line)
        elif op == "lookup":
            task = asyncio.create_task(self._lookup(int(message["n"]), str(message["id"])))
            task.add_done_callback(self._lookups.discard)
            self._lookups.add(task)
        elif op == "flushed":
            future = self._flushes.get(int(message["n"]))
            if future is not None and not future.done():
                future.set_result(None)

    async def _lookup(self, number: int, channel_id: str) -> None:
        try:
            channel = await channel_cache(self.gateway).get(self.gateway, channel_id)
        except Exception as err:  # the receiver answers 503; Google retries
            self._send({"op": "found", "n": number, "error": type(err).__name__})
            return
        row = channel_row(channel, channel.token) \
            if channel is not None and channel.provider == "google" else None
        self._send({"op": "found", "n": number, "channel": row, "ttl": TTL_SECONDS})


def _describe(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"status {code}"


async def start_receiver(gateway: Gateway) -> PushReceiver | None:
    """Start the receiver when ``google.push_listen`` is set (the plugin's ``startup``).

    :raises ConfigError: the address cannot be listened on (one line; ``serve`` exits 2).
    """
    listen = str(gateway.config.get("google", "push_listen") or "")
    if not listen:
        return None
    host, port = parse_listen(listen)
    try:
        sock = bind(host, port)
    except OSError as err:
        raise ConfigError("google.push_listen", f"cannot listen on {listen}: "
                                                f"{err.strerror or err}") from None
    receiver = PushReceiver(gateway, sock)
    gateway.state.get_or_create(STATE_KEY, PushReceiver, lambda: receiver)
    await receiver.start()
    return receiver


def receiver_of(gateway: Gateway) -> PushReceiver | None:
    """The gateway's running receiver, if it has one."""
    return gateway.state.get(STATE_KEY, PushReceiver)


async def stop_receiver(gateway: Gateway) -> None:
    """Stop the receiver (the plugin's ``shutdown``)."""
    receiver = gateway.state.pop(STATE_KEY, PushReceiver)
    if receiver is not None:
        await receiver.close()
