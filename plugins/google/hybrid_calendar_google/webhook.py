"""The push-notification receiver: ``POST /webhooks/google``.

Google POSTs an empty body with ``X-Goog-*`` headers for every change of a watched
calendar. Notifications are hints: this route verifies them and only asks the engine to
sync the user (one pending job per user); it never calls Google and answers at once.

* missing ``X-Goog-Channel-ID`` → 400; unknown channel (or not a Google channel, or an id
  longer than Google's 64 characters, rejected without a look-up) → 404;
* token (``X-Goog-Channel-Token``) absent or wrong → 403, compared in constant time
  against the stored digest; a resource id (``X-Goog-Resource-ID``, which Google always
  sends) absent or different from the channel's → 403;
  all of these before any database write or Google call;
* ``X-Goog-Resource-State: sync`` (the channel's first message) → 200, nothing to do;
* ``exists`` (or any other state) with a message number already seen on the channel → 200,
  ignored (a replay); past the channel's rate → 503 with ``Retry-After`` (:mod:`.push_guard`);
* otherwise ``engine.request_sync(user_id, "push")`` → 200;
* engine not running → 503 (Google retries 5xx with backoff).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hybrid_calendar.store.base import channel_token_matches
from hybrid_calendar_google.push_guard import PushGuard, Verdict

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)

MAX_CHANNEL_ID = 64
TEXT = "text/plain"
"""Media type of the receiver's error bodies."""
GUARD_KEY = "google.push_guard"
"""Where the gateway's :class:`PushGuard` lives in ``gateway.state``."""

WEBHOOK_PATH = "/webhooks/google"
"""This plugin's push route; ``watch_calendar`` points ``events.watch`` channels at
``<gateway.public_url>/webhooks/google``."""


def webhook_route(gateway: Gateway, path: str = WEBHOOK_PATH) -> Route:
    """Build the Starlette route receiving Google push notifications for ``gateway``."""

    async def receive(request: Request) -> Response:
        headers = request.headers
        channel_id = headers.get("x-goog-channel-id")
        if not channel_id:
            return Response("missing X-Goog-Channel-ID", status_code=400, media_type=TEXT)
        if len(channel_id) > MAX_CHANNEL_ID:  # Google's limit: no such channel can exist
            return Response("unknown channel", status_code=404, media_type=TEXT)
        channel = await gateway.store.get_channel(channel_id)
        if channel is None or channel.provider != "google":
            return Response("unknown channel", status_code=404, media_type=TEXT)
        if not channel_token_matches(channel, headers.get("x-goog-channel-token")):
            log.warning("push notification with a wrong channel token rejected")
            return Response("forbidden", status_code=403, media_type=TEXT)
        resource_id = headers.get("x-goog-resource-id")
        if channel.resource_id and resource_id != channel.resource_id:
            return Response("forbidden", status_code=403, media_type=TEXT)
        state = headers.get("x-goog-resource-state", "")
        if state == "sync":
            return Response(status_code=200)
        engine = gateway.engine
        if engine is None:
            return Response("not ready", status_code=503, media_type=TEXT)
        guard = gateway.state.get_or_create(GUARD_KEY, PushGuard, PushGuard)
        verdict = guard.admit(channel_id, headers.get("x-goog-message-number"),
                              gateway.clock.now().timestamp())
        if verdict is Verdict.REPLAY:
            log.info("push notification replayed on a channel of user %s: ignored",
                     channel.user_id)
            return Response(status_code=200)
        if verdict is Verdict.LIMITED:
            return Response("too many notifications on this channel", status_code=503,
                            media_type=TEXT,
                            headers={"Retry-After": str(guard.retry_after(channel_id))})
        await engine.request_sync(channel.user_id, "push")
        return Response(status_code=200)

    return Route(path, receive, methods=["POST"], name="google_webhook")
