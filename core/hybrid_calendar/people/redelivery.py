"""A Join button offered again after its withdrawal is a new message for people's clients.

The core keys a Join button by its meeting's start, so when a withdrawn button holds again
(the meeting accepted again, moved back) the core offers the same key anew. The stream's
outbox and the webhook deliveries each record a key once, so that a repeated call sends
nothing twice; that would swallow the button coming back. So the key a Join button is
recorded under names the latest withdrawal of that button the same records hold:
``join_button:<key>`` before any, ``join_button:<key>|again|<that withdrawal's time>``
after one. Every repeat of one offer gets the same record key, and each withdrawal makes
the next offer a new one (a new stream event, a new ``webhook-id``).

A withdrawal is recorded as ``join_button_withdrawn:withdrawn|<key>|<time>`` (the core's
notice key, :mod:`hybrid_calendar.withdrawal_notices`); the times have the same number of
digits for centuries, so the greatest such record key is the latest withdrawal.
"""

from __future__ import annotations

from hybrid_calendar.withdrawal_notices import PREFIX

JOIN_BUTTON = "join_button"
WITHDRAWN = "join_button_withdrawn"


def withdrawals_between(button_key: str) -> tuple[str, str]:
    """The range of record keys (``>=`` first, ``<`` second) of the withdrawals of the
    Join button ``button_key``."""
    first = f"{WITHDRAWN}:{PREFIX}{button_key}|"
    return first, first[:-1] + chr(ord("|") + 1)


def record_key(name: str, notification_key: str, latest_withdrawal: str | None) -> str:
    """The key a notification is recorded under: ``<name>:<key>``, and for a Join button
    withdrawn before (``latest_withdrawal``: the greatest record key in
    :func:`withdrawals_between`, or ``None``), that key offered again after it."""
    base = f"{name}:{notification_key}"
    if latest_withdrawal is None:
        return base
    return f"{base}|again|{latest_withdrawal.rsplit('|', 1)[1]}"
