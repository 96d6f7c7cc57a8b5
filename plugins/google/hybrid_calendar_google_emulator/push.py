"""Push notifications: watch channels and their delivery to webhook addresses.

Google's behaviour (push guide): a new channel gets a ``sync`` message (number 1), every
later change of the watched collection an ``exists`` message with a larger, not
consecutive ``X-Goog-Message-Number``; the POST has an empty body; Google retries with
exponential backoff only when the receiver answers 500, 502, 503 or 504; delivery stops on
``channels.stop`` or expiry. Each channel is served by one worker thread (channels are
sharded over a few threads), so a channel's messages arrive in order.
"""

from __future__ import annotations

import email.utils
import logging
import queue
import random
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({500, 502, 503, 504})


@dataclass
class Channel:
    """One notification channel on a calendar's events collection."""

    id: str
    calendar_id: str
    user: str
    address: str
    token: str | None
    expiration_ms: int
    resource_id: str
    resource_uri: str
    message_number: int = 1
    stopped: bool = False

    def expired(self) -> bool:
        """Whether the channel's expiration has passed."""
        return time.time() * 1000 >= self.expiration_ms

    def resource(self) -> dict[str, Any]:
        """The ``Channel`` response of events.watch (``type``/``address`` not echoed)."""
        result: dict[str, Any] = {"kind": "api#channel", "id": self.id,
                                  "resourceId": self.resource_id,
                                  "resourceUri": self.resource_uri,
                                  "expiration": str(self.expiration_ms)}
        if self.token is not None:
            result["token"] = self.token
        return result


@dataclass
class Delivery:
    """The outcome of one notification (for tests and the control endpoint)."""

    channel_id: str
    state: str
    number: int
    status: int | None
    attempts: int
    dropped: bool = False


@dataclass
class PushOptions:
    """Fault knobs read at delivery time."""

    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    timeout: float = 5.0
    retries: int = 4
    backoff: float = 0.05


class PushDispatcher:
    """Worker threads POSTing notifications; ``deliveries`` records every attempt's result."""

    def __init__(self, options: PushOptions, workers: int = 4) -> None:
        self.options = options
        self.deliveries: list[Delivery] = []
        self._queues: list[queue.Queue[tuple[Channel, str, int] | None]] = [
            queue.Queue() for _ in range(workers)]
        self._threads: list[threading.Thread] = []
        self._started = False
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._pending = 0
        self._idle = threading.Condition(self._lock)

    def _start(self) -> None:
        self._client = httpx.Client(timeout=self.options.timeout, follow_redirects=False)
        for index, q in enumerate(self._queues):
            thread = threading.Thread(target=self._run, args=(q,), daemon=True,
                                      name=f"emulator-push-{index}")
            thread.start()
            self._threads.append(thread)
        self._started = True

    def send(self, channel: Channel, state: str) -> None:
        """Queue a ``sync``/``exists`` message for ``channel`` (numbering happens here)."""
        with self._lock:
            if not self._started:
                self._start()
            if state == "sync":
                number = 1
            else:
                channel.message_number += random.randint(1, 7)
                number = channel.message_number
            self._pending += 1
        shard = zlib.crc32(channel.id.encode()) % len(self._queues)
        self._queues[shard].put((channel, state, number))

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until every queued message was handled (tests use this)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self) -> None:
        """Stop the workers (pending messages are abandoned)."""
        for q in self._queues:
            q.put(None)
        for thread in self._threads:
            thread.join(timeout=2)
        if self._client is not None:
            self._client.close()

    def _run(self, q: queue.Queue[tuple[Channel, str, int] | None]) -> None:
        while True:
            item = q.get()
            if item is None:
                return
            channel, state, number = item
            try:
                self._deliver(channel, state, number)
                if state != "sync" and random.random() < self.options.duplicate_rate:
                    self._deliver(channel, state, number)
            except Exception:  # a delivery bug must not kill the worker
                log.exception("push delivery failed")
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _deliver(self, channel: Channel, state: str, number: int) -> None:
        if channel.stopped or channel.expired():
            return
        if random.random() < self.options.drop_rate:
            self.deliveries.append(Delivery(channel.id, state, number, None, 0, dropped=True))
            return
        headers = {
            "Content-Type": "application/json; utf-8",
            "User-Agent": "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
            "X-Goog-Channel-ID": channel.id,
            "X-Goog-Channel-Expiration": email.utils.formatdate(
                channel.expiration_ms / 1000, usegmt=True),
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-URI": channel.resource_uri,
            "X-Goog-Resource-State": state,
            "X-Goog-Message-Number": str(number),
        }
        if channel.token is not None:
            headers["X-Goog-Channel-Token"] = channel.token
        delay = self.options.backoff
        attempts = 0
        status: int | None = None
        assert self._client is not None
        while True:
            attempts += 1
            try:
                response = self._client.post(channel.address, headers=headers, content=b"")
                status = response.status_code
            except httpx.HTTPError:
                status = None
            if status is not None and status not in RETRY_STATUSES:
                break
            if status is None or attempts > self.options.retries or channel.stopped:
                break
            time.sleep(delay)
            delay *= 2
        self.deliveries.append(Delivery(channel.id, state, number, status, attempts))


@dataclass
class ChannelRegistry:
    """Channels by id and by watched calendar."""

    by_id: dict[str, Channel] = field(default_factory=dict)

    def add(self, channel: Channel) -> None:
        """Register a channel (ids are unique per project)."""
        self.by_id[channel.id] = channel

    def for_calendar(self, calendar_id: str) -> list[Channel]:
        """Live channels watching ``calendar_id`` (expired ones are dropped)."""
        live = []
        for channel in list(self.by_id.values()):
            if channel.expired() or channel.stopped:
                self.by_id.pop(channel.id, None)
            elif channel.calendar_id == calendar_id:
                live.append(channel)
        return live

    def stop(self, channel_id: str, resource_id: str) -> bool:
        """Stop a channel; ``False`` when no such (id, resourceId) exists."""
        channel = self.by_id.get(channel_id)
        if channel is None or channel.resource_id != resource_id:
            return False
        channel.stopped = True
        del self.by_id[channel_id]
        return True
