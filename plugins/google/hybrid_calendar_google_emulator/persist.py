"""Optional persistence: the whole emulator state as one JSON file (mode 0600).

Saved: the service-account key (so a written key file stays valid across restarts), the
sync-token secret and change counter (so sync tokens stay valid), users, calendars with
events, tombstones and ACLs, and live channels. Not saved: access tokens, page snapshots,
quota windows, faults and the request log.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hybrid_calendar_google_emulator.calendars import Calendar
from hybrid_calendar_google_emulator.push import Channel

if TYPE_CHECKING:
    from hybrid_calendar_google_emulator.state import EmulatorState

VERSION = 1


def snapshot(state: EmulatorState) -> dict[str, Any]:
    """The persistent part of ``state`` as JSON-ready data (caller holds the lock)."""
    key = state.key
    return {
        "version": VERSION,
        "key": {"private_key": key.info()["private_key"], "private_key_id": key.private_key_id,
                "client_id": key.client_id, "client_email": key.client_email},
        "sync_secret": state.sync_tokens.secret.hex(),
        "seq": state.journal.seq,
        "users": {email: asdict(user) for email, user in state.users.items()},
        "calendars": {
            cal_id: {"owner": cal.owner, "events": list(cal.events.values()),
                     "seqs": cal.seqs, "acl": cal.acl, "generation": cal.generation,
                     "min_sync_seq": cal.min_sync_seq,
                     "conference_requests": cal.conference_requests}
            for cal_id, cal in state.calendars.items()},
        "channels": [asdict(ch) for ch in state.channels.by_id.values()
                     if not ch.stopped and not ch.expired()],
    }


def restore(state: EmulatorState, data: dict[str, Any]) -> None:
    """Replace ``state``'s persistent part with ``data`` (from :func:`snapshot`).

    Everything is read before ``state`` changes, so a damaged file leaves it untouched.

    :raises ValueError: for another format version, a key that is not RSA, or missing or
        malformed parts.
    """
    from hybrid_calendar_google_emulator.users import User

    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ValueError("unsupported emulator state file version")
    try:
        private = serialization.load_pem_private_key(data["key"]["private_key"].encode(), None)
        if not isinstance(private, rsa.RSAPrivateKey):
            raise ValueError("the state file's key is not an RSA key")
        key_fields = {name: str(data["key"][name])
                      for name in ("private_key_id", "client_id", "client_email")}
        secret = bytes.fromhex(data["sync_secret"])
        seq = int(data["seq"])
        users = {email: User(**fields) for email, fields in data["users"].items()}
        calendars = {}
        for cal_id, raw in data["calendars"].items():
            calendar = Calendar(cal_id, raw["owner"], acl=raw["acl"],
                                generation=raw["generation"],
                                min_sync_seq=raw["min_sync_seq"],
                                conference_requests=raw["conference_requests"])
            for event in raw["events"]:
                calendar.store(event, int(raw["seqs"][event["id"]]))
            calendars[cal_id] = calendar
        channels = [Channel(**fields) for fields in data.get("channels", [])]
    except (KeyError, TypeError, AttributeError) as err:
        raise ValueError(f"damaged emulator state file ({type(err).__name__})") from err
    with state.lock:
        key = state.key
        key.private_key, key.public_key = private, private.public_key()
        key.private_key_id = key_fields["private_key_id"]
        key.client_id = key_fields["client_id"]
        key.client_email = key_fields["client_email"]
        state.sync_tokens.secret = secret
        state.journal.seq = max(state.journal.seq, seq)
        state.users = users
        state.calendars = calendars
        for channel in channels:
            state.channels.add(channel)
        for email in state.options.users:
            if email.lower() not in state.users:
                state.add_user(email)


def save(state: EmulatorState, path: Path) -> None:
    """Write the state file atomically with mode 0600."""
    with state.lock:
        text = json.dumps(snapshot(state), separators=(",", ":"))
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def load(state: EmulatorState, path: Path) -> bool:
    """Restore from ``path`` if it exists; returns whether it did.

    :raises ValueError: the file is not a state file this version wrote (``state`` is
        left unchanged).
    """
    if not path.exists():
        return False
    restore(state, json.loads(path.read_text(encoding="utf-8")))
    return True
