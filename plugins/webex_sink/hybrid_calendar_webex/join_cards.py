"""The Join card: a 1:1 bot message with an Adaptive Card whose "Join" opens the meeting.

Webex has no public API to push the Webex App's own Join button (Cisco's Hybrid Calendar
uses private services), so the gateway's bot sends, at start minus the lead time, a 1:1
message (``POST /messages`` with ``toPersonEmail``) holding an Adaptive Card with an
``Action.OpenUrl`` "Join" (the join link; for a SIP-only meeting, a ``sip:`` link). It is
labelled for what it is: a message with a Join card, not the App's Join button.

Exactly once per idempotency key: the card carries the key's digest as the ``id`` of its
first element, and the bot's 1:1 space with the person is read
(``GET /messages/direct?personEmail=``) before sending; a key already there answers
"delivered" without a second message. Whenever the core withdraws a delivered Join button
(the meeting cancelled, moved or declined by the person, whoever made it), that button's
card is deleted (:func:`withdraw_card`), and the core schedules the card of a new time.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hybrid_calendar_webex.errors import WebexNotFoundError

if TYPE_CHECKING:
    from hybrid_calendar.models import Notification
    from hybrid_calendar_webex.client import WebexClient

CARD_TYPE = "application/vnd.microsoft.card.adaptive"


def key_tag(key: str) -> str:
    """The element id marking a card as the one for idempotency key ``key``."""
    return "hc-key-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def event_tag(event_id: str) -> str:
    """The element id marking a card as one for event ``event_id``."""
    return "hc-event-" + hashlib.sha256(event_id.encode()).hexdigest()[:32]


def join_target(join: dict[str, Any]) -> str | None:
    """What "Join" opens: the join link, else the SIP address as a ``sip:`` URI."""
    if join.get("url"):
        return str(join["url"])
    dial = str(join.get("dial") or "")
    if dial:
        return dial if dial.startswith("sip:") else f"sip:{dial}"
    return None


def card_message(notification: Notification, email: str) -> dict[str, Any] | None:
    """The ``POST /messages`` body for a Join-button notification (``None`` if nothing
    can be joined)."""
    payload = notification.payload
    join = payload.get("join") or {}
    target = join_target(join)
    if target is None:
        return None
    title = str(payload.get("title") or "Meeting")[:200]
    start = datetime.fromisoformat(str(payload["start"]))
    if start.tzinfo is not None:  # the calendar's offset: the card says UTC
        start = start.astimezone(UTC)
    when = start.strftime("%H:%M UTC")
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "id": key_tag(notification.key), "text": title,
         "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "TextBlock", "id": event_tag(str(payload.get("event_id") or "")),
         "text": f"Starts at {when}", "isSubtle": True, "wrap": True},
    ]
    if join.get("meeting_id"):
        body.append({"type": "TextBlock", "text": f"Meeting number: {join['meeting_id']}",
                     "wrap": True})
    card = {"type": "AdaptiveCard", "version": "1.3", "body": body,
            "actions": [{"type": "Action.OpenUrl", "title": "Join", "url": target}]}
    return {"toPersonEmail": email, "markdown": f"**{title}** starts at {when}: Join",
            "attachments": [{"contentType": CARD_TYPE, "content": card}]}


def _card_ids(message: dict[str, Any]) -> set[str]:
    ids: set[str] = set()
    for attachment in message.get("attachments") or []:
        for element in (attachment.get("content") or {}).get("body") or []:
            if isinstance(element, dict) and element.get("id"):
                ids.add(str(element["id"]))
    return ids


async def sent_cards(client: WebexClient, email: str, bearer: str) -> list[dict[str, Any]]:
    """The bot's recent messages in its 1:1 space with ``email`` (newest first)."""
    try:
        answer = await client.call("GET", "/messages/direct",
                                   params={"personEmail": email, "max": 50}, bearer=bearer)
    except WebexNotFoundError:
        return []  # no 1:1 space yet
    return list((answer or {}).get("items") or [])


async def send_card(client: WebexClient, notification: Notification, email: str,
                    bearer: str) -> bool:
    """Send the card unless the key's card is already there; ``False`` when the
    notification has nothing to join."""
    message = card_message(notification, email)
    if message is None:
        return False
    tag = key_tag(notification.key)
    if any(tag in _card_ids(m) for m in await sent_cards(client, email, bearer)):
        return True  # delivered earlier (a repeat after a crash or a retry)
    await client.call("POST", "/messages", json=message, bearer=bearer)
    return True


async def withdraw_card(client: WebexClient, email: str, key: str, bearer: str) -> int:
    """Delete the card sent to ``email`` for the Join button ``key`` (a withdrawn one:
    the core's ``join_button_withdrawn``), leaving the event's other cards; returns how
    many were deleted (none when it is gone already)."""
    return await _delete_tagged(client, email, key_tag(key), bearer)


async def _delete_tagged(client: WebexClient, email: str, tag: str, bearer: str) -> int:
    deleted = 0
    for message in await sent_cards(client, email, bearer):
        if tag in _card_ids(message):
            try:
                await client.call("DELETE", f"/messages/{message['id']}", bearer=bearer)
            except WebexNotFoundError:
                continue  # deleted meanwhile
            deleted += 1
    return deleted
