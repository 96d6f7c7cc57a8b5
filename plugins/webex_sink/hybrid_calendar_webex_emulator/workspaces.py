"""Workspaces (``/v1/workspaces``) and devices (``/v1/devices``).

A workspace has a linked calendar (``calendar: {"type": "google", "emailAddress": ...}``,
listable with ``?calendar=google``) and one RoomOS device with the ``xapi`` capability.
Enum values are only those Webex documents (wxc-sdk validates them strictly).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hybrid_calendar_webex_emulator.dispatch import Call, Route, route
from hybrid_calendar_webex_emulator.errors import not_found
from hybrid_calendar_webex_emulator.paging import page
from hybrid_calendar_webex_emulator.timeutil import iso

if TYPE_CHECKING:
    from hybrid_calendar_webex_emulator.state import WebexState

WORKSPACES_READ = ("spark-admin:workspaces_read",)
DEVICES_READ = ("spark:devices_read", "spark-admin:devices_read")
CONNECTION_STATUSES = frozenset({"connected", "disconnected", "connected_with_issues",
                                 "offline_expired", "activating", "unknown",
                                 "offline_deep_sleep", "pending"})


def add_workspace(state: WebexState, display_name: str, calendar_email: str | None = None,
                  *, with_device: bool = True, connection_status: str = "connected",
                  ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Add a workspace (calendar linked when ``calendar_email`` is given) and its device."""
    with state.lock:
        now = iso(state.clock.now())
        site = state.settings.site
        local = display_name.lower().replace(" ", "-")
        workspace: dict[str, Any] = {
            "id": state.ids.webex_id("PLACE"), "orgId": state.org_id,
            "displayName": display_name, "type": "meetingRoom", "capacity": 8,
            "sipAddress": f"{local}@{site}", "created": now,
            "calling": {"type": "freeCalling"}, "hotdeskingStatus": "off",
            "supportedDevices": "collaborationDevices", "devicePlatform": "cisco",
            "deviceHostedMeetings": {"enabled": False},
            "calendar": ({"type": "google", "emailAddress": calendar_email.lower()}
                         if calendar_email else {"type": "none"}),
        }
        state.workspaces[workspace["id"]] = workspace
        device = add_device(state, workspace["id"], connection_status) if with_device else None
        return workspace, device


def add_device(state: WebexState, workspace_id: str, connection_status: str = "connected"
               ) -> dict[str, Any]:
    """Add a RoomOS device (``xapi`` capability, no bookings yet) to a workspace, as an
    administrator activating a new device in it does.

    :raises KeyError: unknown workspace; :raises ValueError: unknown status.
    """
    if connection_status not in CONNECTION_STATUSES:
        raise ValueError(f"unknown connectionStatus {connection_status!r}")
    with state.lock:
        workspace = state.workspaces[workspace_id]
        now = iso(state.clock.now())
        site = state.settings.site
        display_name = str(workspace["displayName"])
        local = display_name.lower().replace(" ", "-")
        serial = "FOC" + state.ids.digits(8)
        device: dict[str, Any] = {
            "id": state.ids.webex_id("DEVICE"), "displayName": display_name,
            "workspaceId": workspace_id, "orgId": state.org_id,
            "capabilities": ["xapi"], "permissions": ["xapi"],
            "connectionStatus": connection_status, "product": "Cisco Room Kit",
            "type": "roomdesk", "tags": [], "ip": "10.0.0." + state.ids.digits(2, "1"),
            "activeInterface": "Ethernet",
            "mac": ":".join(state.ids.digits(2) for _ in range(6)),
            "primarySipUrl": f"{local}@{site}", "sipUrls": [f"{local}@{site}"],
            "serial": serial, "software": "RoomOS 11.14.1.5", "upgradeChannel": "Stable",
            "created": now, "firstSeen": now, "lastSeen": now, "devicePlatform": "cisco",
        }
        state.devices[device["id"]] = device
        state.bookings[device["id"]] = []
        return dict(device)


def set_connection(state: WebexState, device_id: str, status: str) -> dict[str, Any]:
    """Set a device's ``connectionStatus`` (anything but ``connected`` is offline for xAPI).

    :raises KeyError: unknown device; :raises ValueError: unknown status.
    """
    if status not in CONNECTION_STATUSES:
        raise ValueError(f"unknown connectionStatus {status!r}")
    with state.lock:
        device = state.devices[device_id]
        device["connectionStatus"] = status
        return dict(device)


def list_workspaces(call: Call) -> Any:
    """``GET /workspaces`` (``displayName``, ``type``, ``calendar``, ``capacity``)."""
    calendar = call.param("calendar")
    display = call.param("displayName")
    items = [dict(w) for w in call.state.workspaces.values()
             if calendar in (None, w["calendar"]["type"])
             and call.param("type") in (None, w["type"])
             and (display is None or display.lower() in w["displayName"].lower())]
    return page(call, items, 100, 1000)


def get_workspace(call: Call) -> dict[str, Any]:
    """``GET /workspaces/{workspaceId}``."""
    workspace = call.state.workspaces.get(call.path_params["workspaceId"])
    if workspace is None:
        raise not_found()
    return dict(workspace)


def _visible_devices(call: Call) -> list[dict[str, Any]]:
    devices = list(call.state.devices.values())
    if call.has_scope("spark-admin:devices_read"):
        return devices
    return [d for d in devices if d.get("personId") == call.grant.person_id]


def list_devices(call: Call) -> Any:
    """``GET /devices`` (``workspaceId``, ``personId``, ``connectionStatus``, ``product``,
    ``type``, ``serial``, ``capability``, ``permission``, ``displayName``)."""
    filters = {name: call.param(name) for name in
               ("workspaceId", "personId", "connectionStatus", "product", "type", "serial")}
    capability, permission = call.param("capability"), call.param("permission")
    display = call.param("displayName")
    items = [dict(d) for d in _visible_devices(call)
             if all(v is None or d.get(k) == v for k, v in filters.items())
             and capability in (None, *d["capabilities"])
             and permission in (None, *d["permissions"])
             and (display is None or display.lower() in d["displayName"].lower())]
    return page(call, items, 100, 1000)


def get_device(call: Call) -> dict[str, Any]:
    """``GET /devices/{deviceId}``."""
    device = next((d for d in _visible_devices(call)
                   if d["id"] == call.path_params["deviceId"]), None)
    if device is None:
        raise not_found()
    return dict(device)


ROUTES: list[Route] = [
    route("GET", "/v1/workspaces", WORKSPACES_READ, list_workspaces),
    route("GET", "/v1/workspaces/{workspaceId}", WORKSPACES_READ, get_workspace),
    route("GET", "/v1/devices", DEVICES_READ, list_devices),
    route("GET", "/v1/devices/{deviceId}", DEVICES_READ, get_device),
]
