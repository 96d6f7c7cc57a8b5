"""Gmail ``users.settings.getVacation`` / ``updateVacation``."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from hybrid_calendar_google_emulator.api_errors import ApiError, bad_request

if TYPE_CHECKING:
    from hybrid_calendar_google_emulator.dispatch import Call, Handler
    from hybrid_calendar_google_emulator.users import User

VACATION_FIELDS = ("enableAutoReply", "responseSubject", "responseBodyPlainText",
                   "responseBodyHtml", "restrictToContacts", "restrictToDomain",
                   "startTime", "endTime")


def normalise_vacation(body: dict[str, Any]) -> dict[str, Any]:
    """VacationSettings as Gmail returns them: known fields, int64 times as strings.

    :raises ApiError: 400 for a non-numeric time or end before start.
    """
    result: dict[str, Any] = {"enableAutoReply": bool(body.get("enableAutoReply", False))}
    for key in VACATION_FIELDS[1:]:
        if key not in body or body[key] is None:
            continue
        value = body[key]
        if key in ("startTime", "endTime"):
            try:
                value = str(int(value))
            except (TypeError, ValueError) as err:
                raise bad_request(f"Invalid value at 'vacation_settings.{key}'",
                                  location=key) from err
        elif key.startswith("restrict"):
            value = bool(value)
        else:
            value = str(value)
        result[key] = value
    if "startTime" in result and "endTime" in result \
            and int(result["endTime"]) < int(result["startTime"]):
        raise bad_request("Invalid time range: end time is before start time.")
    return result


def no_mailbox() -> ApiError:
    """400 ``failedPrecondition`` for a user without a Gmail mailbox."""
    return ApiError(400, "failedPrecondition", "Mail service not enabled",
                    status="FAILED_PRECONDITION")


def _mailbox_user(call: Call) -> User:
    user_id = call.path_params["userId"]
    if user_id not in ("me", call.user):
        raise ApiError(403, "forbidden", "Delegation denied for the requested mailbox.")
    user = call.state.user(call.user)
    if not user.has_mailbox:
        raise no_mailbox()
    return user


def get_vacation(call: Call) -> dict[str, Any]:
    """users.settings.getVacation."""
    return copy.deepcopy(_mailbox_user(call).vacation)


def update_vacation(call: Call) -> dict[str, Any]:
    """users.settings.updateVacation (PUT: the body replaces the settings)."""
    user = _mailbox_user(call)
    user.vacation = normalise_vacation(call.json_body())
    return copy.deepcopy(user.vacation)


HANDLERS: dict[str, Handler] = {
    "gmail.users.settings.getVacation": get_vacation,
    "gmail.users.settings.updateVacation": update_vacation,
}
