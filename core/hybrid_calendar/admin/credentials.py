"""Admin credentials with roles, stored hashed (table ``admin_credentials``).

Roles: ``admin`` (full administrator: every operation) and ``auditor`` (read-only: every
``GET``, no change). A credential is a name and a secret of 256 random bits the gateway
generates and shows once (``hybrid-calendar admin add NAME --role auditor``). Being
random, not chosen by a person, a salted SHA-256 of it is as strong as a slow password
hash; only that digest is stored, and the presented secret's digest is compared with
:func:`hmac.compare_digest`. ``gateway.admin_token`` (if set) still works as a full
administrator named ``admin-token``.

Clients present ``Authorization: Basic base64(name:secret)`` (``curl -u name:secret``) or
``Authorization: Bearer name:secret``.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hybrid_calendar.admin.errors import ConflictError
from hybrid_calendar.admin.sql import execute, transaction
from hybrid_calendar.errors import ConfigError

if TYPE_CHECKING:
    from sqlite_utils import Database

    from hybrid_calendar.gateway import Gateway

NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
TOKEN_NAME = "admin-token"
"""The name under which ``gateway.admin_token`` authenticates."""


class Role(enum.StrEnum):
    """What a credential may do."""

    ADMIN = "admin"
    """Full administrator: read and change everything."""
    AUDITOR = "auditor"
    """Read-only: organisations, users, health, audit log; no change."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who made a request."""

    name: str
    role: Role

    def may_change(self) -> bool:
        """True for full administrators."""
        return self.role == Role.ADMIN


def digest(secret: str, salt: str) -> str:
    """The stored form of a secret: ``sha256$<salt>$<hex>``."""
    return f"sha256${salt}${hashlib.sha256((salt + secret).encode()).hexdigest()}"


def matches(stored: str, secret: str) -> bool:
    """Compare a presented secret with a stored digest, in constant time."""
    _scheme, _, rest = stored.partition("$")
    salt = rest.partition("$")[0]
    return hmac.compare_digest(stored.encode(), digest(secret, salt).encode())


async def add_credential(gateway: Gateway, name: str, role: Role) -> str:
    """Create a credential; returns its secret (shown once, never stored in clear).

    :raises ConfigError: the name is not letters, digits, ``.``, ``_``, ``-``.
    :raises ConflictError: a credential of that name exists.
    """
    if not NAME.match(name) or name == TOKEN_NAME:
        raise ConfigError("name", "use 1-64 letters, digits, '.', '_' or '-' "
                                  f"(and not {TOKEN_NAME!r})")
    secret = secrets.token_urlsafe(32)
    stored = digest(secret, secrets.token_hex(16))
    now = gateway.clock.now().timestamp()

    def insert(db: Database) -> bool:
        with transaction(db):
            cursor = execute(db, "INSERT INTO admin_credentials (name, role, secret_hash, "
                                "created_at, disabled) VALUES (?, ?, ?, ?, 0) "
                                "ON CONFLICT DO NOTHING",
                                [name, str(role), stored, now])
            return bool(cursor.rowcount)

    if not await gateway.store.call(insert):
        raise ConflictError(f"an admin credential named {name!r} exists already")
    return secret


async def remove_credential(gateway: Gateway, name: str) -> bool:
    """Delete a credential; True if it existed."""

    def delete(db: Database) -> bool:
        with transaction(db):
            return bool(execute(db, "DELETE FROM admin_credentials WHERE name = ?",
                                   [name]).rowcount)

    return bool(await gateway.store.call(delete))


async def list_credentials(gateway: Gateway) -> list[dict[str, str]]:
    """Names and roles (never the digests)."""

    def read(db: Database) -> list[dict[str, str]]:
        return [{"name": n, "role": r} for n, r in execute(db,
            "SELECT name, role FROM admin_credentials ORDER BY name").fetchall()]

    result: list[dict[str, str]] = await gateway.store.call(read)
    return result


def parse_authorization(header: str) -> tuple[str, str] | None:
    """``(name, secret)`` from a Basic or Bearer ``name:secret`` header; for a bare
    Bearer token, ``(TOKEN_NAME, token)``."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "basic":
        try:
            value = base64.b64decode(value, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None
    elif scheme.lower() != "bearer" or not value:
        return None
    name, colon, secret = value.partition(":")
    if not colon:
        return (TOKEN_NAME, value) if scheme.lower() == "bearer" else None
    return name, secret


async def authenticate(gateway: Gateway, header: str) -> Principal | None:
    """The principal a header proves, or ``None``."""
    parsed = parse_authorization(header)
    if parsed is None:
        return None
    name, secret = parsed
    if name == TOKEN_NAME:
        expected = gateway.config.get("gateway", "admin_token").reveal()
        if expected and hmac.compare_digest(secret.encode(), expected.encode()):
            return Principal(TOKEN_NAME, Role.ADMIN)
        return None

    def read(db: Database) -> tuple[str, str] | None:
        row = execute(db, "SELECT role, secret_hash FROM admin_credentials WHERE name = ? "
                         "AND coalesce(disabled, 0) = 0", [name]).fetchone()
        return (str(row[0]), str(row[1])) if row else None

    found = await gateway.store.call(read)
    # Compare against a digest even for an unknown name, so timing tells nothing.
    role, stored = found or (None, digest("", "0" * 32))
    if matches(stored, secret) and role is not None:
        return Principal(name, Role(role))
    return None
