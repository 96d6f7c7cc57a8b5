"""Spaces: ``/v1/rooms`` (with ``/meetingInfo``) and ``/v1/memberships``.

developer.webex.com/docs/api/v1/rooms and /memberships. A person sees a space, its
memberships and its messages only as a member; a 1:1 (``direct``) space is made by the
first message to ``toPersonEmail``/``toPersonId`` (see :mod:`.messages`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hybrid_calendar_webex_emulator.dispatch import Call, Route, route
from hybrid_calendar_webex_emulator.errors import ApiError, bad_request, not_found
from hybrid_calendar_webex_emulator.paging import page
from hybrid_calendar_webex_emulator.people import CALL_IN_NUMBERS
from hybrid_calendar_webex_emulator.timeutil import iso
from hybrid_calendar_webex_emulator.webhooks import fire

if TYPE_CHECKING:
    from hybrid_calendar_webex_emulator.state import WebexState

ROOMS_READ = ("spark:rooms_read",)
ROOMS_WRITE = ("spark:rooms_write",)
MEMBERS_READ = ("spark:memberships_read",)
MEMBERS_WRITE = ("spark:memberships_write",)


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A stored record without internal (``_``) keys."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def members(state: WebexState, room_id: str) -> set[str]:
    """Person ids of the space's members."""
    return {m["personId"] for m in state.memberships.values() if m["roomId"] == room_id}


def new_room(state: WebexState, title: str, creator_id: str, kind: str = "group",
             ) -> dict[str, Any]:
    """Create a space with its creator as (moderator) member."""
    now = iso(state.clock.now())
    room: dict[str, Any] = {"id": state.ids.webex_id("ROOM"), "title": title, "type": kind,
            "isLocked": False, "lastActivity": now, "creatorId": creator_id, "created": now,
            "ownerId": state.org_id, "isPublic": False, "isReadOnly": False,
            "_number": state.ids.digits(11, "2")}
    state.rooms[room["id"]] = room
    add_member(state, str(room["id"]), creator_id, creator_id, moderator=kind == "group")
    return room


def add_member(state: WebexState, room_id: str, person_id: str, actor_id: str,
               moderator: bool = False) -> dict[str, Any]:
    """Add a person to a space (fires ``memberships created``).

    :raises ApiError: 409 when already a member.
    """
    if person_id in members(state, room_id):
        raise ApiError(409, "The person is already a member of the space.")
    person = state.people[person_id]
    room = state.rooms[room_id]
    membership = {"id": state.ids.webex_id("MEMBERSHIP"), "roomId": room_id,
                  "personId": person_id, "personEmail": person["emails"][0],
                  "personDisplayName": person["displayName"], "personOrgId": state.org_id,
                  "isModerator": moderator, "isMonitor": False, "roomType": room["type"],
                  "created": iso(state.clock.now())}
    state.memberships[membership["id"]] = membership
    fire(state, "memberships", "created", public(membership), actor_id,
         members(state, room_id))
    return membership


def visible_room(call: Call, room_id: str | None) -> dict[str, Any]:
    """A space the caller is a member of.

    :raises ApiError: 404 otherwise.
    """
    room = call.state.rooms.get(room_id or "")
    if room is None or call.grant.person_id not in members(call.state, room["id"]):
        raise not_found()
    return room


def create_room(call: Call) -> dict[str, Any]:
    """``POST /rooms``."""
    body = call.json_body()
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise bad_request("title is required.")
    room = new_room(call.state, title, call.grant.person_id)
    fire(call.state, "rooms", "created", public(room), call.grant.person_id,
         {call.grant.person_id})
    return public(room)


def list_rooms(call: Call) -> Any:
    """``GET /rooms`` (``type``, ``sortBy``)."""
    mine = [r for r in call.state.rooms.values()
            if call.grant.person_id in members(call.state, r["id"])
            and call.param("type") in (None, r["type"])]
    key = {"created": "created", "lastactivity": "lastActivity"}.get(
        (call.param("sortBy") or "lastactivity").lower(), "lastActivity")
    mine.sort(key=lambda r: (r[key], r["id"]), reverse=True)
    return page(call, [public(r) for r in mine], 100, 1000)


def get_room(call: Call) -> dict[str, Any]:
    """``GET /rooms/{roomId}``."""
    return public(visible_room(call, call.path_params["roomId"]))


def update_room(call: Call) -> dict[str, Any]:
    """``PUT /rooms/{roomId}`` (title)."""
    room = visible_room(call, call.path_params["roomId"])
    title = call.json_body().get("title")
    if not isinstance(title, str) or not title.strip():
        raise bad_request("title is required.")
    room["title"] = title
    fire(call.state, "rooms", "updated", public(room), call.grant.person_id,
         members(call.state, room["id"]))
    return public(room)


