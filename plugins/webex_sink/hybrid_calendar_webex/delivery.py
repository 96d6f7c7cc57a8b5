"""``deliver_notification`` for the Webex sink: Join cards (sent, and deleted when the core
withdraws their Join button) and out-of-office presence.

=============================  ==============================================================
outcome                        receipt
=============================  ==============================================================
sent (or sent before, same     ``delivered()``
key)
person has no Webex account,   ``None``: this sink does not serve the notification
no Calling (presence), no bot
429/423, 5xx, network          ``retry_later(reason, Retry-After)``: the core's outbox retries
401/403 (scope, revoked), 400  ``failed(reason)``: a dead letter with the reason
=============================  ==============================================================

One attempt per call (the core's outbox is the only layer that retries). Reasons name the
Webex route and status, never an address or the meeting's text.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from hybrid_calendar.errors import ProviderError
from hybrid_calendar.models import DeliveryReceipt, NotificationKind
from hybrid_calendar_webex import join_cards, presence
from hybrid_calendar_webex.context import context
from hybrid_calendar_webex.errors import WebexError, WebexNotFoundError
from hybrid_calendar_webex.people import person_id

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import Notification

log = logging.getLogger(__name__)

KINDS = (NotificationKind.JOIN_BUTTON, NotificationKind.JOIN_BUTTON_WITHDRAWN,
         NotificationKind.PRESENCE)
"""What this sink delivers (a withdrawn Join button deletes its card). Meetings-list
changes are not: Webex has no public API for the App's meetings list (the gateway serves
its own list)."""


async def deliver(gateway: Gateway, notification: Notification) -> DeliveryReceipt | None:
    """One delivery attempt of a Join card or a presence change (see the module table)."""
    if notification.kind not in KINDS:
        return None
    ctx = context(gateway)
    if not ctx.configured:
        return None
    user = notification.user
    client = ctx.client(gateway, user.org_id)
    try:
        person = await person_id(gateway, ctx, client, user)
        if person is None:
            return None  # no Webex account
        if notification.kind is NotificationKind.JOIN_BUTTON:
            if not ctx.settings["join_cards"] or not ctx.bot_token:
                return None
            sent = await join_cards.send_card(client, notification, user.email,
                                              ctx.bot_token)
            return DeliveryReceipt.delivered() if sent else None
        if notification.kind is NotificationKind.JOIN_BUTTON_WITHDRAWN:
            if not ctx.bot_token:
                return None
            await join_cards.withdraw_card(client, user.email,
                                           str(notification.payload.get("button") or ""),
                                           ctx.bot_token)
            return DeliveryReceipt.delivered()  # deleted, or there was none to delete
        if not ctx.settings["presence"]:
            return None
        try:
            await presence.set_personal_assistant(client, person, notification.payload)
        except WebexNotFoundError:
            return None  # not a Webex Calling user
        return DeliveryReceipt.delivered()
    except ProviderError as err:  # RateLimitError, TransientError
        return DeliveryReceipt.retry_later(str(err), err.retry_after)
    except WebexError as err:
        log.warning("Webex refused %s notification for user %s: %s", notification.kind,
                    user.id, err)
        return DeliveryReceipt.failed(str(err))
