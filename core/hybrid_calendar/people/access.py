"""Personal access: tokens, sign-in links and browser sessions for one user or room display.

A secret is ``hcp_`` followed by 256 random bits; only its SHA-256 digest is stored (a
fast hash is enough for secrets of that strength), and a presented secret is found by its
digest and compared in constant time. Each grant has an expiry and can be revoked; a
sign-in link is used once and becomes a session (a grant of its own, revoked with it).

Kinds: ``token`` (API clients, devices, feed subscriptions), ``link`` (one-time sign-in),
``session`` (browser cookie made from a link). Audiences: ``person`` or ``room`` (a room
display is activated like a user: the resource calendar's own meetings).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from hybrid_calendar.people.db import Handle, execute, rows, run
from hybrid_calendar.store.sqlite_base import dt, ts

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

TOKEN_PREFIX = "hcp_"
KINDS = ("token", "link", "session")
AUDIENCES = ("person", "room")


@dataclass(frozen=True, slots=True)
class Access:
    """One grant of personal access (never holds the secret)."""

    id: str
    user_id: str
    audience: str
    kind: str
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    used_at: datetime | None = None
    parent_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The grant as the admin API lists it."""
        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()
        return {"id": self.id, "user_id": self.user_id, "audience": self.audience,
                "kind": self.kind, "label": self.label, "created_at": iso(self.created_at),
                "expires_at": iso(self.expires_at), "revoked_at": iso(self.revoked_at),
                "used_at": iso(self.used_at), "parent_id": self.parent_id}


@dataclass(frozen=True, slots=True)
class Issued:
    """A new grant and its secret, shown once."""

    access: Access
    secret: str


def digest(secret: str) -> str:
    """The stored form of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


async def issue(gateway: Gateway, user_id: str, *, kind: str, audience: str, ttl: timedelta,
                label: str = "", parent_id: str | None = None) -> Issued:
    """Create a grant for ``user_id`` valid for ``ttl``; return it with its secret."""
    if kind not in KINDS or audience not in AUDIENCES:
        raise ValueError(f"kind must be one of {KINDS} and audience one of {AUDIENCES}")
    now = gateway.clock.now()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    access = Access(id="acc_" + uuid.uuid4().hex[:20], user_id=user_id, audience=audience,
                    kind=kind, label=label[:200], created_at=now, expires_at=now + ttl,
                    parent_id=parent_id)
    await run(gateway, lambda handle: execute(
        handle, "INSERT INTO people_access (id, user_id, audience, kind, token_hash, label,"
        " parent_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (access.id, user_id, audience, kind, digest(secret), access.label, parent_id,
         ts(now), ts(access.expires_at))))
    return Issued(access, secret)


async def authenticate(gateway: Gateway, secret: str | None, *, kinds: tuple[str, ...]
                       ) -> Access | None:
    """The live grant a presented secret belongs to, if it is of one of ``kinds``."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    wanted = digest(secret)
    found = await run(gateway, lambda handle: rows(
        handle, "SELECT * FROM people_access WHERE token_hash = ?", (wanted,)))
    if not found or not hmac.compare_digest(found[0]["token_hash"], wanted):
        return None
    access = _access(found[0])
    return access if is_live(access, gateway.clock.now(), kinds) else None


def is_live(access: Access, now: datetime, kinds: tuple[str, ...]) -> bool:
    """Whether a grant is of one of ``kinds``, not revoked, not expired and, for a sign-in
    link, not used yet: what :func:`authenticate` requires, and a long-lived response (the
    event stream) checks again while it runs."""
    return (access.revoked_at is None and access.expires_at > now and access.kind in kinds
            and (access.kind != "link" or access.used_at is None))


async def consume_link(gateway: Gateway, secret: str) -> Access | None:
    """Use a sign-in link once: True for exactly one caller while it is live."""
    access = await authenticate(gateway, secret, kinds=("link",))
    if access is None:
        return None
    now = ts(gateway.clock.now())
    claimed = await run(gateway, lambda handle: execute(
        handle, "UPDATE people_access SET used_at = ? WHERE id = ? AND used_at IS NULL AND "
        "revoked_at IS NULL", (now, access.id)).rowcount)
    return access if claimed == 1 else None


async def revoke(gateway: Gateway, access_id: str) -> bool:
    """Revoke a grant and the sessions made from it; False if there was no such grant."""
    now = ts(gateway.clock.now())
    changed = await run(gateway, lambda handle: execute(
        handle, "UPDATE people_access SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? OR "
        "parent_id = ?", (now, access_id, access_id)).rowcount)
    return bool(changed)


async def revoke_user(gateway: Gateway, user_id: str) -> int:
    """Revoke every grant of a user; return how many were live."""
    now = ts(gateway.clock.now())
    return int(await run(gateway, lambda handle: execute(
        handle, "UPDATE people_access SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
        (now, user_id)).rowcount))


async def get(gateway: Gateway, access_id: str) -> Access | None:
    """One grant by id."""
    found = await run(gateway, lambda handle: rows(
        handle, "SELECT * FROM people_access WHERE id = ?", (access_id,)))
    return _access(found[0]) if found else None


async def list_for_user(gateway: Gateway, user_id: str) -> list[Access]:
    """Every grant of a user, newest first."""
    def work(handle: Handle) -> list[dict[str, Any]]:
        return rows(handle, "SELECT * FROM people_access WHERE user_id = ? "
                            "ORDER BY created_at DESC", (user_id,))
    return [_access(row) for row in await run(gateway, work)]


def _access(row: dict[str, Any]) -> Access:
    created, expires = dt(row["created_at"]), dt(row["expires_at"])
    assert created is not None and expires is not None
    return Access(id=row["id"], user_id=row["user_id"], audience=row["audience"],
                  kind=row["kind"], label=row["label"] or "", created_at=created,
                  expires_at=expires, revoked_at=dt(row["revoked_at"]),
                  used_at=dt(row["used_at"]), parent_id=row["parent_id"])
