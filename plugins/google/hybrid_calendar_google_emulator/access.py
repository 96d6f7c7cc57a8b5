"""Which calendar a call addresses and what the caller may do with it (ACL roles)."""

from __future__ import annotations

from hybrid_calendar_google_emulator.api_errors import forbidden, not_found
from hybrid_calendar_google_emulator.calendars import Calendar
from hybrid_calendar_google_emulator.state import EmulatorState

ROLES = ("none", "freeBusyReader", "reader", "writerWithoutPrivateAccess", "writer", "owner")


def rank(role: str) -> int:
    """Position of ``role`` in the role order (unknown roles rank as ``none``)."""
    return ROLES.index(role) if role in ROLES else 0


def access_role(calendar: Calendar, user: str) -> str:
    """The caller's effective role on ``calendar`` from its ACL."""
    if calendar.owner == user:
        return "owner"
    domain = user.rsplit("@", 1)[-1]
    best = "none"
    for rule in calendar.acl.values():
        scope = rule.get("scope", {})
        kind, value = scope.get("type"), str(scope.get("value", "")).lower()
        applies = (kind == "user" and value == user) or (kind == "domain" and value == domain) \
            or kind == "default"
        if applies and rank(rule.get("role", "none")) > rank(best):
            best = rule["role"]
    return best


def resolve(state: EmulatorState, calendar_id: str, user: str, need: str = "reader"
            ) -> tuple[Calendar, str]:
    """The calendar for ``calendar_id`` (``primary`` = the caller's) and the caller's role.

    :raises ApiError: 404 when unknown or invisible, 403 when the role is too low.
    """
    cal_id = user if calendar_id == "primary" else calendar_id.lower()
    calendar = state.calendars.get(cal_id)
    if calendar is None:
        raise not_found()
    role = access_role(calendar, user)
    if rank(role) < rank("freeBusyReader"):
        raise not_found()
    if rank(role) < rank(need):
        if need in ("writer", "owner"):
            raise forbidden("You need to have writer access to this calendar.",
                            "requiredAccessLevel")
        raise not_found()
    return calendar, role
