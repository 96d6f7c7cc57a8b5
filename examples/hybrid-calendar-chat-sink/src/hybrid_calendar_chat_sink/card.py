"""The Google Chat message of a Join button: a card with the meeting and a Join button.

Built from the ``join_button`` notification's payload (``title``, ``start``, ``end`` and
``join``, a :class:`~hybrid_calendar.models.JoinInfo` as JSON) in the Chat API's
``cardsV2`` format; ``text`` is what Chat shows in notifications and where cards are not
rendered.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any


def join_message(payload: Mapping[str, Any], button_text: str) -> dict[str, Any]:
    """The message body posted to the incoming webhook."""
    join: Mapping[str, Any] = payload.get("join") or {}
    title = str(payload.get("title") or "Meeting")
    widgets: list[dict[str, Any]] = [
        {"decoratedText": {"topLabel": "Starts", "text": _when(payload.get("start"))}}]
    if join.get("dial"):
        widgets.append({"decoratedText": {"topLabel": "Video address",
                                          "text": str(join["dial"])}})
    if join.get("url"):
        widgets.append({"buttonList": {"buttons": [
            {"text": button_text, "onClick": {"openLink": {"url": str(join["url"])}}}]}})
    provider = str(join.get("provider") or "").capitalize()
    return {
        "text": f"{title} is starting" + (f": {join['url']}" if join.get("url") else ""),
        "cardsV2": [{"cardId": "join-button", "card": {
            "header": {"title": title, "subtitle": provider or "Meeting"},
            "sections": [{"widgets": widgets}]}}],
    }


def _when(value: Any) -> str:
    """``2026-11-27 09:00 UTC`` from the payload's ISO 8601 time (as given otherwise)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return moment.strftime("%Y-%m-%d %H:%M ") + (moment.tzname() or "")