def delete_room(call: Call) -> None:
    """``DELETE /rooms/{roomId}``: 204 (the space, its memberships and messages go)."""
    room = visible_room(call, call.path_params["roomId"])
    state = call.state
    del state.rooms[room["id"]]
    for store in (state.memberships, state.messages):
        for key in [k for k, v in store.items() if v["roomId"] == room["id"]]:
            del store[key]


def meeting_info(call: Call) -> dict[str, Any]:
    """``GET /rooms/{roomId}/meetingInfo``: the space's meeting details."""
    return space_meeting_info(call.state, visible_room(call, call.path_params["roomId"]))


def space_meeting_info(state: WebexState, room: dict[str, Any]) -> dict[str, Any]:
    """A space's meeting details (``meetingInfo``'s body)."""
    site = state.settings.site
    number = room["_number"]
    return {"roomId": room["id"], "meetingLink": f"https://{site}/m/{room['id'][:24]}",
            "sipAddress": f"{number}@{site}", "meetingNumber": number,
            "callInTollNumber": CALL_IN_NUMBERS[0]["callInNumber"]}


def create_membership(call: Call) -> dict[str, Any]:
    """``POST /memberships`` (``roomId`` and ``personId`` or ``personEmail``)."""
    body = call.json_body()
    room = visible_room(call, body.get("roomId"))
    if room["type"] == "direct":
        raise bad_request("Members cannot be added to a direct space.")
    person = (call.state.people.get(str(body.get("personId", "")))
              or call.state.person_by_email(str(body.get("personEmail", ""))))
    if person is None:
        raise not_found("The person could not be found.")
    membership = add_member(call.state, room["id"], person["id"], call.grant.person_id,
                            bool(body.get("isModerator", False)))
    return public(membership)


def list_memberships(call: Call) -> Any:
    """``GET /memberships`` (``roomId``, ``personId``, ``personEmail``)."""
    room_id = call.param("roomId")
    if room_id is not None:
        visible_room(call, room_id)
    mine = {r for r in call.state.rooms if call.grant.person_id in members(call.state, r)}
    items = [public(m) for m in call.state.memberships.values()
             if m["roomId"] in mine and room_id in (None, m["roomId"])
             and call.param("personId") in (None, m["personId"])
             and (call.param("personEmail") or "").lower() in ("", m["personEmail"])]
    if room_id is None and not (call.param("personId") or call.param("personEmail")):
        items = [i for i in items if i["personId"] == call.grant.person_id]
    return page(call, items, 100, 1000)


def _membership(call: Call) -> dict[str, Any]:
    membership = call.state.memberships.get(call.path_params["membershipId"])
    if membership is None:
        raise not_found()
    visible_room(call, membership["roomId"])
    return membership


def get_membership(call: Call) -> dict[str, Any]:
    """``GET /memberships/{membershipId}``."""
    return public(_membership(call))


def update_membership(call: Call) -> dict[str, Any]:
    """``PUT /memberships/{membershipId}`` (``isModerator``)."""
    membership = _membership(call)
    membership["isModerator"] = bool(call.json_body().get("isModerator", False))
    return public(membership)


def delete_membership(call: Call) -> None:
    """``DELETE /memberships/{membershipId}``: 204."""
    membership = _membership(call)
    audience = members(call.state, membership["roomId"])
    del call.state.memberships[membership["id"]]
    fire(call.state, "memberships", "deleted", public(membership), call.grant.person_id,
         audience)


ROUTES: list[Route] = [
    route("POST", "/v1/rooms", ROOMS_WRITE, create_room),
    route("GET", "/v1/rooms", ROOMS_READ, list_rooms),
    route("GET", "/v1/rooms/{roomId}", ROOMS_READ, get_room),
    route("PUT", "/v1/rooms/{roomId}", ROOMS_WRITE, update_room),
    route("DELETE", "/v1/rooms/{roomId}", ROOMS_WRITE, delete_room),
    route("GET", "/v1/rooms/{roomId}/meetingInfo", ROOMS_READ, meeting_info),
    route("POST", "/v1/memberships", MEMBERS_WRITE, create_membership),
    route("GET", "/v1/memberships", MEMBERS_READ, list_memberships),
    route("GET", "/v1/memberships/{membershipId}", MEMBERS_READ, get_membership),
    route("PUT", "/v1/memberships/{membershipId}", MEMBERS_WRITE, update_membership),
    route("DELETE", "/v1/memberships/{membershipId}", MEMBERS_WRITE, delete_membership),
]
