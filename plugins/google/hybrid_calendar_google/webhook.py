"""The push-notification receiver: ``POST /webhooks/google``.

Google POSTs an empty body with ``X-Goog-*`` headers for every change of a watched
calendar. Notifications are hints: this route verifies them and only asks for a sync of
the user; it never calls Google, never waits on the store, and answers at once. The
checks and their statuses are :mod:`.push_checks`' (shared with the receiver process);
an accepted user goes into the in-memory :mod:`.push_inbox`, which queues one sync job
per user in batches.

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

from hybrid_calendar_google.channel_cache import channel_cache
from hybrid_calendar_google.push_checks import Answer, check_channel_id, judge, unknown
from hybrid_calendar_google.push_guard import PushGuard
from hybrid_calendar_google.push_inbox import inbox
from hybrid_calendar_google.push_refusals import outcomes

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

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
        checked = check_channel_id(headers, now, seen)
        if not isinstance(checked, str):
            return _response(checked)
        channel = await channel_cache(gateway).get(gateway, checked)
        if channel is None or channel.provider != "google":
            return _response(unknown(now, seen))
        guard = gateway.state.get_or_create(GUARD_KEY, PushGuard, PushGuard)
        answer, accepted = judge(checked, channel.user_id, channel.resource_id, channel.token,
                                 headers, now, ready=gateway.engine is not None, guard=guard,
                                 outcomes=seen)
        if accepted:
            inbox(gateway).add(channel.user_id)
        return _response(answer)

    return Route(path, receive, methods=["POST"], name="google_webhook")


def _response(answer: Answer) -> Response:
    status, body, extra = answer
    return Response(body, status_code=status, media_type=TEXT if body else None,
                    headers={name.decode(): value.decode() for name, value in extra})
