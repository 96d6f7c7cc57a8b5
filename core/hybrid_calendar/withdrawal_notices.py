"""The notice that withdraws a delivered Join button, made where the button's row is read.

A sync that finds a meeting no longer holding its delivered Join button (cancelled or
deleted, moved, declined by the user, without join information) withdraws it in the same
store write as its meetings (:attr:`~hybrid_calendar.store.base.SyncWrite.withdraw`): the
store reads the delivered button's row inside that write's transaction and makes this
notice from it, so the withdrawal is queued exactly when the change is stored, never one
without the other. The engine and every store make it with these two functions.
"""

from __future__ import annotations

from datetime import datetime

from hybrid_calendar.models import Meeting, NotificationKind, ScheduledNotification, User

PREFIX = "withdrawn|"
"""How a withdrawal notice's key starts: ``withdrawn|<button's key>|<its delivery time>``."""


def withdrawal_reason(user: User, meeting: Meeting | None, *, moved_away: bool = False
                      ) -> str:
    """Why ``user``'s delivered Join button of ``meeting`` (``None``: deleted, gone from
    the calendar, or ``moved_away``: moved out of the kept window) no longer holds:
    ``cancelled``, ``declined``, ``no_join`` or ``moved`` (its start, the button's key,
    changed; or it became all-day)."""
    if meeting is None:
        return "moved" if moved_away else "cancelled"
    if meeting.status == "cancelled":
        return "cancelled"
    if meeting.declined_by(user.email):
        return "declined"
    if meeting.join is None:
        return "no_join"
    return "moved"


def withdrawal_notice(user: User, button: ScheduledNotification, meeting: Meeting | None,
                      at: datetime, *, moved_away: bool = False) -> ScheduledNotification:
    """The :attr:`~NotificationKind.JOIN_BUTTON_WITHDRAWN` notice of the delivered
    ``button`` (its meeting now ``meeting``, ``None`` when deleted or ``moved_away``), due
    ``at``: keyed by the button's key and delivery time, so the same delivered button is
    never withdrawn twice, and carrying its event, key, start, end and the reason."""
    sent = (button.sent_at or button.due_at).timestamp()
    payload = {"event_id": button.event_id, "button": button.key,
               "start": button.start.isoformat() if button.start else None,
               "end": button.end.isoformat() if button.end else None,
               "reason": withdrawal_reason(user, meeting, moved_away=moved_away)}
    return ScheduledNotification(
        key=f"{PREFIX}{button.key}|{sent:.6f}", user_id=user.id, event_id=button.event_id,
        due_at=at, start=button.start, end=button.end, payload=payload,
        kind=NotificationKind.JOIN_BUTTON_WITHDRAWN)


def withdrawn_button(notice_key: str) -> str | None:
    """The key of the Join button a withdrawal notice's key names (``None``: not such a
    key). A store drops a withdrawal still pending when that button is scheduled again
    (its meeting holds again): what the sinks show is right as it is."""
    if not notice_key.startswith(PREFIX) or "|" not in notice_key[len(PREFIX):]:
        return None
    return notice_key[len(PREFIX):notice_key.rindex("|")]
