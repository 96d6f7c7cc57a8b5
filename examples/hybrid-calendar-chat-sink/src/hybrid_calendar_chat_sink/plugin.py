"""The hook implementations of the ``chat_sink`` plugin (its entry point).

What each hook does, in the order the gateway calls them:

=========================  ===============================================================
hook                       here
=========================  ===============================================================
``register_settings``      declares ``[chat_sink] webhooks`` (secret) and ``button_text``
``check_config``           ``config check`` and ``serve`` reject a broken webhook map
``register_delivery_kinds`` this sink delivers Join buttons, nothing else
``deliver_notification``   posts the card; answers with a receipt (table below)
=========================  ===============================================================

How Chat's answers become receipts (the core retries, keeps dead letters and never
reports a notification delivered that was not):

========================================  =================================================
answer                                    receipt
========================================  =================================================
another kind, or no webhook for the user  ``None`` (synchronously): not this sink's
200                                       ``delivered()``; a repeated ``requestId`` gets
                                          the message already created, so a repeat is
                                          delivered once
429, 5xx, network error                   ``retry_later(reason, Retry-After)``
401, 403, 404                             ``failed``: the webhook was deleted or revoked
other 4xx                                 ``failed`` with the status
========================================  =================================================
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from typing import Any

import httpx

from hybrid_calendar import hookimpl
from hybrid_calendar.config import Config, Secret, SettingSpec
from hybrid_calendar.errors import ConfigError
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.models import DeliveryReceipt, Notification, NotificationKind
from hybrid_calendar_chat_sink.card import join_message
from hybrid_calendar_chat_sink.webhooks import SECTION, WebhookMap

PLUGIN = "chat_sink"
"""The plugin's name: its entry point's name, and its key in ``gateway.state``."""


@hookimpl
def register_settings(register: Callable[[SettingSpec], None]) -> None:
    """Declare ``chat_sink.webhooks`` and ``chat_sink.button_text``."""
    register(SettingSpec(SECTION, "webhooks", Secret, "",
                         help='JSON object {"person@example.com": "<incoming webhook URL of '
                              'their Google Chat space>"}; usually "$file:/path/to.json".'))
    register(SettingSpec(SECTION, "button_text", str, "Join",
                         help="Label of the button that opens the meeting."))


@hookimpl
def check_config(config: Config, problem: Callable[[str, str], None]) -> None:
    """Report a webhook map that does not parse, or an entry that is not a webhook URL."""
    try:
        WebhookMap.from_config(config)
    except ConfigError as err:
        problem(err.key, str(err).removeprefix(f"{err.key}: "))


@hookimpl
def register_delivery_kinds(register: Callable[[NotificationKind], None]) -> None:
    """Join buttons only."""
    register(NotificationKind.JOIN_BUTTON)


@hookimpl
def deliver_notification(gateway: Gateway, notification: Notification
                         ) -> Coroutine[Any, Any, DeliveryReceipt] | None:
    """Post a Join button to the person's Chat space; ``None`` (synchronously) for other
    kinds and for people without a webhook."""
    if notification.kind is not NotificationKind.JOIN_BUTTON:
        return None
    webhooks = gateway.state.get_or_create(PLUGIN, WebhookMap,
                                           lambda: WebhookMap.from_config(gateway.config))
    url = webhooks.for_person(notification.user.email)
    if url is None:
        return None
    return _post(gateway, url, notification)


def request_id(key: str) -> str:
    """Chat's ``requestId`` for a notification key: the same key, the same message.

    Hashed, so the key's parts (user id, event id) do not travel to Chat.
    """
    return "hc-" + hashlib.sha256(key.encode()).hexdigest()[:40]


async def _post(gateway: Gateway, url: str, notification: Notification) -> DeliveryReceipt:
    """One attempt (the core is the only layer that retries)."""
    target = httpx.URL(url).copy_add_param("requestId", request_id(notification.key))
    message = join_message(notification.payload,
                           gateway.config.get(SECTION, "button_text"))
    try:
        response = await gateway.http_client().post(target, json=message)
    except httpx.TransportError as err:
        return DeliveryReceipt.retry_later(f"Google Chat unreachable: {type(err).__name__}")
    status = response.status_code
    if status == 200:
        return DeliveryReceipt.delivered()
    if status == 429 or status >= 500:
        return DeliveryReceipt.retry_later(f"Google Chat answered HTTP {status}",
                                           _retry_after(response))
    if status in (401, 403, 404):
        return DeliveryReceipt.failed(
            f"Google Chat refused the webhook (HTTP {status}): the space's webhook was "
            "deleted or its token revoked; update chat_sink.webhooks")
    return DeliveryReceipt.failed(f"Google Chat refused the message: HTTP {status}")


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds, when Chat sent it as a number."""
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None
