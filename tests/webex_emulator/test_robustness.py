"""Bodies of every wrong shape on every writing route: a 4xx with Webex's error body, never
a 5xx (the dispatcher turns what a handler trips over into a 400)."""

from __future__ import annotations

import itertools

import httpx
import pytest

from hybrid_calendar_webex_emulator.app import api_routes
from hybrid_calendar_webex_emulator.testing import RunningWebexEmulator

FIELDS = ["title", "start", "end", "timezone", "recurrence", "invitees", "integrationTags",
          "hostEmail", "scheduledType", "agenda", "password", "roomId", "toPersonEmail",
          "toPersonId", "text", "markdown", "files", "attachments", "name", "targetUrl",
          "resource", "event", "filter", "secret", "ownedBy", "status", "deviceId",
          "arguments", "body", "personId", "personEmail", "isModerator", "messageId",
          "inputs", "type", "presence", "untilDateTime", "alerting",
          "alertMeFirstNumberOfRings", "clientId", "clientSecret", "targetOrgId",
          "joinBeforeHostMinutes", "sendEmail"]
VALUES: list[object] = [None, 7, [{}], {"Booking": 1}]


@pytest.mark.slow
def test_no_writing_route_answers_5xx(emu: RunningWebexEmulator, http: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {emu.admin_token}"}
    device_id = next(iter(emu.state.devices))
    person_id = emu.state.person("alice@example.com")["id"]
    statuses: set[int] = set()
    for route in api_routes():
        if route.method not in ("POST", "PUT", "PATCH"):
            continue
        path = route.template
        for name, value in {"personId": person_id, "commandName": "Bookings.Put"}.items():
            path = path.replace("{" + name + "}", value)
        path = path.replace("{", "").replace("}", "")
        bodies: list[object] = [[], "text", {}]
        bodies += [{field: value} for field, value in itertools.product(FIELDS, VALUES)]
        bodies += [{"deviceId": device_id, "body": value} for value in VALUES]
        for body in bodies:
            answer = http.request(route.method, path, json=body, headers=headers)
            statuses.add(answer.status_code)
            assert answer.status_code < 500, (route.method, path, body, answer.text)
            if answer.status_code >= 400 and answer.status_code != 429:
                assert answer.json()["trackingId"], (route.method, path, body)
    assert 400 in statuses
