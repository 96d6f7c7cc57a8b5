"""The push-notification receiver: ``POST /webhooks/google``.

Google POSTs an empty body with ``X-Goog-*`` headers for every change of a watched
calendar. Notifications are hints: this route verifies them and only asks for a sync of
the user; it never calls Google, never waits on the store, and answers at once.

* missing ``X-Goog-Channel-ID`` → 400; unknown channel (or not a Google channel, or an id
  longer than Google's 64 characters, rejected without a look-up) → 404;
* token (``X-Goog-Channel-Token``) absent or wrong → 403, compared in constant time
  against the stored digest; a resource id (``X-Goog-Resource-ID``, which Google always
  sends) absent or different from the channel's → 403;
  all of these before any database write or Google call;
* ``X-Goog-Resource-State: sync`` (the channel's first message) → 200, nothing to do;
* engine not running → 503 (Google retries 5xx with backoff);
* ``exists`` (or any other state) with a message number already seen on the channel → 200,
  ignored (a replay); past the channel's rate → 503 with ``Retry-After`` (:mod:`.push_guard`);
* otherwise the user goes into the in-memory :mod:`.push_inbox`, which queues one sync
  job per user in batches → 200.

Channels are looked up in memory (:mod:`.channel_cache`; the store only on a miss).
Every outcome is counted and refusals are logged at most once per channel per minute
(:mod:`.push_refusals`).

With ``google.push_listen`` set, a process of its own answers the same checks on that
port (:mod:`.push_process`, :mod:`.push_desk`), so the answer never waits for this
process's event loop; this route keeps answering on the main port.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hybrid_calendar.store.base import channel_token_matches
from hybrid_calendar_google.channel_cache import channel_cache
from hybrid_calendar_google.push_guard import PushGuard, Verdict
from hybrid_calendar_google.push_inbox import inbox
from hybrid_calendar_google.push_refusals import UNKNOWN, outcomes

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

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
        seen = outcomes(gateway)
        now = gateway.clock.now().timestamp()
        channel_id = headers.get("x-goog-channel-id")
        if not channel_id:
            seen.refuse(UNKNOWN, "missing_channel_id", 400, now)
            return Response("missing X-Goog-Channel-ID", status_code=400, media_type=TEXT)
        channel = None
        if len(channel_id) <= MAX_CHANNEL_ID:  # Google's limit: no longer one can exist
            channel = await channel_cache(gateway).get(gateway, channel_id)
        if channel is None or channel.provider != "google":
            seen.refuse(UNKNOWN, "unknown_channel", 404, now)
            return Response("unknown channel", status_code=404, media_type=TEXT)
        key = f"the channel of user {channel.user_id}"
        if not channel_token_matches(channel, headers.get("x-goog-channel-token")):
            seen.refuse(key, "wrong_token", 403, now)
            return Response("forbidden", status_code=403, media_type=TEXT)
        resource_id = headers.get("x-goog-resource-id")
        if channel.resource_id and resource_id != channel.resource_id:
            seen.refuse(key, "wrong_resource", 403, now)
            return Response("forbidden", status_code=403, media_type=TEXT)
        state = headers.get("x-goog-resource-state", "")
        if state == "sync":
            seen.count("sync")
            return Response(status_code=200)
        if gateway.engine is None:
            seen.count("not_ready")
            return Response("not ready", status_code=503, media_type=TEXT)
        guard = gateway.state.get_or_create(GUARD_KEY, PushGuard, PushGuard)
        verdict = guard.admit(channel_id, headers.get("x-goog-message-number"), now)
        if verdict is Verdict.REPLAY:
            seen.refuse(key, "replayed", 200, now)
            return Response(status_code=200)
        if verdict is Verdict.LIMITED:
            seen.refuse(key, "rate_limited", 503, now)
            return Response("too many notifications on this channel", status_code=503,
                            media_type=TEXT,
                            headers={"Retry-After": str(guard.retry_after(channel_id))})
        inbox(gateway).add(channel.user_id)
        seen.count("accepted")
        return Response(status_code=200)

    return Route(path, receive, methods=["POST"], name="google_webhook")
