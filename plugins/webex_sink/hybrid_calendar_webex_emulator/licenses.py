"""Licenses: ``/v1/licenses`` (developer.webex.com/docs/api/v1/licenses).

The organisation has a meetings licence on its site (every person holds it) and a
``Webex Calling - Professional`` licence (Calling-licensed people hold it; wxc-sdk's
``License.webex_calling`` recognises it by that name). Consumed units are counted from the
people who hold each licence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hybrid_calendar_webex_emulator.dispatch import Call, Route, route
from hybrid_calendar_webex_emulator.errors import not_found
from hybrid_calendar_webex_emulator.paging import page

if TYPE_CHECKING:
    from hybrid_calendar_webex_emulator.state import WebexState

READ = ("spark-admin:licenses_read",)
MEETINGS_LICENSE = "Meeting - Webex Enterprise Edition"
CALLING_LICENSE = "Webex Calling - Professional"
TOTAL_UNITS = 1000


def licenses(state: WebexState) -> list[dict[str, Any]]:
    """The organisation's licences with their consumption."""
    def consumed(license_id: str) -> int:
        return sum(1 for p in state.people.values() if license_id in p["licenses"])

    meetings = {"id": state.meeting_license_id, "name": MEETINGS_LICENSE,
                "totalUnits": TOTAL_UNITS, "consumedUnits": consumed(state.meeting_license_id),
                "consumedByUsers": consumed(state.meeting_license_id),
                "consumedByWorkspaces": 0, "siteUrl": state.settings.site,
                "siteType": "Control Hub managed site"}
    calling = {"id": state.calling_license_id, "name": CALLING_LICENSE,
               "totalUnits": TOTAL_UNITS, "consumedUnits": consumed(state.calling_license_id),
               "consumedByUsers": consumed(state.calling_license_id),
               "consumedByWorkspaces": 0}
    return [meetings, calling]


def list_licenses(call: Call) -> Any:
    """``GET /licenses``."""
    return page(call, licenses(call.state), 100, 100)


def get_license(call: Call) -> dict[str, Any]:
    """``GET /licenses/{licenseId}``."""
    found = next((lic for lic in licenses(call.state)
                  if lic["id"] == call.path_params["licenseId"]), None)
    if found is None:
        raise not_found()
    return found


ROUTES: list[Route] = [
    route("GET", "/v1/licenses", READ, list_licenses),
    route("GET", "/v1/licenses/{licenseId}", READ, get_license),
]
