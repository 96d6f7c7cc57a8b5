"""Webex Calling personal assistant:
``/v1/telephony/config/people/{personId}/features/personalAssistant``.

developer.webex.com/docs/api/v1/user-call-settings (Get/Update Personal Assistant), fields
as wxc-sdk's ``PersonalAssistant``: ``enabled``, ``presence`` (NONE, BUSINESS_TRIP,
GONE_FOR_THE_DAY, LUNCH, MEETING, OUT_OF_OFFICE, TEMPORARILY_OUT, TRAINING, UNAVAILABLE,
VACATION), ``untilDateTime``, ``transferEnabled``, ``transferNumber``, ``alerting``
(ALERT_ME_FIRST, PLAY_RING_REMINDER, NONE), ``alertMeFirstNumberOfRings``. PUT answers 204.
Only Calling-licensed people have one; anyone else answers 404.
"""

from __future__ import annotations

from typing import Any

from hybrid_calendar_webex_emulator.dispatch import Call, Route, route
from hybrid_calendar_webex_emulator.errors import bad_request, not_found
from hybrid_calendar_webex_emulator.timeutil import parse

READ = ("spark-admin:telephony_config_read",)
WRITE = ("spark-admin:telephony_config_write",)
PRESENCES = frozenset({"NONE", "BUSINESS_TRIP", "GONE_FOR_THE_DAY", "LUNCH", "MEETING",
                       "OUT_OF_OFFICE", "TEMPORARILY_OUT", "TRAINING", "UNAVAILABLE",
                       "VACATION"})
ALERTING = frozenset({"ALERT_ME_FIRST", "PLAY_RING_REMINDER", "NONE"})
DEFAULT = {"enabled": False, "presence": "NONE", "transferEnabled": False,
           "alerting": "ALERT_ME_FIRST", "alertMeFirstNumberOfRings": 2}


def _settings(call: Call) -> dict[str, Any]:
    person = call.state.people.get(call.path_params["personId"])
    if person is None or not person.get("_calling"):
        raise not_found("The person is not a Webex Calling user.")
    return call.state.personal_assistant.setdefault(person["id"], dict(DEFAULT))


def get(call: Call) -> dict[str, Any]:
    """``GET .../personalAssistant``."""
    return dict(_settings(call))


def update(call: Call) -> None:
    """``PUT .../personalAssistant``: only the fields given change; 204."""
    current = _settings(call)
    body = call.json_body()
    if "presence" in body and body["presence"] not in PRESENCES:
        raise bad_request(f"Invalid presence: {body['presence']}.")
    if "alerting" in body and body["alerting"] not in ALERTING:
        raise bad_request(f"Invalid alerting: {body['alerting']}.")
    if body.get("untilDateTime") is not None:
        parse(body["untilDateTime"], "untilDateTime")
    rings = body.get("alertMeFirstNumberOfRings")
    if rings is not None and (not isinstance(rings, int) or not 2 <= rings <= 20):
        raise bad_request("alertMeFirstNumberOfRings must be 2..20.")
    known = {"enabled", "presence", "untilDateTime", "transferEnabled", "transferNumber",
             "alerting", "alertMeFirstNumberOfRings"}
    current.update({k: v for k, v in body.items() if k in known})


ROUTES: list[Route] = [
    route("GET", "/v1/telephony/config/people/{personId}/features/personalAssistant", READ,
          get),
    route("PUT", "/v1/telephony/config/people/{personId}/features/personalAssistant", WRITE,
          update),
]
