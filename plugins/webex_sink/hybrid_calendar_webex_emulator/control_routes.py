"""HTTP routes of the emulator-only controls (``/_emulator/...``; not Webex APIs).

==========================================================  ================================
route                                                       what
==========================================================  ================================
``POST /_emulator/control``                                 a control document (:mod:`.control`)
``PUT /_emulator/people/{idOrEmail}/status``                ``{"status": "OutOfOffice"}``
``GET /_emulator/people/{idOrEmail}/messages``              messages the person received
``POST /_emulator/tokens``                                  ``{"email", "scopes"?}``: a token
``POST /_emulator/integrations``                            ``{"redirectUri", "scopes"?}``
``POST /_emulator/bots``                                    ``{"name", "username"}``: a bot
``POST /_emulator/service-apps``                            ``{"name"?, "scopes"?}``
``POST /_emulator/service-apps/{id}/authorize``             an admin authorises it
``POST /_emulator/service-apps/{id}/deauthorize``           an admin de-authorises it
``POST /_emulator/workspaces``                              ``{"displayName", "calendarEmail"}``
``POST /_emulator/workspaces/{workspaceId}/devices``         a new device in the workspace
``PUT /_emulator/devices/{deviceId}/connection``            ``{"connectionStatus": ...}``
``GET /_emulator/devices/{deviceId}/bookings``              the device's bookings
``GET /_emulator/bookings``                                 every device's bookings
``GET /_emulator/webhook-deliveries``                       every delivery attempt
==========================================================  ================================
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hybrid_calendar_webex_emulator.people import public as public_person
from hybrid_calendar_webex_emulator.state import WebexState

Action = Callable[[dict[str, Any], dict[str, str]], Any]


def _endpoint(state: WebexState, action: Action) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            raw = await request.body()
            body = json.loads(raw) if raw.strip() else {}
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            with state.lock:
                result = action(body, dict(request.path_params))
        except KeyError as err:
            return JSONResponse({"error": f"not found: {err}"}, status_code=404)
        except (ValueError, TypeError) as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        return JSONResponse(result)

    return endpoint


def _required(body: dict[str, Any], name: str) -> str:
    """A required string field of a control body.

    :raises ValueError: naming the field.
    """
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} is required")
    return value


def routes(state: WebexState) -> list[Route]:
    """The control routes bound to ``state``."""
    from hybrid_calendar_webex_emulator.workspaces import (
        add_device,
        add_workspace,
        set_connection,
    )

    def service_app(body: dict[str, Any], _: dict[str, str]) -> Any:
        app = state.create_service_app(str(body.get("name", "Service App")),
                                       body.get("scopes"), body.get("owner"))
        return {"applicationId": app.application_id, "clientId": app.client_id,
                "clientSecret": app.client_secret, "personId": app.person_id,
                "orgId": state.org_id}

    def authorize(body: dict[str, Any], path: dict[str, str]) -> Any:
        state.authorize_service_app(path["id"])
        return {"ok": True}

    def bot(body: dict[str, Any], _: dict[str, str]) -> Any:
        created, token = state.create_bot(str(body.get("name", "Bot")),
                                          str(body.get("username", "bot")))
        return {"personId": created["id"], "email": created["emails"][0],
                "access_token": token}

    def integration(body: dict[str, Any], _: dict[str, str]) -> Any:
        created = state.create_integration(_required(body, "redirectUri"),
                                           body.get("scopes"))
        return {"clientId": created.client_id, "clientSecret": created.client_secret}

    def workspace(body: dict[str, Any], _: dict[str, str]) -> Any:
        created, device = add_workspace(state, _required(body, "displayName"),
                                        body.get("calendarEmail"))
        return {"workspace": created, "device": device}

    actions: list[tuple[str, str, Action]] = [
        ("POST", "/_emulator/control", lambda body, _: {"ok": True, **state.control(body)}),
        ("PUT", "/_emulator/people/{who}/status",
         lambda body, p: public_person(state.set_status(p["who"], str(body.get("status"))))),
        ("GET", "/_emulator/people/{who}/messages",
         lambda body, p: {"items": state.received_messages(p["who"])}),
        ("POST", "/_emulator/tokens", lambda body, _: {"access_token": state.issue_token(
            _required(body, "email"), *([body["scopes"]] if body.get("scopes") else []))}),
        ("POST", "/_emulator/integrations", integration),
        ("POST", "/_emulator/bots", bot),
        ("POST", "/_emulator/service-apps", service_app),
        ("POST", "/_emulator/service-apps/{id}/authorize", authorize),
        ("POST", "/_emulator/service-apps/{id}/deauthorize",
         lambda body, p: {"revokedTokens": state.deauthorize_service_app(p["id"])}),
        ("POST", "/_emulator/workspaces", workspace),
        ("POST", "/_emulator/workspaces/{id}/devices",
         lambda body, p: add_device(state, p["id"],
                                    str(body.get("connectionStatus", "connected")))),
        ("PUT", "/_emulator/devices/{id}/connection",
         lambda body, p: set_connection(state, p["id"], str(body.get("connectionStatus")))),
        ("GET", "/_emulator/devices/{id}/bookings",
         lambda body, p: {"deviceId": p["id"], "items": state.device_bookings(p["id"])}),
        ("GET", "/_emulator/bookings",
         lambda body, _: {"items": [{"deviceId": d, "workspaceId": state.devices[d]["workspaceId"],
                                     "bookings": state.device_bookings(d)}
                                    for d in state.devices]}),
        ("GET", "/_emulator/webhook-deliveries",
         lambda body, _: {"items": [d.to_json() for d in state.delivery.deliveries]}),
    ]
    return [Route(path, _endpoint(state, action), methods=[method])
            for method, path, action in actions]
