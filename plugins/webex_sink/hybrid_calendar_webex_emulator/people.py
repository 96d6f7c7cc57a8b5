"""People: ``/v1/people`` (developer.webex.com/docs/api/v1/people) and their Personal Rooms.

``status`` is read-only as in Webex (``active``, ``call``, ``DoNotDisturb``, ``inactive``,
``meeting``, ``OutOfOffice``, ``pending``, ``presenting``, ``unknown``); only the
emulator-only control route sets it. Lists by ``id`` and ``excludeStatus=true`` omit it, as
documented. Without ``spark-admin:people_read`` a list needs ``email``, ``displayName`` or
``id`` (Webex: "Admin users can omit these fields").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hybrid_calendar_webex_emulator.dispatch import Call, Route, route
from hybrid_calendar_webex_emulator.errors import bad_request, not_found
from hybrid_calendar_webex_emulator.paging import page
from hybrid_calendar_webex_emulator.timeutil import iso

if TYPE_CHECKING:
    from hybrid_calendar_webex_emulator.state import WebexState

STATUSES = frozenset({"active", "call", "DoNotDisturb", "inactive", "meeting", "OutOfOffice",
                      "pending", "presenting", "unknown"})
READ_SCOPES = ("spark:people_read", "spark-admin:people_read")
CALL_IN_NUMBERS = [{"label": "US Toll", "callInNumber": "+1-415-527-5035", "tollType": "toll"}]
DIAL_IN_IP = "210.4.202.4"


def names(email: str) -> tuple[str, str]:
    """First and last name made from an email's local part (``ana.diaz`` -> Ana, Diaz)."""
    parts = [p for p in email.split("@")[0].replace("_", ".").split(".") if p]
    first = parts[0].capitalize() if parts else email
    return first, " ".join(p.capitalize() for p in parts[1:])


def new_person(state: WebexState, email: str, *, kind: str = "person",
               display_name: str | None = None, roles: list[str] | None = None,
               calling: bool = False) -> dict[str, Any]:
    """A person record (internal keys start with ``_``) with a Personal Room."""
    first, last = names(email)
    now = iso(state.clock.now())
    display = display_name or " ".join(x for x in (first, last) if x)
    person: dict[str, Any] = {
        "id": state.ids.webex_id("PEOPLE"), "emails": [email], "phoneNumbers": [],
        "displayName": display, "nickName": first, "firstName": first, "lastName": last,
        "orgId": state.org_id, "roles": roles or [], "licenses": [], "created": now,
        "lastModified": now, "timezone": "UTC", "lastActivity": now, "status": "active",
        "type": kind, "_calling": calling,
    }
    if kind == "person":
        person["licenses"] = [state.meeting_license_id]
    if calling:
        person["licenses"].append(state.calling_license_id)
        person["_extension"] = state.ids.digits(4, "1")
    if kind == "person":
        local = email.split("@")[0]
        person["sipAddresses"] = [{"type": "personal-room", "primary": False,
                                   "value": f"{local}@{state.settings.site}"}]
        person["_pmr"] = {
            "topic": f"{display}'s Personal Room", "hostPin": state.ids.digits(4),
            "personalMeetingRoomLink": f"https://{state.settings.site}/meet/{local}",
            "enabledAutoLock": False, "autoLockMinutes": 10, "enabledNotifyHost": True,
            "supportCoHost": False, "supportAnyoneAsCoHost": False,
            "allowFirstUserToBeCoHost": False, "allowAuthenticatedDevices": False,
            "coHosts": [], "sipAddress": f"{local}@{state.settings.site}",
            "dialInIpAddress": DIAL_IN_IP,
            "telephony": {"accessCode": state.ids.digits(10, "2"),
                          "callInNumbers": CALL_IN_NUMBERS,
                          "links": [{"rel": "globalCallinNumbers", "method": "GET",
                                     "href": f"/v1/meetings/{state.ids.hex32()}"
                                             "/globalCallinNumbers"}]},
        }
    return person


def public(person: dict[str, Any], *, status: bool = True,
           calling_data: str | None = None) -> dict[str, Any]:
    """The person as the API shows them (``calling_data``: the location id to show with
    ``callingData=true`` for a Calling user)."""
    shown = {k: v for k, v in person.items() if not k.startswith("_")}
    if calling_data is not None and person.get("_calling"):
        shown.update({"extension": person["_extension"], "locationId": calling_data})
    if not status:
        shown.pop("status", None)
        shown.pop("lastActivity", None)
    return shown


def me(call: Call) -> dict[str, Any]:
    """``GET /people/me``."""
    person = call.state.people.get(call.grant.person_id)
    if person is None:
        raise not_found()
    return public(person)


def get(call: Call) -> dict[str, Any]:
    """``GET /people/{personId}``."""
    person = call.state.people.get(call.path_params["personId"])
    if person is None:
        raise not_found()
    return public(person, status=call.bool_param("excludeStatus") is not True,
                  calling_data=_calling_data(call))


def _calling_data(call: Call) -> str | None:
    """The location id to show when an administrator asks for ``callingData=true``."""
    wanted = call.bool_param("callingData") and call.has_scope("spark-admin:people_read")
    return call.state.location_id if wanted else None


def list_people(call: Call) -> Any:
    """``GET /people`` with ``email``, ``displayName``, ``id``, ``excludeStatus``, ``max``."""
    email = call.param("email")
    display = call.param("displayName")
    ids = call.param("id")
    if not (email or display or ids) and not call.has_scope("spark-admin:people_read"):
        raise bad_request("Email, displayName, or id list should be specified.")
    wanted = [i for i in (ids or "").split(",") if i] if ids else None
    if wanted is not None and len(wanted) > 85:
        raise bad_request("id list is limited to 85 ids.")
    show_status = call.bool_param("excludeStatus") is not True and wanted is None
    items = []
    for person in call.state.people.values():
        if person["type"] in ("appuser", "bot") and email is None:
            continue
        if email and email.lower() not in person["emails"]:
            continue
        if display and not person["displayName"].lower().startswith(display.lower()):
            continue
        if wanted is not None and person["id"] not in wanted:
            continue
        items.append(public(person, status=show_status, calling_data=_calling_data(call)))
    extra = None
    if wanted is not None:
        found = {p["id"] for p in items}
        extra = {"notFoundIds": [i for i in wanted if i not in found]}
    return page(call, items, 100, 100 if call.bool_param("callingData") else 1000, extra)


ROUTES: list[Route] = [
    route("GET", "/v1/people/me", READ_SCOPES, me),
    route("GET", "/v1/people", READ_SCOPES, list_people),
    route("GET", "/v1/people/{personId}", READ_SCOPES, get),
]
