"""Optional persistence: the whole emulator state as one JSON file (mode 0600).

Saved: the organisation id, people (with statuses and Personal Rooms), meetings, spaces,
memberships, messages, card submissions, webhooks, workspaces, devices and their bookings,
personal assistant settings, integrations, Service Apps, access and refresh tokens (so an
``--admin-token-out`` file stays valid across a restart). Not saved: authorization codes,
rate-limit windows, faults, the webhook delivery record and the request log.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid_calendar_webex_emulator.auth import Grant, Integration, RefreshGrant, ServiceApp
from hybrid_calendar_webex_emulator.state import qualify

if TYPE_CHECKING:
    from hybrid_calendar_webex_emulator.state import WebexState

VERSION = 1
STORES = ("people", "meetings", "meeting_instances", "rooms", "memberships", "messages",
          "attachment_actions", "webhooks", "workspaces", "devices", "bookings",
          "personal_assistant")


def snapshot(state: WebexState) -> dict[str, Any]:
    """The persistent part of ``state`` as JSON-ready data."""
    with state.lock:
        tokens = state.tokens
        return {
            "version": VERSION, "org_id": state.org_id, "admin_id": state.admin_id,
            "admin_token": state.admin_token, "calling_license_id": state.calling_license_id,
            "meeting_license_id": state.meeting_license_id, "location_id": state.location_id,
            **{name: getattr(state, name) for name in STORES},
            "grants": [g.to_json() for g in tokens.grants.values()],
            "refresh": [r.to_json() for r in tokens.refresh.values()],
            "integrations": [asdict(i) for i in tokens.integrations.values()],
            "service_apps": [asdict(a) for a in tokens.service_apps.values()],
            "sent_emails": state.sent_emails,
        }


def restore(state: WebexState, data: dict[str, Any]) -> None:
    """Replace ``state``'s persistent part with ``data`` (from :func:`snapshot`).

    Everything is read before ``state`` changes, so a damaged file leaves it untouched.

    :raises ValueError: another format version, or missing or malformed parts.
    """
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ValueError("unsupported emulator state file version")
    try:
        stores = {name: dict(data.get(name, {})) if name == "meeting_instances"
                  else dict(data[name]) for name in STORES}
        grants = [Grant.from_json(g) for g in data["grants"]]
        refresh = [RefreshGrant.from_json(r) for r in data["refresh"]]
        integrations = [Integration(**i) for i in data["integrations"]]
        apps = [ServiceApp(**a) for a in data["service_apps"]]
        ids = (str(data["org_id"]), str(data["admin_id"]), str(data["admin_token"]),
               str(data["calling_license_id"]), str(data["meeting_license_id"]),
               str(data["location_id"]))
        sent = list(data.get("sent_emails", []))
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ValueError(f"damaged emulator state file ({type(err).__name__})") from err
    with state.lock:
        for name, value in stores.items():
            setattr(state, name, value)
        (state.org_id, state.admin_id, state.admin_token, state.calling_license_id,
         state.meeting_license_id, state.location_id) = ids
        state.tokens.grants = {g.token: g for g in grants}
        state.tokens.refresh = {r.token: r for r in refresh}
        state.tokens.integrations = {i.client_id: i for i in integrations}
        state.tokens.service_apps = {a.application_id: a for a in apps}
        state.sent_emails = sent
        for email in state.settings.users:
            state.add_person(qualify(email, state.settings.domain))


def save(state: WebexState, path: Path) -> None:
    """Write the state file atomically with mode 0600."""
    text = json.dumps(snapshot(state), separators=(",", ":"))
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def load(state: WebexState, path: Path) -> bool:
    """Restore from ``path`` if it exists; returns whether it did.

    :raises ValueError: the file is not a state file this version wrote.
    """
    if not path.exists():
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError("not a JSON state file") from err
    restore(state, data)
    return True
