"""Access and refresh tokens, OAuth integrations, authorization codes and Service Apps.

Tokens are opaque random strings. A :class:`Grant` says who a token acts for (a person, a
bot, or a Service App's machine account), with which scopes and until when; a token that
is unknown, expired or revoked answers 401 on every API call.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any


def new_token() -> str:
    """A random opaque token (Webex's look: long, URL-safe)."""
    return secrets.token_urlsafe(48)


@dataclass
class Grant:
    """What an access token stands for."""

    token: str
    person_id: str
    """The acting person (for a Service App: its machine account)."""
    scopes: frozenset[str]
    expires_at: datetime
    kind: str = "user"
    """``user``, ``bot`` or ``serviceApp``."""
    client_id: str | None = None
    """The integration or Service App client id the token was issued to."""
    revoked: bool = False

    def valid(self, now: datetime) -> bool:
        """Whether the token may be used at ``now``."""
        return not self.revoked and now < self.expires_at

    def to_json(self) -> dict[str, Any]:
        """For the state file."""
        data = asdict(self)
        data["scopes"] = sorted(self.scopes)
        data["expires_at"] = self.expires_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Grant:
        """From :meth:`to_json`."""
        return cls(**{**data, "scopes": frozenset(data["scopes"]),
                      "expires_at": datetime.fromisoformat(data["expires_at"])})


@dataclass
class RefreshGrant:
    """A refresh token: mints new access tokens for the same person, client and scopes."""

    token: str
    person_id: str
    scopes: frozenset[str]
    expires_at: datetime
    client_id: str
    kind: str = "user"
    revoked: bool = False

    def to_json(self) -> dict[str, Any]:
        """For the state file."""
        data = asdict(self)
        data["scopes"] = sorted(self.scopes)
        data["expires_at"] = self.expires_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RefreshGrant:
        """From :meth:`to_json`."""
        return cls(**{**data, "scopes": frozenset(data["scopes"]),
                      "expires_at": datetime.fromisoformat(data["expires_at"])})


@dataclass
class Integration:
    """An OAuth integration registered on developer.webex.com (emulated)."""

    client_id: str
    client_secret: str
    redirect_uris: list[str]
    scopes: list[str]
    name: str = "Integration"


@dataclass
class ServiceApp:
    """A Service App: a machine account an administrator authorises for the organisation."""

    application_id: str
    client_id: str
    client_secret: str
    person_id: str
    """Its machine account (the identity its tokens act as)."""
    owner_id: str
    """The developer who created it (serviceApp webhooks of this person fire)."""
    scopes: list[str]
    name: str = "Service App"
    authorized: bool = False


@dataclass
class AuthCode:
    """An authorization code from ``/v1/authorize``, good for one token request."""

    code: str
    client_id: str
    redirect_uri: str
    person_id: str
    scopes: frozenset[str]
    expires_at: datetime


@dataclass
class TokenRegistry:
    """Every token, code, integration and Service App of one emulator."""

    grants: dict[str, Grant] = field(default_factory=dict)
    refresh: dict[str, RefreshGrant] = field(default_factory=dict)
    integrations: dict[str, Integration] = field(default_factory=dict)
    service_apps: dict[str, ServiceApp] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)

    def issue(self, person_id: str, scopes: frozenset[str], expires_at: datetime, *,
              kind: str = "user", client_id: str | None = None) -> Grant:
        """A new access token."""
        grant = Grant(new_token(), person_id, scopes, expires_at, kind, client_id)
        self.grants[grant.token] = grant
        return grant

    def issue_pair(self, person_id: str, scopes: frozenset[str], now: datetime,
                   access_ttl: int, refresh_ttl: int, client_id: str, kind: str = "user",
                   ) -> tuple[Grant, RefreshGrant]:
        """A new access token and refresh token."""
        access = self.issue(person_id, scopes, now + timedelta(seconds=access_ttl),
                            kind=kind, client_id=client_id)
        refresh = RefreshGrant(new_token(), person_id, scopes,
                               now + timedelta(seconds=refresh_ttl), client_id, kind)
        self.refresh[refresh.token] = refresh
        return access, refresh

    def lookup(self, token: str, now: datetime) -> Grant | None:
        """The valid grant of ``token``, or ``None``."""
        grant = self.grants.get(token)
        return grant if grant is not None and grant.valid(now) else None

    def revoke_client(self, client_id: str) -> int:
        """Revoke every access and refresh token issued to ``client_id``; returns how many."""
        count = 0
        for grant in self.grants.values():
            if grant.client_id == client_id and not grant.revoked:
                grant.revoked = True
                count += 1
        for refresh in self.refresh.values():
            if refresh.client_id == client_id:
                refresh.revoked = True
        return count

    def expire(self, person_id: str | None = None) -> int:
        """Expire access tokens now (of one person, or all); returns how many."""
        count = 0
        for grant in self.grants.values():
            if (person_id is None or grant.person_id == person_id) and not grant.revoked:
                grant.revoked = True
                count += 1
        return count

    def service_app_by_client(self, client_id: str) -> ServiceApp | None:
        """The Service App with ``client_id``."""
        return next((app for app in self.service_apps.values() if app.client_id == client_id),
                    None)
