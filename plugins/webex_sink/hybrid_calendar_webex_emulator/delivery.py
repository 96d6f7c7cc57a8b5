"""Webhook delivery: POSTs to each webhook's ``targetUrl`` from a worker thread.

Body: the webhook's fields plus ``actorId`` and ``data`` (ids, no content), as Webex
documents (developer.webex.com/docs/api/guides/webhooks). With a ``secret``, the
``X-Spark-Signature`` header is the hex HMAC-SHA1 of the raw body keyed with it. A delivery
fails when the target does not answer 2xx; after ``webhook_failure_limit`` consecutive
failures the webhook turns ``inactive`` and receives nothing more until it is set
``active`` again. Every attempt is recorded in :attr:`WebhookDelivery.deliveries`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger(__name__)


@dataclass
class Delivery:
    """The outcome of one delivery (for tests and the control route)."""

    webhook_id: str
    resource: str
    event: str
    status: int | None
    """The target's status (``None``: no answer, or dropped)."""
    body: dict[str, Any]
    dropped: bool = False

    def to_json(self) -> dict[str, Any]:
        """For ``GET /_emulator/webhook-deliveries``."""
        return {"webhookId": self.webhook_id, "resource": self.resource, "event": self.event,
                "status": self.status, "dropped": self.dropped, "body": self.body}


def signature(secret: str, body: bytes) -> str:
    """``X-Spark-Signature``: hex HMAC-SHA1 of ``body`` keyed with ``secret``."""
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


Outcome = Callable[[str, bool], None]
"""Called with (webhook id, succeeded) after each attempt, to count failures."""


class WebhookDelivery:
    """One worker thread delivering queued webhook bodies in order."""

    def __init__(self, timeout: float, outcome: Outcome) -> None:
        self.timeout = timeout
        self.outcome = outcome
        self.deliveries: list[Delivery] = []
        self._queue: queue.Queue[tuple[str, str, dict[str, Any], str | None] | None] = (
            queue.Queue())
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition()
        self._pending = 0

    def send(self, url: str, secret: str | None, body: dict[str, Any], dropped: bool) -> None:
        """Queue ``body`` for ``url`` (``dropped``: record it as lost instead)."""
        if dropped:
            with self._idle:
                self.deliveries.append(Delivery(body["id"], body["resource"], body["event"],
                                                None, body, dropped=True))
            return
        with self._idle:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="webex-emulator-webhooks")
                self._thread.start()
            self._pending += 1
        self._queue.put((body["id"], url, body, secret))

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until every queued delivery was attempted (tests use this)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self) -> None:
        """Stop the worker (pending deliveries are abandoned)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=2)

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout, follow_redirects=False) as client:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                webhook_id, url, body, secret = item
                try:
                    self._deliver(client, webhook_id, url, body, secret)
                except Exception:  # a delivery bug must not kill the worker
                    log.exception("webhook delivery failed")
                finally:
                    with self._idle:
                        self._pending -= 1
                        self._idle.notify_all()

    def _deliver(self, client: httpx.Client, webhook_id: str, url: str, body: dict[str, Any],
                 secret: str | None) -> None:
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "Webex-Webhooks/1.0"}
        if secret:
            headers["X-Spark-Signature"] = signature(secret, raw)
        status: int | None
        try:
            status = client.post(url, content=raw, headers=headers).status_code
        except httpx.HTTPError:
            status = None
        ok = status is not None and 200 <= status < 300
        with self._idle:
            self.deliveries.append(Delivery(webhook_id, body["resource"], body["event"],
                                            status, body))
        self.outcome(webhook_id, ok)
