"""``create_meeting`` for the Webex keyword actions: Personal Room, one-time, space.

Transient failures (429/423 with ``Retry-After``, 5xx, network) propagate as the core's
:class:`~hybrid_calendar.errors.RateLimitError` / :class:`~hybrid_calendar.errors.TransientError`:
the engine retries the sync with the cursor unchanged, so the keyword is never lost. A
refusal (no Webex account, a start in the past, a duration outside 10 minutes to 24
hours, a missing scope) becomes a localized note for the invite (:mod:`.refusals`) and the
reason is shown in the user's health (``reason`` in the admin API, the user stays
active); the next successful meeting clears it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from hybrid_calendar.models import JoinInfo, UserState
from hybrid_calendar_webex import onetime, reconcile, spaces
from hybrid_calendar_webex.context import context
from hybrid_calendar_webex.errors import (
    WebexAuthError,
    WebexError,
    WebexNotFoundError,
    WebexScopeError,
)
from hybrid_calendar_webex.meeting_body import MAX_DURATION, MIN_DURATION
from hybrid_calendar_webex.personal_room import personal_room
from hybrid_calendar_webex.refusals import HEALTH, Refusal, refusal_join

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import CalendarEvent, KeywordRequest, User

log = logging.getLogger(__name__)

ACTIONS = ("personal_room", "onetime", "space")
"""Keyword actions this plugin answers (``google_meet`` is the Google plugin's)."""

HEALTH_PREFIX = "Webex: "


async def create_meeting(gateway: Gateway, user: User, event: CalendarEvent,
                         request: KeywordRequest) -> JoinInfo:
    """Make (or find) the meeting for ``request.action``; a refusal's note otherwise."""
    ctx = context(gateway)
    refusal = _precheck(gateway, event, request.action) if ctx.configured \
        else Refusal.NOT_CONFIGURED
    join: JoinInfo | None = None
    detail = ""
    if refusal is None:
        client = ctx.client(gateway, user.org_id)
        try:
            if request.action == "personal_room":
                join = await personal_room(client, user)
            elif request.action == "space":
                join = await spaces.find_or_create_space(gateway, client, user, event,
                                                         ctx.bot_token or None)
            else:
                meeting = await onetime.find_or_create(client, user, event,
                                                       str(ctx.settings["site_url"]))
                await reconcile.remember(gateway, user, event.id, meeting)
                join = onetime.join_of_meeting(meeting)
        except WebexError as err:
            refusal, detail = _classify(err), str(err)
    if refusal is not None:
        reason = HEALTH[refusal] + (f" ({detail})" if detail else "")
        log.warning("Webex %s meeting for event %s of user %s refused: %s", request.action,
                    event.id, user.id, reason)
        await _set_health(gateway, user, HEALTH_PREFIX + reason)
        locale = user.locale or await gateway.hooks.read_locale(gateway, user)
        return refusal_join(refusal, locale)
    assert join is not None
    if user.reason and user.reason.startswith(HEALTH_PREFIX):
        await _set_health(gateway, user, None)
    return join


def _precheck(gateway: Gateway, event: CalendarEvent, action: str) -> Refusal | None:
    """What Webex would refuse, found without asking it (a one-time meeting only)."""
    if action != "onetime" or event.start is None or event.end is None:
        return None
    if event.start < gateway.clock.now().replace(second=0, microsecond=0):
        return Refusal.PAST
    if not MIN_DURATION <= event.end - event.start <= MAX_DURATION:
        return Refusal.DURATION
    return None


def _classify(err: WebexError) -> Refusal:
    if isinstance(err, WebexNotFoundError):
        return Refusal.NO_ACCOUNT
    if isinstance(err, WebexScopeError | WebexAuthError):
        return Refusal.SCOPE
    text = str(err).lower()
    if "before current" in text or "in the past" in text:
        return Refusal.PAST
    if "duration" in text or "24 hours" in text or "minutes" in text:
        return Refusal.DURATION
    return Refusal.OTHER


async def _set_health(gateway: Gateway, user: User, reason: str | None) -> None:
    current = await gateway.store.get_user(user.id)
    if current is not None and current.state is UserState.ACTIVE and current.reason != reason:
        await gateway.store.set_user_state(user.id, UserState.ACTIVE, reason)
